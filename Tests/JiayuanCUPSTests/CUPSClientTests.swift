import Foundation
import JiayuanCUPS
import JiayuanProcess
import JiayuanTestSupport
import Testing

// These tests talk to a real, private cupsd started by kiosk/dev/cupsd.sh (kiosk/test.sh does that and
// sets JIAYUAN_TEST_CUPS_DIR and JIAYUAN_TEST_CUPS_SERVER). Every test prints to a capture queue of its own
// (`cupsd.sh add-queue`, the same backend as the shared `capture` queue): tests in other targets run in
// parallel in the same process and make `capture` fail on purpose, and these tests make their own queues
// fail without disturbing anyone.

/// The private cupsd the suite runs against.
struct CUPSTestServer {
    static let missing = "run the suite through kiosk/test.sh, which starts a private cupsd"

    let dir: URL
    let server: CUPSServer
    var client: CUPSClient { CUPSClient(server: server) }

    /// The private cupsd named by the environment; records a failure (never a skip) when there is none.
    static func fromEnvironment() throws -> CUPSTestServer {
        let environment = ProcessInfo.processInfo.environment
        let dir = try #require(
            environment["JIAYUAN_TEST_CUPS_DIR"].flatMap { $0.isEmpty ? nil : $0 },
            "JIAYUAN_TEST_CUPS_DIR is not set: \(missing)")
        let text = try #require(environment["JIAYUAN_TEST_CUPS_SERVER"], "JIAYUAN_TEST_CUPS_SERVER is not set: \(missing)")
        let server = try #require(CUPSServer.parse(text), "JIAYUAN_TEST_CUPS_SERVER=\(text) is not host:port: \(missing)")
        return CUPSTestServer(dir: URL(fileURLWithPath: dir), server: server)
    }

    /// The bytes the capture backend of `queue` wrote for a job.
    func captured(_ id: Int, queue: String) -> Data? {
        try? Data(contentsOf: captureDirectory(queue).appendingPathComponent("job-\(id).bin"))
    }

    func captureDirectory(_ queue: String) -> URL {
        queue == "capture" ? dir.appendingPathComponent("captured") : dir.appendingPathComponent("queues/\(queue)/captured")
    }

    func failFile(_ queue: String) -> URL {
        queue == "capture" ? dir.appendingPathComponent("control/fail") : dir.appendingPathComponent("queues/\(queue)/control/fail")
    }

    /// A new capture queue for one test, named after it.
    func addQueue(_ prefix: String) throws -> String {
        let name = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        try run(Self.cupsdScript.path, ["add-queue", dir.path, name])
        return name
    }

    /// Makes the queue's backend fail (`offline`, `media-empty-wait`, ...) or work again (nil).
    func setFail(_ queue: String, _ mode: String?) throws {
        if let mode {
            try Data((mode + "\n").utf8).write(to: failFile(queue), options: .atomic)
        } else if FileManager.default.fileExists(atPath: failFile(queue).path) {
            try FileManager.default.removeItem(at: failFile(queue))
        }
    }

    static let cupsdScript = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("kiosk/dev/cupsd.sh")

    func run(_ tool: String, _ arguments: [String]) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(tool) \(arguments.joined(separator: " ")) failed: \(text)")
    }
}

