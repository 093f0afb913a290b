import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The resident screen in a real browser: `jiayuan serve` with the demo data and a FIFO scanner, driven by
/// `Tests/browser/screen_e2e.py` (selenium + axe-selenium-python, headless Debian Chromium). The script
/// checks the idle screen with live occupancy, the English toggle, the choose screen after a scan, a tap,
/// the result and the occupancy change, and audits each screen with axe-core. Its screenshots are kept in
/// `.build/test-artefacts/screenshots/` (and, with JIAYUAN_UPDATE_SCREENSHOTS=1, in the committed `docs/screenshots/`).
@Suite("The resident screen in headless Chromium", .blocking)
struct ScreenBrowserTests {
    /// The venv's python with selenium and axe-selenium-python, made by kiosk/test.sh.
    static var python: String? {
        let value = ProcessInfo.processInfo.environment["JIAYUAN_TEST_PYTHON"] ?? ""
        return value.isEmpty ? nil : value
    }

    /// Runs a program on its own thread, so a long run does not hold a thread of the cooperative pool.
    static func runOffPool(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try Run.program(executable, arguments, environment: environment) })
            }
            thread.start()
        }
    }

    /// True when the file starts with the PNG signature.
    static func isPNG(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), data.count > 24 else { return false }
        return Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    }

    @Test("idle with live occupancy, English toggle, scan into the FIFO, choose, tap, result, occupancy +1; axe finds nothing serious")
    func screenInChromium() async throws {
        guard let python = Self.python else {
            Issue.record(
                "JIAYUAN_TEST_PYTHON is not set: run the suite through kiosk/test.sh (it makes a venv with selenium and axe-selenium-python)"
            )
            return
        }
        let dir = TemporaryDirectory("screen-browser")
        defer { dir.remove() }
        let data = dir.path + "/data"
        let out = dir.path + "/screenshots"
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)

        // Every venue open around the clock, so the veteran M000001 may choose among the gym, the reading
        // room and the veterans' corner whatever the time of day (the day care is for elders, the homework
        // club for children). The demo's FIFO scanner "lobby" stays unbound, so the scan shows the choose screen.
        let configPath = data + "/jiayuan.toml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        let edited = config.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("hours = ") ? "hours = \"24h\"" : String(line)
        }.joined(separator: "\n")
        #expect(edited.components(separatedBy: "hours = \"24h\"").count - 1 == 5)
        let scanner = edited.components(separatedBy: "[[scanner]]").dropFirst().first?.components(separatedBy: "\n\n").first ?? ""
        #expect(scanner.contains("source = \"fifo:scan.fifo\"") && !scanner.contains("venue ="), "the demo scanner: \(scanner)")
        try edited.write(toFile: configPath, atomically: true, encoding: .utf8)
        // A few people already inside, so the idle screen shows real numbers (and the +1 starts from them).
        let inside = [
            ("M000002", "gym"), ("M000003", "gym"), ("M000004", "library"), ("M000005", "library"), ("M000006", "library"),
            ("M000007", "veterans"), ("M000056", "daycare"), ("M000057", "daycare"),
        ]
        for (member, venue) in inside {
            let memberCard = try Run.jiayuan(["card", "show", member, "--data", data]).stdout.trimmingCharacters(
                in: .whitespacesAndNewlines)
            let checkIn = try Run.jiayuan(["checkin", "--data", data, memberCard, "--venue", venue])
            #expect(checkIn.status == 0, "checking \(member) in at \(venue): \(checkIn.stdout) \(checkIn.stderr)")
        }
        let card = try Run.jiayuan(["card", "show", "M000001", "--data", data])
        let code = card.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(card.status == 0 && code.hasPrefix("JY1:"), "no card for M000001: \(card.stderr)")

        // jiayuan serve on a free port; its log goes to a file (shown if the browser run fails).
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
        let startLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(healthy, "jiayuan serve did not answer /healthz: \(startLog)")

        // The browser run (about 15 s: the result screen stays 10 s before the idle screen comes back).
        let started = Date()
        let script = Run.packageRoot + "/Tests/browser/screen_e2e.py"
        let result = try await Self.runOffPool(
            python,
            [
                script, "--url", "http://127.0.0.1:\(port)", "--fifo", data + "/scan.fifo", "--code", code, "--out", out,
                "--expect-venues", "gym,library,veterans",
            ],
            environment: ["PYTHONUNBUFFERED": "1"])
        let seconds = Date().timeIntervalSince(started)
        let serveLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(
            result.status == 0,
            "screen_e2e.py failed (exit \(result.status)):\n\(result.stdout)\n\(result.stderr)\n--- jiayuan serve log ---\n\(serveLog)")
        #expect(result.stdout.contains("screen_e2e: PASSED"), "\(result.stdout)")
        #expect(result.stdout.contains("axe-core 4."), "the audit ran with a current axe-core (kiosk/test.sh's venv)")
        #expect(seconds < 50, "the browser run took \(Int(seconds)) s")

        // The screenshots are kept as test artefacts in .build/test-artefacts/screenshots; with
        // JIAYUAN_UPDATE_SCREENSHOTS=1 they also replace the committed ones in docs/screenshots (README links them).
        let names = ["idle.png", "idle-en.png", "choose.png", "result.png"]
        for name in names { #expect(Self.isPNG(out + "/" + name), "\(name) is missing or not a PNG") }
        var destinations = [Run.packageRoot + "/.build/test-artefacts/screenshots"]
        if ProcessInfo.processInfo.environment["JIAYUAN_UPDATE_SCREENSHOTS"] == "1" {
            destinations.append(Run.packageRoot + "/docs/screenshots")
        }
        for docs in destinations where result.status == 0 && names.allSatisfy({ Self.isPNG(out + "/" + $0) }) {
            try FileManager.default.createDirectory(atPath: docs, withIntermediateDirectories: true)
            for name in names {
                let target = docs + "/" + name
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.copyItem(atPath: out + "/" + name, toPath: target)
            }
        }

        // SIGTERM: a graceful stop, within 10 s (polled without blocking the pool).
        serve.terminate()
        var stopped = false
        for _ in 0..<100 {
            if !serve.isRunning {
                stopped = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(stopped, "jiayuan serve did not stop within 10 s of SIGTERM")
        if stopped { #expect(serve.terminationStatus == 0) }
    }
}
