import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanTestSupport
import Testing

/// The staff console in a real browser, by keyboard alone: `jiayuan serve` with the console on its own
/// port, printing through the private cupsd, driven by `Tests/browser/staff_e2e.py` (selenium +
/// axe-selenium-python, headless Debian Chromium). The cards printed from the console are taken from the
/// capture queue and their QR codes decoded: the scanned member's card printed again is the same card, and
/// the new member's first card checks in.
@Suite("Staff console in Chromium", .blocking)
struct StaffBrowserTests {
    /// Every console page the walk photographs (docs/screenshots/staff-*.png).
    static let pages = ["login", "home", "members", "member", "register", "floor", "slips", "figures", "audit"]

    @Test(
        "by keyboard: log in, find by scan, print, register and issue a card, floor check-out with the fee, a slip, figures, CSV; axe finds nothing on any page"
    )
    func consoleInChromium() async throws {
        guard let python = ScreenBrowserTests.python else {
            Issue.record("JIAYUAN_TEST_PYTHON is not set: run the suite through kiosk/test.sh")
            return
        }
        let cups = try PrivateCUPS.ownQueue("staff-e2e")
        // Only what this run prints counts (the queue keeps earlier runs' captures while cupsd lives).
        let earlier = Set(cups.capturedFiles())
        let printed = { cups.capturedFiles().filter { !earlier.contains($0) } }
        let dir = TemporaryDirectory("staff-browser")
        defer { dir.remove() }
        let data = dir.path + "/data"
        // The demo kiosk brings its own admin account (DemoData.staffName / staffPIN) and carded members.
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)
        // Open all day, no minimum stay (the elder leaves the day care a moment after arriving), printing
        // through the private cupsd.
        var config = demoConfig(
            try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8), printerTarget: "cups:\(cups.queue)",
            cupsServer: cups.server)
        config = config.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("hours = ") ? "hours = \"24h\"" : String(line)
        }.joined(separator: "\n")
            .replacingOccurrences(of: "minimum_stay_seconds = 60", with: "minimum_stay_seconds = 0")
            .replacingOccurrences(of: "debounce_seconds = 5", with: "debounce_seconds = 0")
        try config.write(toFile: data + "/jiayuan.toml", atomically: true, encoding: .utf8)
        // The card the browser "scans" (typed in as a scanner types it).
        let scanned = "M000001"
        let shown = try Run.jiayuan(["card", "show", scanned, "--data", data])
        let scannedCard = shown.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(shown.status == 0 && scannedCard.hasPrefix("JY1:"), "card show: \(shown.stderr)")

        let door = Loopback.freePort()
        let console = Loopback.freePort()
        let log = dir.path + "/serve.log"
        let serve = try Run.startJiayuan(
            [
                "serve", "--data", data, "--port", String(door), "--console-port", String(console), "--no-scanners", "--assets",
                Run.packageRoot + "/assets",
            ], log: log, timeout: 60, poll: 0.05
        ) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("staff console ready") }
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        let out = dir.path + "/screenshots"
        let result = try await ScreenBrowserTests.runOffPool(
            python,
            [
                Run.packageRoot + "/Tests/browser/staff_e2e.py", "--url", "http://127.0.0.1:\(console)", "--door",
                "http://127.0.0.1:\(door)",
                "--name", DemoData.staffName, "--scan-member", scanned, "--out", out,
            ],
            // The PIN and the card code go by the environment, not the command line.
            environment: ["PYTHONUNBUFFERED": "1", "JIAYUAN_E2E_PIN": DemoData.staffPIN, "JIAYUAN_E2E_CARD": scannedCard])
        let serveLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(result.stdout.contains("axe-core 4."), "the audit ran with a current axe-core (kiosk/test.sh's venv)")
        #expect(
            result.status == 0 && result.stdout.contains("staff_e2e: PASSED"),
            "\(result.stdout)\n\(result.stderr)\n--- serve ---\n\(serveLog.suffix(3000))")
        let member = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("MEMBER=") }.map { String($0.dropFirst(7)) })

        // Both cards came out of the printer: the scanned member's, printed again, is the same card; the new
        // member's first card checks in as that member.
        var codes: Set<String> = []
        let deadline = Date().addingTimeInterval(30)
        while codes.count < 2 && Date() < deadline {
            codes = []
            for name in printed() {
                guard let bytes = FileManager.default.contents(atPath: cups.captureDir + "/" + name) else { continue }
                codes.formUnion(try ESCPOSInspector([UInt8](bytes)).qrCodes().filter { $0.hasPrefix("JY1:") })
            }
            if codes.count < 2 { try await Task.sleep(for: .milliseconds(200)) }
        }
        let jobs = try Run.jiayuan(["print", "list", "--data", data]).stdout
        #expect(codes.contains(scannedCard), "the scanned member's card was printed again unchanged: \(codes) \(jobs)")
        let newCard = try #require(codes.subtracting([scannedCard]).first, "no printed card for \(member) in \(cups.captureDir): \(jobs)")
        let checkIn = try Run.program(
            "/usr/bin/curl",
            [
                "-s", "-X", "POST", "-H", "Content-Type: application/json", "-d", #"{"code":"\#(newCard)","venue":"library"}"#,
                "http://127.0.0.1:\(door)/api/checkin",
            ])
        #expect(checkIn.stdout.contains(#""outcome":"accepted""#) && checkIn.stdout.contains(member), "\(checkIn.stdout)")
        // The day-care fee receipt and the queue ticket were printed too.
        let texts = printed().compactMap { FileManager.default.contents(atPath: cups.captureDir + "/" + $0) }.map {
            ESCPOSInspector([UInt8]($0)).textLines.joined(separator: "\n")
        }
        #expect(texts.contains { $0.contains("¥") || $0.contains("￥") }, "a fee receipt was printed")
        #expect(texts.contains { $0.contains("queue ticket") }, "a queue ticket was printed")

        // Screenshots as artefacts (and for the README with JIAYUAN_UPDATE_SCREENSHOTS=1).
        var destinations = [Run.packageRoot + "/.build/test-artefacts/screenshots"]
        if ProcessInfo.processInfo.environment["JIAYUAN_UPDATE_SCREENSHOTS"] == "1" {
            destinations.append(Run.packageRoot + "/docs/screenshots")
        }
        for docs in destinations where result.status == 0 {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            for page in Self.pages {
                let name = "staff-\(page).png"
                #expect(FileManager.default.fileExists(atPath: out + "/" + name), "the walk photographed \(page)")
                try? FileManager.default.removeItem(atPath: docs + "/" + name)
                try? FileManager.default.copyItem(atPath: out + "/" + name, toPath: docs + "/" + name)
            }
        }
    }
}
