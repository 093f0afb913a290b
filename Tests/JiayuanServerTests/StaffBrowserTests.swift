import Foundation
import JiayuanKit
import JiayuanTestSupport
import Testing

/// The staff console in a real browser: `jiayuan serve` printing through the private cupsd, driven by
/// `Tests/browser/staff_e2e.py` (selenium + axe-selenium-python, headless Debian Chromium). The printed
/// membership card is taken from the capture queue, its QR decoded with zbarimg and checked in.
@Suite("Staff console in Chromium")
struct StaffBrowserTests {
    @Test("log in, register, issue and print a card, day-care check-in/out with the fee, CSV read back; axe finds nothing serious")
    func consoleInChromium() async throws {
        guard let python = ScreenBrowserTests.python else {
            Issue.record("JIAYUAN_TEST_PYTHON is not set: run the suite through kiosk/test.sh")
            return
        }
        let cups = try PrivateCUPS.ownQueue("staff-e2e")
        let dir = TemporaryDirectory("staff-browser")
        defer { dir.remove() }
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)
        // Open all day, no minimum stay (the elder leaves the day care a moment after arriving), printing
        // through the private cupsd.
        var config = try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8)
        config = config.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("hours = ") ? "hours = \"24h\"" : String(line)
        }.joined(separator: "\n")
            .replacingOccurrences(of: "minimum_stay_seconds = 60", with: "minimum_stay_seconds = 0")
            .replacingOccurrences(of: "debounce_seconds = 5", with: "debounce_seconds = 0")
            .replacingOccurrences(of: "target = \"file:prints\"", with: "target = \"cups:\(cups.queue)\"")
            .replacingOccurrences(of: "# cups_server = \"localhost:631\"", with: "cups_server = \"\(cups.server)\"")
        try config.write(toFile: data + "/jiayuan.toml", atomically: true, encoding: .utf8)
        #expect(try Run.jiayuan(["staff", "add", "王芳", "--role", "admin", "--pin-stdin", "--data", data], stdin: Data("204719\n".utf8)).status == 0)

        let port = Loopback.freePort()
        let serve = try Run.startJiayuan(
            ["serve", "--data", data, "--port", String(port), "--no-scanners", "--assets", Run.packageRoot + "/assets"], log: dir.path + "/serve.log"
        ) { (try? Run.program("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/healthz"]).status) == 0 }
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        let out = dir.path + "/screenshots"
        let result = try await ScreenBrowserTests.runOffPool(
            python,
            [Run.packageRoot + "/Tests/browser/staff_e2e.py", "--url", "http://127.0.0.1:\(port)", "--name", "王芳", "--out", out],
            environment: ["PYTHONUNBUFFERED": "1", "STAFF_PIN": "204719"])
        let serveLog = (try? String(contentsOfFile: dir.path + "/serve.log", encoding: .utf8)) ?? ""
        #expect(result.status == 0 && result.stdout.contains("staff_e2e: PASSED"), "\(result.stdout)\n\(result.stderr)\n--- serve ---\n\(serveLog.suffix(3000))")
        let member = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("MEMBER=") }.map { String($0.dropFirst(7)) })

        // The membership card came out of the printer: its QR is the member's card, which checks in.
        var code: String?
        let deadline = Date().addingTimeInterval(20)
        while code == nil && Date() < deadline {
            for name in cups.capturedFiles() {
                guard let bytes = FileManager.default.contents(atPath: cups.captureDir + "/" + name) else { continue }
                code = try ESCPOSInspector([UInt8](bytes)).qrCodes().first { $0.hasPrefix("JY1:") }
                if code != nil { break }
            }
            if code == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        let jobs = try Run.jiayuan(["print", "list", "--data", data]).stdout
        let card = try #require(code, "no printed membership card with a JY1 QR in \(cups.captureDir): \(jobs)")
        let checkIn = try Run.program(
            "/usr/bin/curl",
            ["-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"code":"\#(card)","venue":"library"}"#,
             "http://127.0.0.1:\(port)/api/checkin"])
        #expect(checkIn.stdout.contains(#""outcome":"accepted""#) && checkIn.stdout.contains(member), "\(checkIn.stdout)")
        // The day-care fee receipt was printed too.
        let texts = cups.capturedFiles().compactMap { FileManager.default.contents(atPath: cups.captureDir + "/" + $0) }.map { ESCPOSInspector([UInt8]($0)).textLines.joined(separator: "\n") }
        #expect(texts.contains { $0.contains("¥") || $0.contains("￥") }, "a fee receipt was printed")

        // Screenshots as artefacts (and for the README with JIAYUAN_UPDATE_SCREENSHOTS=1).
        var destinations = [Run.packageRoot + "/.build/test-artefacts/screenshots"]
        if ProcessInfo.processInfo.environment["JIAYUAN_UPDATE_SCREENSHOTS"] == "1" { destinations.append(Run.packageRoot + "/docs/screenshots") }
        for docs in destinations where result.status == 0 {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            for name in ["staff-home.png", "staff-member.png", "staff-floor.png", "staff-figures.png"] {
                try? FileManager.default.removeItem(atPath: docs + "/" + name)
                try? FileManager.default.copyItem(atPath: out + "/" + name, toPath: docs + "/" + name)
            }
        }
    }
}
