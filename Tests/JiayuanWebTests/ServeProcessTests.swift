import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan serve` as a real process: a FIFO scanner, HTTP, server-sent events, sd_notify, SIGTERM.
@Suite("jiayuan serve, end to end", .blocking)
struct ServeProcessTests {
    /// A bound unix datagram socket standing in for systemd's notify socket.
    static func notifySocket(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func receiveAll(_ fd: Int32) -> [String] {
        var out: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
        return out
    }

    static func get(_ url: String, maxTime: Double = 5) throws -> ProcessResult {
        try Run.program("/usr/bin/curl", ["-s", "-N", "--max-time", String(maxTime), "-w", "\n%{http_code}", url])
    }

    @Test("serve answers /healthz, takes a code from the FIFO scanner, streams the decision, pings systemd and stops on SIGTERM")
    func endToEnd() async throws {
        let dir = TemporaryDirectory("serve")
        defer { dir.remove() }
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)
        // Bind the FIFO scanner to the 24-hour veterans' corner so the result does not depend on the time of day.
        let configPath = data + "/jiayuan.toml"
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "source = \"fifo:scan.fifo\"", with: "source = \"fifo:scan.fifo\"\nvenue = \"veterans\"")
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let code = try Run.jiayuan(["card", "show", "M000001", "--data", data]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        let port = Loopback.freePort()
        let notifyPath = dir.path + "/notify.sock"
        let notify = Self.notifySocket(notifyPath)
        defer { close(notify) }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        process.arguments = [
            "serve", "--data", data, "--port", String(port), "--console-port", "0", "--assets", Run.packageRoot + "/assets",
        ]
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = notifyPath
        env["WATCHDOG_USEC"] = "1000000"
        process.environment = env
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Up within a few seconds.
        var healthy = false
        for _ in 0..<100 {
            if let r = try? Self.get("http://127.0.0.1:\(port)/healthz", maxTime: 1), r.stdout.hasSuffix("200") {
                healthy = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(healthy)
        // Listening on loopback only: /proc/net/tcp lists the socket as 0100007F:PORT in state 0A (LISTEN).
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let hexPort = String(format: "%04X", port)
        let listening = table.split(separator: "\n").filter { $0.contains(":\(hexPort) ") && $0.contains(" 0A ") }
        #expect(!listening.isEmpty && listening.allSatisfy { $0.contains("0100007F:\(hexPort)") })

        // Listen to the stream, then scan.
        let stream = ChildProcess()
        stream.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        stream.arguments = ["-s", "-N", "--max-time", "6", "http://127.0.0.1:\(port)/api/stream"]
        let streamOut = Pipe()
        stream.standardOutput = streamOut
        try stream.run()
        try await Task.sleep(for: .milliseconds(500))
        let fifo = FileHandle(forWritingAtPath: data + "/scan.fifo")
        let writer = try #require(fifo, "the FIFO scanner was not created")
        writer.write(Data((code + "\n").utf8))
        try writer.close()
        stream.waitUntilExit()
        let events = String(decoding: streamOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(events.contains("event: occupancy"))
        #expect(events.contains("event: decision"))
        #expect(events.contains("\"venue\":\"veterans\"") && events.contains("\"outcome\":\"accepted\""))
        #expect(events.contains("\"display_name\":\""))

        let messages = Self.receiveAll(notify).joined(separator: "\n")
        #expect(messages.contains("READY=1"))
        #expect(messages.contains("WATCHDOG=1"))

        // SIGTERM: a graceful stop.
        let started = Date()
        process.terminate()
        process.waitUntilExit()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(process.terminationStatus == 0)
        let verify = try Run.jiayuan(["verify", "--data", data])
        #expect(verify.status == 0 && verify.stdout.contains("1 events"))
    }
}
