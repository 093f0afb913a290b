import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanKiosk
import JiayuanProcess

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP proxy in front of the hub that injects real network faults, request by request: a 500 answer,
/// a stalled connection, or the hub's reply thrown away after the hub has committed (the connection is
/// cut before the kiosk reads it).
public final class FaultProxy: @unchecked Sendable {
    /// What to do with one request.
    public enum Fault: Sendable, Equatable {
        case pass
        /// Answer `500 Internal Server Error` without asking the hub.
        case fail500
        /// Hold the connection without answering for this many seconds, then close it.
        case stall(Double)
        /// Forward to the hub, read its complete reply, then close the kiosk's connection without it.
        case dropReply
    }

    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var count = 0
    private var faults: [Fault] = []
    private var stopped = false
    private let plan: @Sendable (Int) -> Fault

    /// Requests seen so far.
    public var requests: Int { lock.withLock { count } }
    /// The faults injected, in order.
    public var injected: [Fault] { lock.withLock { faults } }

    /// Starts a proxy on a free loopback port forwarding to `upstreamPort`; `plan(n)` picks the fault of
    /// the n-th request (from 1).
    public init(upstreamPort: Int, plan: @escaping @Sendable (Int) -> Fault) throws {
        self.upstreamPort = upstreamPort
        self.plan = plan
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw KioskError("the fault proxy cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting.
    public func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                continue
            }
            Thread { [self] in serve(client) }.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var pending: [UInt8] = []
        while let request = Self.readMessage(client, buffer: &pending) {
            let n = lock.withLock { () -> Int in
                count += 1
                return count
            }
            let fault = plan(n)
            lock.withLock { faults.append(fault) }
            switch fault {
            case .fail500:
                Self.send(
                    client,
                    Array(
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 21\r\nContent-Type: text/plain\r\n\r\ninjected server error"
                            .utf8))
            case .stall(let seconds):
                Thread.sleep(forTimeInterval: seconds)
                return
            case .pass, .dropReply:
                guard let reply = forward(request) else { return }
                if fault == .dropReply { return }
                Self.send(client, reply)
            }
        }
    }

    private func forward(_ request: [UInt8]) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(upstreamPort).bigEndian)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return nil }
        Self.send(fd, request)
        var pending: [UInt8] = []
        return Self.readMessage(fd, buffer: &pending)
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads one HTTP/1.1 message (headers and a Content-Length body); nil at end of stream.
    static func readMessage(_ fd: Int32, buffer: inout [UInt8]) -> [UInt8]? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        var headerEnd: Int?
        while headerEnd == nil {
            if let r = buffer.firstRange(of: separator) { headerEnd = r.upperBound } else if !fill() { return nil }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).lowercased()
        var length = 0
        for line in head.split(separator: "\r\n") where line.hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        while buffer.count < headerEnd! + length { if !fill() { return nil } }
        let message = Array(buffer[0..<(headerEnd! + length)])
        buffer.removeFirst(headerEnd! + length)
        return message
    }
}

/// A `jiayuan-hub serve` process on a fixed port, which a test can kill (SIGKILL) and start again.
public final class HubProcess: @unchecked Sendable {
    public let port: Int
    public let data: String
    public let database: String?
    public let logPath: String
    /// Extra environment for the process (`NOTIFY_SOCKET`, `WATCHDOG_USEC`).
    public let environment: [String: String]
    /// Extra `serve` arguments (`--max-in-flight 4` …).
    public let serveArguments: [String]
    private var process: ChildProcess?

    /// The process id while it runs.
    public var pid: Int32? { process.flatMap { $0.isRunning ? $0.processIdentifier : nil } }

    /// The hub's base address.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// Starts a hub with its data in `data` (and `database`, a PostgreSQL URL, when given).
    public init(
        data: String, database: String?, port: Int = Loopback.freePort(), environment: [String: String] = [:], serveArguments: [String] = []
    ) throws {
        self.port = port
        self.environment = environment
        self.serveArguments = serveArguments
        self.data = data
        self.database = database
        logPath = data + "/hub-\(port).log"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try start()
    }

    /// The `--data`/`--database` arguments.
    public var storeArguments: [String] { ["--data", data] + (database.map { ["--database", $0] } ?? []) }

    /// Starts the process and waits until `/healthz` answers.
    public func start() throws {
        let health = url + "/healthz"
        process = try Run.startJiayuan(
            ["serve", "--port", String(port)] + storeArguments + serveArguments, log: logPath, environment: environment, poll: 0.05,
            binary: Run.hubBinary
        ) {
            (try? Run.program("/usr/bin/curl", ["-sf", "-o", "/dev/null", health]).status) == 0
        }
    }

    /// SIGKILL, no goodbye.
    public func kill() {
        guard let p = process, p.isRunning else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Stops it gracefully.
    public func stop() {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        p.waitUntilExit()
    }

    /// SIGTERM (as systemd stops it) and the exit status.
    public func terminate() -> Int32? {
        guard let p = process, p.isRunning else { return nil }
        p.terminate()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// Issues a token for a kiosk.
    public func addToken(kiosk: String, centre: String) throws -> String {
        let r = try Run.hub(["token", "add", kiosk, "--centre", centre] + storeArguments)
        guard r.status == 0 else { throw KioskError("token add failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Where the private PostgreSQL server of the test command is (`JIAYUAN_TEST_POSTGRES_URL`), if running.
public enum TestPostgres {
    public static var url: String? {
        ProcessInfo.processInfo.environment["JIAYUAN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A fresh database on the private server for one test (dropped and created), as a URL.
    public static func freshDatabase(_ name: String) throws -> String? {
        guard let url, let slash = url.lastIndex(of: "/") else { return nil }
        let admin = String(url[..<slash]) + "/postgres"
        for sql in ["DROP DATABASE IF EXISTS \(name) WITH (FORCE)", "CREATE DATABASE \(name)"] {
            let r = try Run.program("/usr/bin/psql", [admin, "-v", "ON_ERROR_STOP=1", "-qc", sql])
            guard r.status == 0 else { throw KioskError("psql failed: \(r.stderr)") }
        }
        return String(url[...slash]) + name
    }
}
