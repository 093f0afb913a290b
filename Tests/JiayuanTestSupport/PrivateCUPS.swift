import Foundation
import Testing

/// The private cupsd that `kiosk/test.sh` starts (`kiosk/dev/cupsd.sh`), with its `capture` queue.
public struct PrivateCUPS: Sendable {
    /// `host:port` of the scheduler.
    public let server: String
    /// The cupsd.sh directory: `captured/` holds each job's bytes, `control/fail` makes the backend fail.
    public let dir: String
    /// The raw queue whose backend captures jobs.
    public var queue = "capture"

    /// The running private cupsd; fails the test (never skips) when the suite was not started by kiosk/test.sh.
    public static func running(sourceLocation: SourceLocation = #_sourceLocation) throws -> PrivateCUPS {
        let env = ProcessInfo.processInfo.environment
        let server = try #require(
            env["JIAYUAN_TEST_CUPS_SERVER"], "run the suite through kiosk/test.sh, which starts a private cupsd",
            sourceLocation: sourceLocation)
        let dir = try #require(env["JIAYUAN_TEST_CUPS_DIR"], "run the suite through kiosk/test.sh", sourceLocation: sourceLocation)
        return PrivateCUPS(server: server, dir: dir)
    }

    /// A new capture queue of this test's own (so a test that makes its printer fail stalls nobody else).
    public static func ownQueue(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PrivateCUPS {
        var cups = try running(sourceLocation: sourceLocation)
        let r = try Run.program("/bin/bash", [Run.packageRoot + "/kiosk/dev/cupsd.sh", "add-queue", cups.dir, name])
        try #require(r.status == 0, "cannot add queue \(name): \(r.stderr)", sourceLocation: sourceLocation)
        cups.queue = name
        return cups
    }

    /// The folder this queue's backend writes to.
    public var captureDir: String { queue == "capture" ? dir + "/captured" : dir + "/queues/\(queue)/captured" }
    var controlDir: String { queue == "capture" ? dir + "/control" : dir + "/queues/\(queue)/control" }

    /// The captured file of CUPS job `id`.
    public func captured(job id: Int) -> String { captureDir + "/job-\(id).bin" }

    /// Waits until CUPS job `id` has been captured; returns its bytes.
    /// (Sleeps with `Task.sleep`, never blocking a thread of the shared cooperative pool.)
    public func waitForCapture(job id: Int, timeout: Double = 20) async throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let data = FileManager.default.contents(atPath: captured(job: id)) { return [UInt8](data) }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Makes the capture backend fail (`offline`, `media-empty`) or work again (nil).
    public func setFailure(_ mode: String?) throws {
        let path = controlDir + "/fail"
        if let mode {
            try FileManager.default.createDirectory(atPath: controlDir, withIntermediateDirectories: true)
            try mode.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Files captured so far.
    public func capturedFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: captureDir)) ?? []).filter { $0.hasSuffix(".bin") }.sorted()
    }
}

/// Decodes the QR code in an image file (PNG, PBM …) with zbarimg and returns its text without the final
/// newline; fails the test (never skips) when zbarimg is missing or finds nothing.
public func zbarDecode(_ path: String, extraArguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try #require(
        FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg"), "zbarimg is missing: apt-get install zbar-tools",
        sourceLocation: sourceLocation)
    let r = try Run.program("/usr/bin/zbarimg", ["--nodbus", "--quiet", "--raw"] + extraArguments + [path])
    try #require(r.status == 0, "zbarimg exited with \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    var text = r.stdout
    if text.hasSuffix("\n") { text.removeLast() }
    return text
}

/// Writes image `bytes` to a temporary file with `suffix` and decodes it with zbarimg.
public func zbarDecode(
    image bytes: [UInt8], suffix: String, extraArguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation
)
    throws -> String
{
    let path = NSTemporaryDirectory() + "/jiayuan-qr-\(UUID().uuidString).\(suffix)"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try zbarDecode(path, extraArguments: extraArguments, sourceLocation: sourceLocation)
}

/// The demo config (`jiayuan init --demo`) with its printer lines changed: `target` (e.g. `cups:QUEUE`) in
/// place of `file:prints`, and `cups_server` set instead of its commented-out default. Nil leaves a line.
public func demoConfig(_ text: String, printerTarget target: String?, cupsServer: String?) -> String {
    var text = text
    if let target { text = text.replacingOccurrences(of: "target = \"file:prints\"", with: "target = \"\(target)\"") }
    if let cupsServer {
        text = text.replacingOccurrences(of: "# cups_server = \"localhost:631\"", with: "cups_server = \"\(cupsServer)\"")
    }
    return text
}
