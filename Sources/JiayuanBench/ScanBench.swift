import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanProcess
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan bench scan`: FIFO-to-screen latency of a running `jiayuan serve`, beside the bare engine;
/// cold start to a 200 from `/healthz` with a large log; idle RSS.
public enum ScanBench {
    /// Results of one run.
    public struct Figures: Sendable {
        public var scanLatencies: [Double]
        public var engineLatencies: [Double]
        public var coldStart: Double?
        public var coldStartEvents: Int
        public var idleRSS: Resident?
        public var afterScansRSS: Resident?
    }

    /// A process's resident memory in KiB (`/proc/PID/smaps`): its own binary, other mapped files (shared
    /// libraries, the database's shared memory), and anonymous memory (heap, stacks, written data).
    public struct Resident: Sendable {
        public var total = 0
        public var binary = 0
        public var files = 0
        public var anonymous = 0

        /// Reads the resident memory of process `pid`; nil when it is gone.
        public static func of(_ pid: pid_t) -> Resident? {
            guard let smaps = readProcFile("/proc/\(pid)/smaps") else { return nil }
            let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
            var r = Resident()
            var path = ""
            for line in smaps.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard let first = fields.first else { continue }
                if first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                    path = fields.count >= 6 ? fields[5...].joined(separator: " ") : ""
                } else if first == "Rss:", fields.count >= 2, let kib = Int(fields[1]) {
                    r.total += kib
                    if path == exe { r.binary += kib } else if path.hasPrefix("/") { r.files += kib } else { r.anonymous += kib }
                }
            }
            return r
        }

        /// A /proc file read to its end (they report a size of 0, and Foundation stops reading early).
        static func readProcFile(_ path: String) -> String? {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                bytes += chunk[..<n]
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Runs the benchmark with the `jiayuan` binary at `binary`, in a temporary folder under `directory`.
    public static func run(binary: String, directory: String, count: Int, events: Int, log: (String) -> Void) throws -> Figures {
        let base = directory + "/jiayuan-bench-scan-\(getpid())"
        try? FileManager.default.removeItem(atPath: base)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }

        // The bare engine, same settings, same disk.
        let (engineData, engineCodes) = try prepareAllDayKiosk(base + "/engine")
        let service = try CheckInService(kiosk: try Kiosk.open(engineData))
        var engineLatencies: [Double] = []
        let clock = ContinuousClock()
        for i in 0..<count {
            let t0 = clock.now
            _ = try service.checkIn(code: engineCodes[i % engineCodes.count], venue: "veterans")
            engineLatencies.append((clock.now - t0).seconds)
        }
        log("engine: \(count) check-ins done")

        // The served path: FIFO → scanner thread → engine → SSE.
        let (servedData, codes) = try prepareAllDayKiosk(base + "/served")
        let port = Loopback.freePort()
        let server = try Spawn.start(binary, ["serve", "--data", servedData.path, "--port", String(port), "--console-port", "0"])
        defer { kill(server, SIGTERM); var s: Int32 = 0; waitpid(server, &s, 0) }
        _ = try waitForHealth(port: port, timeout: 30)
        let stream = try SSEClient(port: port, path: "/api/stream")
        let fifo = open(servedData.path + "/scan.fifo", O_WRONLY)
        guard fifo >= 0 else { throw KioskError("cannot open the scanner FIFO") }
        defer { close(fifo) }
        var scanLatencies: [Double] = []
        for i in 0..<count {
            let line = Array((codes[i % codes.count] + "\n").utf8)
            let t0 = clock.now
            _ = line.withUnsafeBytes { write(fifo, $0.baseAddress, $0.count) }
            try stream.waitFor(event: "decision", timeout: 10)
            scanLatencies.append((clock.now - t0).seconds)
        }
        log("served: \(count) scans done")

        // RSS of the server after the scans.
        Thread.sleep(forTimeInterval: 1)
        let busyRSS = Resident.of(server)

        // Cold start with a large log, then the idle RSS of that freshly started kiosk.
        var cold: Double?
        var idleRSS: Resident?
        if events > 0 {
            let (bigData, _) = try prepareAllDayKiosk(base + "/big")
            try fillLog(bigData.databasePath, events: events, log: log)
            let bigPort = Loopback.freePort()
            let t0 = clock.now
            let big = try Spawn.start(
                binary, ["serve", "--data", bigData.path, "--port", String(bigPort), "--console-port", "0", "--no-scanners"])
            defer { kill(big, SIGTERM); var s: Int32 = 0; waitpid(big, &s, 0) }
            _ = try waitForHealth(port: bigPort, timeout: 60)
            cold = (clock.now - t0).seconds
            Thread.sleep(forTimeInterval: 2)
            idleRSS = Resident.of(big)
        }
        return Figures(
            scanLatencies: scanLatencies.sorted(), engineLatencies: engineLatencies.sorted(), coldStart: cold, coldStartEvents: events,
            idleRSS: idleRSS, afterScansRSS: busyRSS)
    }

    /// A demo kiosk whose venues are open all day, with no debounce or minimum stay so every scan is recorded,
    /// and the FIFO scanner bound to the veterans' corner; returns the codes of the members it admits.
    public static func prepareAllDayKiosk(_ path: String) throws -> (DataDirectory, [String]) {
        let data = DataDirectory(path: path)
        var rng = SeededRandom(seed: 1)
        let result = try data.initialize(kioskID: "bench", demo: true, now: Date(), rng: &rng)
        var text = try String(contentsOfFile: data.configPath, encoding: .utf8)
        text = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("hours = ") ? "hours = \"24h\"" : String(line)
        }.joined(separator: "\n")
        text = text.replacingOccurrences(of: "debounce_seconds = 5", with: "debounce_seconds = 0")
            .replacingOccurrences(of: "minimum_stay_seconds = 60", with: "minimum_stay_seconds = 0")
            .replacingOccurrences(of: "source = \"fifo:scan.fifo\"", with: "source = \"fifo:scan.fifo\"\nvenue = \"veterans\"")
            .replacingOccurrences(of: "voice = true", with: "voice = false")
            .replacingOccurrences(of: "capacity = 50", with: "capacity = 100000")
        try text.write(toFile: data.configPath, atomically: true, encoding: .utf8)
        let codes = result.demoMembers.filter { [.veteran, .serviceman, .militaryFamily].contains($0.0.group) }.map(\.1.code)
        return (data, codes)
    }

    /// Appends `events` chained check-in events straight into the log, in one transaction.
    static func fillLog(_ path: String, events: Int, log: (String) -> Void) throws {
        try SyntheticLog.append(to: try AppDatabase.open(path: path), count: events, venues: ["veterans"])
        log("log filled with \(events) events")
    }

    /// Polls `/healthz` until it answers 200.
    static func waitForHealth(port: Int, timeout: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = try? httpStatus(port: port, path: "/healthz"), status == 200 { return true }
            usleep(2000)
        }
        throw KioskError("the kiosk did not answer /healthz within \(Int(timeout)) s")
    }

    static func httpStatus(port: Int, path: String) throws -> Int {
        let fd = try connectLoopback(port)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 12 else { return 0 }
        return Int(String(decoding: buffer[9..<12], as: UTF8.self)) ?? 0
    }

    static func connectLoopback(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw KioskError("connection refused")
        }
        return fd
    }

    /// A minimal server-sent-events reader over a plain socket.
    final class SSEClient {
        let fd: Int32
        var pending = ""

        init(port: Int, path: String) throws {
            fd = try ScanBench.connectLoopback(port)
            let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }

        deinit { close(fd) }

        /// Reads until an event named `event` has arrived.
        func waitFor(event: String, timeout: Double) throws {
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                if let range = pending.range(of: "event: \(event)\n") {
                    pending = String(pending[range.upperBound...])
                    return
                }
                guard Date() < deadline else { throw KioskError("no \(event) event within \(timeout) s") }
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 1000) > 0 else { continue }
                let n = read(fd, &buffer, buffer.count)
                guard n > 0 else { throw KioskError("the event stream closed") }
                pending += String(decoding: buffer[0..<n], as: UTF8.self)
            }
        }
    }
}