/// Polls `probe` every 50 ms until it returns a value, or fails after `seconds`.
func eventually<T>(within seconds: Double, _ what: String, _ probe: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if let value = try await probe() { return value }
        if Date() > deadline { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out after \(seconds) s waiting for \(what)")
    throw CancellationError()
}

/// Every byte value four times, then Chinese text in GB18030 (two- and four-byte sequences).
let receiptBytes: [UInt8] = {
    var bytes: [UInt8] = []
    for _ in 0..<4 { bytes += (0...255).map { UInt8($0) } }
    // "佳苑社区中心 签到成功：王小明\n" in GB18030
    bytes += [
        0xbc, 0xd1, 0xd4, 0xb7, 0xc9, 0xe7, 0xc7, 0xf8, 0xd6, 0xd0, 0xd0, 0xc4, 0x20, 0xc7, 0xa9, 0xb5,
        0xbd, 0xb3, 0xc9, 0xb9, 0xa6, 0xa3, 0xba, 0xcd, 0xf5, 0xd0, 0xa1, 0xc3, 0xf7, 0x0a,
    ]
    // "𠮷野家\n" (𠮷 is a four-byte GB18030 sequence)
    bytes += [0x95, 0x34, 0xb2, 0x35, 0xd2, 0xb0, 0xbc, 0xd2, 0x0a]
    return bytes
}()

@Suite("CUPS client against a private cupsd", .blocking)
struct CUPSClientTests {
    @Test("raw bytes (0x00…0xFF ×4 and GB18030 Chinese) arrive at the printer exactly as sent")
    func rawBytesArriveExactly() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("bytes")
        let id = try await client.submitRaw(queue: queue, title: "签到小票 test", data: receiptBytes)
        #expect(id > 0)
        let state = try await eventually(within: 30, "job \(id) to complete") {
            let state = try await client.jobState(id: id)
            return state.isFinished ? state : nil
        }
        #expect(state == .completed)
        let bytes = try #require(cups.captured(id, queue: queue), "nothing captured for job \(id)")
        #expect(Array(bytes) == receiptBytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cups.captureDirectory(queue).path) == ["job-\(id).bin"])
        let all = try await client.jobs(queue: queue, activeOnly: false)
        #expect(all.map(\.id) == [id])
        #expect(all.first?.state == .completed)
        #expect(try await client.jobs(queue: queue, activeOnly: true).isEmpty)
    }

    @Test("the async API submits and follows a job, also through the domain socket")
    func asyncThroughSocket() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let queue = try cups.addQueue("socket")
        let client = CUPSClient(server: CUPSServer(host: cups.dir.appendingPathComponent("cups.sock").path))
        let id = try await client.submitRaw(queue: queue, title: "socket", data: receiptBytes)
        _ = try await eventually(within: 30, "job \(id) to complete") {
            try await client.jobState(id: id) == .completed ? true : nil
        }
        #expect(try await client.jobStatus(id: id).state == .completed)
        #expect(cups.captured(id, queue: queue).map(Array.init) == receiptBytes)
    }

    @Test("concurrent submissions from many tasks each arrive once and intact")
    func concurrentSubmissions() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("concurrent")
        let ids = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for n in 0..<8 {
                group.addTask {
                    let data = Array("job \(n) 佳苑\n".utf8) + receiptBytes
                    return (try await client.submitRaw(queue: queue, title: "concurrent \(n)", data: data), data)
                }
            }
            return try await group.reduce(into: [(Int, [UInt8])]()) { $0.append($1) }
        }
        #expect(Set(ids.map(\.0)).count == 8)
        for (id, data) in ids {
            _ = try await eventually(within: 15, "job \(id) to complete") {
                try await client.jobState(id: id) == .completed ? true : nil
            }
            #expect(cups.captured(id, queue: queue).map(Array.init) == data)
        }
    }

    @Test("a healthy queue is idle, accepting, with no reasons")
    func healthyPrinterStatus() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let queue = try cups.addQueue("healthy")
        let status = try await cups.client.printerStatus(queue: queue)
        #expect(status.state == .idle)
        #expect(status.accepting)
        #expect(status.reasons.isEmpty)
        #expect(try await cups.client.printerStatus(queue: queue) == status)
    }

    @Test("offline printer (backend exits failed): the job is held, visible, and prints exactly once when back")
    func offlineThenBack() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("offline")
        try cups.setFail(queue, "offline")
        defer { try? cups.setFail(queue, nil) }

        let id = try await client.submitRaw(queue: queue, title: "offline", data: receiptBytes)
        let held = try await eventually(within: 30, "job \(id) to be held for a retry") {
            let status = try await client.jobStatus(id: id)
            return status.state == .held ? status : nil
        }
        // cupsd holds a failed job with resources-are-not-ready until it retries; it drops offline-report
        // from printer-state-reasons when a non-USB backend exits, so the backend's message is what shows.
        #expect(held.reasons.contains("resources-are-not-ready"))
        #expect(held.printerMessage?.contains("offline") == true)
        let printer = try await client.printerStatus(queue: queue)
        #expect(printer.accepting)
        #expect(printer.message?.contains("offline") == true)
        #expect(try await client.jobs(queue: queue, activeOnly: true).contains { $0.id == id && $0.state.isActive })

        try await Task.sleep(for: .seconds(1.5))
        #expect(try await client.jobState(id: id).isActive)
        #expect(cups.captured(id, queue: queue) == nil)

        try cups.setFail(queue, nil)
        // cupsd retries held jobs at its 10-second job check.
        _ = try await eventually(within: 25, "job \(id) to complete once the printer is back") {
            try await client.jobState(id: id) == .completed ? true : nil
        }
        #expect(cups.captured(id, queue: queue).map(Array.init) == receiptBytes)
        let files = try FileManager.default.contentsOfDirectory(atPath: cups.captureDirectory(queue).path)
        #expect(files == ["job-\(id).bin"])
        #expect(try await client.printerStatus(queue: queue).reasons.isEmpty)
    }

    @Test("offline printer (backend waits, like usb): the printer shows offline-report and prints when back")
    func offlineWaitingBackend() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("offline-wait")
        try cups.setFail(queue, "offline-wait")
        defer { try? cups.setFail(queue, nil) }

        let id = try await client.submitRaw(queue: queue, title: "offline-wait", data: receiptBytes)
        let printer = try await eventually(within: 30, "offline-report on \(queue)") {
            let status = try await client.printerStatus(queue: queue)
            return status.hasReason("offline") ? status : nil
        }
        #expect(printer.state == .processing)
        #expect(printer.reasons.contains("offline-report"))
        #expect(CUPSClient.explain(reason: "offline-report").en.contains("offline"))
        #expect(try await client.jobState(id: id) == .processing)
        #expect(cups.captured(id, queue: queue) == nil)

        try cups.setFail(queue, nil)
        _ = try await eventually(within: 30, "job \(id) to complete once the printer is back") {
            try await client.jobState(id: id) == .completed ? true : nil
        }
        #expect(cups.captured(id, queue: queue).map(Array.init) == receiptBytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: cups.captureDirectory(queue).path) == ["job-\(id).bin"])
        #expect(!(try await client.printerStatus(queue: queue).hasReason("offline")))
    }

    @Test("paper out: media-empty-error shows on the printer, and a waiting job can be canceled")
    func paperOut() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("paper-out")
        try cups.setFail(queue, "media-empty")
        defer { try? cups.setFail(queue, nil) }

        let id = try await client.submitRaw(queue: queue, title: "paper-out", data: receiptBytes)
        let printer = try await eventually(within: 30, "media-empty-error on \(queue)") {
            let status = try await client.printerStatus(queue: queue)
            return status.reasons.contains("media-empty-error") ? status : nil
        }
        #expect(printer.accepting)
        #expect(CUPSClient.explain(reason: printer.reasons[0]).zh.contains("纸"))
        #expect(try await client.jobState(id: id).isActive)

        try await client.cancelJob(id: id)
        _ = try await eventually(within: 30, "job \(id) to be canceled") {
            try await client.jobState(id: id) == .canceled ? true : nil
        }
        #expect(cups.captured(id, queue: queue) == nil)
    }

    @Test("a backend that stops the queue leaves it stopped (paused) until it is enabled again")
    func stoppedQueue() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = try cups.addQueue("stopped")
        try cups.setFail(queue, "stop")
        defer { try? cups.setFail(queue, nil) }

        let id = try await client.submitRaw(queue: queue, title: "stopped", data: receiptBytes)
        let printer = try await eventually(within: 30, "\(queue) to stop") {
            let status = try await client.printerStatus(queue: queue)
            return status.state == .stopped ? status : nil
        }
        #expect(printer.reasons.contains("paused"))
        #expect(try await client.jobState(id: id) == .pending)

        try cups.setFail(queue, nil)
        try cups.run("/usr/sbin/cupsenable", ["-h", cups.server.description, queue])
        _ = try await eventually(within: 30, "job \(id) to complete after cupsenable") {
            try await client.jobState(id: id) == .completed ? true : nil
        }
        #expect(cups.captured(id, queue: queue).map(Array.init) == receiptBytes)
    }

    @Test("an unknown queue or job is reported in plain words")
    func unknownQueueAndJob() async throws {
        let cups = try CUPSTestServer.fromEnvironment()
        let client = cups.client
        let queue = "no-such-queue-\(UInt32.random(in: 0...UInt32.max))"
        let submit = try #require(throws: CUPSError.self) {
            try client.submitRaw(queue: queue, title: "x", data: [0x1B, 0x40])
        }
        #expect(submit.kind == .queueNotFound)
        #expect(submit.message == "the printer queue \"\(queue)\" does not exist")
        #expect(submit.description == submit.message)
        let status = try #require(throws: CUPSError.self) { try client.printerStatus(queue: queue) }
        #expect(status.kind == .queueNotFound)
        #expect(status.message == "the printer queue \"\(queue)\" does not exist")
        let jobs = try #require(throws: CUPSError.self) { try client.jobs(queue: queue, activeOnly: true) }
        #expect(jobs.kind == .queueNotFound)
        let job = try #require(throws: CUPSError.self) { try client.jobState(id: 999_999) }
        #expect(job.kind == .jobNotFound)
        #expect(job.message.hasPrefix("print job 999999 does not exist"))
    }

    @Test("bad requests are refused before anything is sent")
    func invalidRequests() throws {
        let client = CUPSClient(server: CUPSServer(host: "127.0.0.1", port: 9))
        for name in ["", "two words", "a/b", "q#1", "line\nbreak", String(repeating: "x", count: 128)] {
            let error = try #require(throws: CUPSError.self) { try client.submitRaw(queue: name, title: "x", data: [1]) }
            #expect(error.kind == .invalidRequest)
        }
        let empty = try #require(throws: CUPSError.self) { try client.submitRaw(queue: "capture", title: "x", data: []) }
        #expect(empty.kind == .invalidRequest)
        #expect(throws: CUPSError.self) { try client.jobState(id: 0) }
    }

    @Test("an unreachable server fails quickly with a plain message")
    func unreachableServer() async throws {
        let port = try closedPort()
        let client = CUPSClient(server: CUPSServer(host: "127.0.0.1", port: port))
        let start = Date()
        let error = try #require(throws: CUPSError.self) {
            try client.submitRaw(queue: "capture", title: "x", data: receiptBytes)
        }
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(error.kind == .unreachable)
        #expect(error.message.hasPrefix("cannot reach the print server at 127.0.0.1:\(port)"))
        #expect(error.message.contains("refused"))

        // The async path fails the same way: refused at once, not a timeout.
        let asyncStart = Date()
        let asyncError = await #expect(throws: CUPSError.self) { try await client.printerStatus(queue: "capture") }
        #expect(Date().timeIntervalSince(asyncStart) < 5)
        #expect(asyncError?.kind == .unreachable)
        #expect(asyncError?.message.contains("refused") == true)

        let socket = CUPSClient(server: CUPSServer(host: "/nonexistent/jiayuan-\(port)/cups.sock"))
        let socketError = try #require(throws: CUPSError.self) { try socket.jobState(id: 1) }
        #expect(socketError.kind == .unreachable)
        #expect(socketError.message.hasPrefix("cannot reach the print server at /nonexistent/jiayuan-\(port)/cups.sock"))
    }
}

