import Foundation
import JiayuanProcess

/// The result of running a program.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutData: Data
}

/// Runs programs for end-to-end tests.
public enum Run {
    /// The package root (found from this file's path).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The built `jiayuan` binary: `$JIAYUAN_BIN`, else the debug build next to the tests.
    public static var jiayuanBinary: String {
        if let bin = ProcessInfo.processInfo.environment["JIAYUAN_BIN"], !bin.isEmpty { return bin }
        for candidate in [".build/debug/jiayuan", ".build/release/jiayuan"] {
            let path = packageRoot + "/" + candidate
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return packageRoot + "/.build/debug/jiayuan"
    }

    /// The built `jiayuan-hub` binary: `$JIAYUAN_HUB_BIN`, else beside the `jiayuan` binary.
    public static var hubBinary: String {
        if let bin = ProcessInfo.processInfo.environment["JIAYUAN_HUB_BIN"], !bin.isEmpty { return bin }
        return (jiayuanBinary as NSString).deletingLastPathComponent + "/jiayuan-hub"
    }

    /// Runs the `jiayuan-hub` binary.
    public static func hub(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try program(hubBinary, arguments, stdin: stdin, environment: environment)
    }

    /// Runs `executable` with `arguments`, feeding `stdin`, and waits for it.
    public static func program(
        _ executable: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]
    ) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "JIAYUAN_DATA")
        for (k, v) in environment { env[k] = v }
        // posix_spawn, not Foundation's Process.run, which crashes now and then with many descriptors open
        // (swift-corelibs-foundation PR #5472): see `Spawn`.
        let r = try Spawn.capture(executable, arguments, environment: env, stdin: stdin ?? Data())
        return ProcessResult(
            status: r.status, stdout: String(decoding: r.stdout, as: UTF8.self), stderr: String(decoding: r.stderr, as: UTF8.self),
            stdoutData: r.stdout)
    }

    /// Runs the `jiayuan` binary.
    public static func jiayuan(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try program(jiayuanBinary, arguments, stdin: stdin, environment: environment)
    }

    /// Starts the `jiayuan` binary (or another build of it) in the background with its output appended to
    /// `log`, and waits until `ready()` holds (polled every `poll` seconds) or the process ends or `timeout` passes.
    public static func startJiayuan(
        _ arguments: [String], log: String, environment: [String: String] = [:], timeout: Double = 20, poll: Double = 0.02,
        binary: String = jiayuanBinary, ready: () -> Bool
    ) throws -> ChildProcess {
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if ready() { return p }
            guard p.isRunning else { break }
            Thread.sleep(forTimeInterval: poll)
        }
        if p.isRunning { p.terminate() }
        let tail = (try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? ""
        throw StartError(message: "jiayuan \(arguments.first ?? "") did not start: \(tail)")
    }

    /// A background process that did not come up.
    public struct StartError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
