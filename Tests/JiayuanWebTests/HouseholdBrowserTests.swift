import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

/// Household check-in on the resident screen in headless Chromium (issue 16): `jiayuan serve` with the demo
/// data and its FIFO scanner, driven by `Tests/browser/household_e2e.py`. A guardian's card goes into the FIFO,
/// the children's club is chosen, one of three children unticked, the drop-off confirmed; the pickup slip the
/// spooler printed is read back (ESC/POS) and its QR decoded with zbarimg; the guardian's card opens the code
/// pad (the code typed, then Cancel); the slip's text into the FIFO collects the two children. axe-core finds no violation on the new screens.
@Suite("Household check-in in headless Chromium", .blocking)
struct HouseholdBrowserTests {
    @Test("guardian card → choose the club → untick one child → confirm → code and slip; the slip's QR collects the others")
    func householdInChromium() async throws {
        guard let python = ScreenBrowserTests.python else {
            Issue.record("JIAYUAN_TEST_PYTHON is not set: run the suite through kiosk/test.sh")
            return
        }
        let dir = TemporaryDirectory("household-browser")
        defer { dir.remove() }
        let data = dir.path + "/data"
        let out = dir.path + "/screenshots"
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)
        // Every venue open around the clock, so the club takes children whatever the time of day; a minimum stay
        // of 1 s, so the slip may collect the children a moment after the drop-off (60 s by default).
        let configPath = data + "/jiayuan.toml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        let edited = config.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("hours = ")
                ? "hours = \"24h\"" : line.hasPrefix("minimum_stay_seconds") ? "minimum_stay_seconds = 1" : String(line)
        }.joined(separator: "\n")
        #expect(edited.contains("minimum_stay_seconds = 1"))
        try edited.write(toFile: configPath, atomically: true, encoding: .utf8)

        func cli(_ args: [String]) throws -> String {
            let r = try Run.jiayuan(args + ["--data", data])
            try #require(r.status == 0, "\(args.first ?? ""): \(r.stderr)")
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let mum = try cli(["member", "add", "--name", "陈丽", "--group", "resident", "--born", "1985"])
        let children = try ["陈子涵", "陈子豪", "陈子琪"].map { name in
            try cli(["member", "add", "--name", name, "--group", "child", "--born", "2016", "--guardian", mum])
        }
        let card = try #require(try cli(["card", "issue", mum]).split(separator: "\n").last { $0.hasPrefix("JY1:") }.map(String.init))

        let port = Loopback.freePort()
        let logPath = dir.path + "/serve.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try #require(FileHandle(forWritingAtPath: logPath))
        defer { try? log.close() }
        let serve = ChildProcess()
        serve.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        serve.arguments = ["serve", "--data", data, "--port", String(port), "--console-port", "0", "--assets", Run.packageRoot + "/assets"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "JIAYUAN_DATA")
        env.removeValue(forKey: "NOTIFY_SOCKET")
        serve.environment = env
        serve.standardOutput = log
        serve.standardError = log
        try serve.run()
        defer { if serve.isRunning { serve.terminate() } }
        var healthy = false
        for _ in 0..<100 {
            if let r = try? ServeProcessTests.get("http://127.0.0.1:\(port)/healthz", maxTime: 1), r.stdout.hasSuffix("200") {
                healthy = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(healthy, "jiayuan serve did not answer /healthz")
        let script = Run.packageRoot + "/Tests/browser/household_e2e.py"
        func serveLog() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

        // Phase 1: the drop-off on screen, the third child unticked.
        let first = try await ScreenBrowserTests.runOffPool(
            python,
            [
                script, "--phase", "dropoff", "--url", "http://127.0.0.1:\(port)", "--fifo", data + "/scan.fifo", "--code", card,
                "--untick", children[2], "--out", out,
            ], environment: ["PYTHONUNBUFFERED": "1"])
        let firstLog = "household_e2e.py dropoff:\n\(first.stdout)\n\(first.stderr)\n--- serve ---\n" + serveLog()
        try #require(first.status == 0, "\(firstLog)")
        #expect(first.stdout.contains("axe-core 4."))
        let shownCode = try #require(first.stdout.firstMatch(of: /household_e2e: CODE (\w+)/).map { String($0.1) })
        #expect(first.stdout.contains("household_e2e: IN \(children[0]),\(children[1])"))

        // The one pickup slip the spooler printed: both children (masked), the code, a QR that zbarimg reads.
        var slips: [ESCPOSInspector] = []
        for _ in 0..<300 {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: data + "/prints")) ?? []
            slips = files.compactMap { FileManager.default.contents(atPath: data + "/prints/" + $0) }.map { ESCPOSInspector(Array($0)) }
                .filter { $0.textLines.contains { $0.contains("接送条") } }
            if !slips.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(slips.count == 1, "one pickup slip printed; found \(slips.count)")
        let slip = slips[0]
        let text = slip.textLines.joined(separator: "\n")
        for name in ["陈*涵", "陈*豪"] { #expect(text.contains(name), "the slip lists \(name): \(text)") }
        #expect(!text.contains("陈*琪") && !text.contains("陈子"), "the unticked child is not on it, full names never: \(text)")
        // zbarimg runs on a thread of its own, not on the cooperative pool.
        let qr = try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try slip.qrCodes() }) }.start()
        }
        #expect(qr == ["JYK:" + shownCode], "the slip's QR \(qr) carries the code shown on screen (\(shownCode))")

        // Phase 2: the slip's QR read by the scanner collects both children.
        let second = try await ScreenBrowserTests.runOffPool(
            python,
            [
                script, "--phase", "pickup", "--url", "http://127.0.0.1:\(port)", "--fifo", data + "/scan.fifo", "--code",
                qr.first ?? "", "--expect", "\(children[0]),\(children[1])", "--out", out, "--card", card, "--pad-code", shownCode,
            ], environment: ["PYTHONUNBUFFERED": "1"])
        let secondLog = "household_e2e.py pickup:\n\(second.stdout)\n\(second.stderr)\n--- serve ---\n" + serveLog()
        #expect(second.status == 0, "\(secondLog)")

        let names = ["kids.png", "household.png", "pad.png", "household-out.png"]
        for name in names { #expect(ScreenBrowserTests.isPNG(out + "/" + name), "\(name) is missing or not a PNG") }
        var destinations = [Run.packageRoot + "/.build/test-artefacts/screenshots"]
        if ProcessInfo.processInfo.environment["JIAYUAN_UPDATE_SCREENSHOTS"] == "1" {
            destinations.append(Run.packageRoot + "/docs/screenshots")
        }
        for docs in destinations where second.status == 0 {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            for name in names {
                try? FileManager.default.removeItem(atPath: docs + "/" + name)
                try FileManager.default.copyItem(atPath: out + "/" + name, toPath: docs + "/" + name)
            }
        }
        serve.terminate()
    }
}