@Suite("CUPS server addresses and reasons")
struct CUPSPlainTests {
    @Test("server addresses parse like CUPS_SERVER")
    func parseServer() {
        #expect(CUPSServer.parse("127.0.0.1:8631") == CUPSServer(host: "127.0.0.1", port: 8631))
        #expect(CUPSServer.parse("/run/x/cups.sock") == CUPSServer(host: "/run/x/cups.sock", port: 631))
        #expect(CUPSServer.parse("/run/x/cups.sock")?.isDomainSocket == true)
        #expect(CUPSServer.parse("localhost") == CUPSServer(host: "localhost", port: 631))
        #expect(CUPSServer.parse(" printserver.local:631/version=1.1 ") == CUPSServer(host: "printserver.local", port: 631))
        #expect(CUPSServer.parse("[::1]:8631") == CUPSServer(host: "::1", port: 8631))
        #expect(CUPSServer.parse("::1") == CUPSServer(host: "::1", port: 631))
        for bad in ["", "   ", "host:", "host:0", "host:65536", "host:12ab", "[::1", "two words:631", ":631"] {
            #expect(CUPSServer.parse(bad) == nil, "\(bad) should not parse")
        }
        #expect(CUPSServer(host: "127.0.0.1", port: 8631).description == "127.0.0.1:8631")
        #expect(CUPSServer(host: "::1", port: 631).description == "[::1]:631")
        #expect(CUPSServer(host: "/run/x/cups.sock").description == "/run/x/cups.sock")
    }

    @Test("printer-state-reasons are explained in Chinese and English")
    func explainReasons() {
        let paper = CUPSClient.explain(reason: "media-empty-error")
        #expect(paper.zh == "打印机没纸了，请装入新的纸卷")
        #expect(paper.en.contains("out of paper"))
        #expect(CUPSClient.explain(reason: "media-empty-warning") == paper)
        #expect(CUPSClient.explain(reason: "media-empty") == paper)
        #expect(CUPSClient.explain(reason: "media-jam-error").zh.contains("卡纸"))
        #expect(CUPSClient.explain(reason: "offline-report").en.contains("offline"))
        #expect(CUPSClient.explain(reason: "paused").zh.contains("暂停"))
        #expect(CUPSClient.explain(reason: "cover-open-error").zh.contains("盖"))
        #expect(CUPSClient.explain(reason: "door-open-warning").en.contains("door"))
        #expect(CUPSClient.explain(reason: "toner-low-report").en.contains("toner"))
        #expect(CUPSClient.explain(reason: "marker-supply-empty-error").en.contains("ink"))
        #expect(CUPSClient.explain(reason: "connecting-to-device").zh.contains("连接"))
        let other = CUPSClient.explain(reason: "com.example-fan-broken-error")
        #expect(other.zh == "com.example-fan-broken-error" && other.en == "com.example-fan-broken-error")
    }

    @Test("job states map from IPP values")
    func jobStates() {
        #expect(
            (3...9).compactMap { CUPSJobState(ippValue: $0) } == [.pending, .held, .processing, .stopped, .canceled, .aborted, .completed])
        #expect(CUPSJobState(ippValue: 2) == nil)
        #expect(CUPSJobState.allCases.allSatisfy { CUPSJobState(ippValue: $0.ippValue) == $0 })
        #expect(CUPSJobState.allCases.filter(\.isActive) == [.pending, .held, .processing])
        #expect(CUPSJobState.allCases.filter(\.isFinished) == [.canceled, .aborted, .completed])
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
func closedPort() throws -> Int {
    #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(bound == 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
