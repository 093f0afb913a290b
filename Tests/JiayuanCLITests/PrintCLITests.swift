import Foundation
import JiayuanTestSupport
import Testing

/// `print`, `slip`, `card issue --print` and check-in receipts through the real `jiayuan` binary: the jobs land
/// as files (`file:DIR`, the demo default) or on the private cupsd that kiosk/test.sh starts, and are read back
/// with `ESCPOSInspector` and zbarimg.
@Suite("jiayuan print, slip and receipts, end to end", .blocking)
struct PrintCLITests {
    // MARK: - file: target

    @Test("print test on a fresh demo writes prints/000001-test-page.escpos with the Chinese title and a JYT: QR of the kiosk id")
    func testPageToFile() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("print", "test")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("printed job 1 (test-page)"), "\(r.stdout)")
        let path = kiosk.path + "/prints/000001-test-page.escpos"
        let job = try PrintedJob(path: path)
        #expect(job.inspector.isValid, "\(job.inspector.errors)")
        #expect(job.inspector.textLines.contains { $0.contains("打印机测试页") }, "\(job.inspector.textLines)")
        #expect(try job.qrCodes() == ["JYT:kiosk-1"])
    }

    @Test("print test --printer file:OTHERDIR writes the job there and not to the configured prints folder")
    func fileTargetOverride() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let other = TemporaryDirectory("jiayuan-cli-prints")
        defer { other.remove() }
        let r = try kiosk.run("print", "test", "--printer", "file:" + other.path)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("file:" + other.path), "\(r.stdout)")
        let job = try PrintedJob(path: other.path + "/000001-test-page.escpos")
        #expect(try job.qrCodes() == ["JYT:kiosk-1"])
        #expect(!FileManager.default.fileExists(atPath: kiosk.path + "/prints/000001-test-page.escpos"))
    }

    @Test("print reprint of a job that does not exist exits 1 with one line on stderr")
    func reprintUnknownJob() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("print", "reprint", "999")
        #expect(isOneLineError(r), "exit \(r.status), stderr: \(r.stderr)")
        #expect(r.stderr.contains("999"), "\(r.stderr)")
    }

    // MARK: - service slips

    @Test("slip queue three times hands out A001, A002, A003, each printed as its own ticket")
    func queueTickets() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        for n in 1...3 {
            let number = "A00\(n)"
            let r = try kiosk.run("slip", "queue")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(lines(r.stdout).first == "queue ticket \(number)", "\(r.stdout)")
            let job = try PrintedJob(path: kiosk.path + "/prints/00000\(n)-queue-ticket.escpos")
            #expect(job.inspector.textLines.contains { $0.trimmingCharacters(in: .whitespaces) == number }, "\(job.inspector.textLines)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: kiosk.path + "/prints").filter { $0.hasSuffix(".escpos") }
        #expect(files.sorted() == ["000001-queue-ticket.escpos", "000002-queue-ticket.escpos", "000003-queue-ticket.escpos"])
    }

    @Test("slip repair is due within 24 h for a low-income member and 72 h for others; its QR is JYS: and the slip number")
    func repairSlipDeadlines() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let poor = try PrintCLITests.member(kiosk, lowIncome: true)
        let other = try PrintCLITests.member(kiosk, lowIncome: false)
        let today = PrintCLITests.wall(Date(), "yyyyMMdd")

        for (n, member, hours) in [(1, poor, 24.0), (2, other, 72.0)] {
            let before = Date()
            let r = try kiosk.run("slip", "repair", "--member", member, "--address", "3 号楼 2 单元 501", "--problem", "厨房灯不亮")
            let after = Date()
            #expect(r.status == 0, "\(r.stderr)")
            let number = "WX\(today)-00\(n)"
            let due = Set([before, after].map { PrintCLITests.wall($0.addingTimeInterval(hours * 3600), "yyyy-MM-dd HH:mm") })
            let first = lines(r.stdout).first ?? ""
            #expect(first.hasPrefix("repair request \(number), due by "), "\(r.stdout)")
            #expect(
                due.contains { first == "repair request \(number), due by \($0)" },
                "\(member): want due by one of \(due.sorted()): \(first)")

            let job = try PrintedJob(path: kiosk.path + "/prints/00000\(n)-repair-slip.escpos")
            let text = job.inspector.textLines
            #expect(job.inspector.isValid, "\(job.inspector.errors)")
            #expect(text.contains { $0.contains("厨房灯不亮") }, "\(text)")
            #expect(text.contains { line in line.contains("Due by") && due.contains { line.contains($0) } }, "\(text)")
            #expect(text.contains { $0.contains("24 小时") } == (hours == 24), "low-income note only for \(poor): \(text)")
            #expect(try job.qrCodes() == ["JYS:" + number])
        }
    }

    @Test("slip repair with neither --member nor --requested-by is a usage mistake (exit 64) and prints nothing")
    func repairNeedsRequester() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let r = try kiosk.run("slip", "repair", "--address", "3 号楼 501", "--problem", "水管漏水")
        #expect(r.status == 64, "exit \(r.status), stdout: \(r.stdout) stderr: \(r.stderr)")
        #expect(r.stderr.contains("--member") && r.stderr.contains("--requested-by"), "\(r.stderr)")
        let list = try kiosk.run("print", "list")
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "no print jobs", "\(list.stdout)")
    }

    @Test("slip meal with an address prints a delivery slip (送餐单) with ￥10.00 元, or 免费 Free for a low-income member")
    func mealDeliverySlips() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let poor = try PrintCLITests.member(kiosk, lowIncome: true)
        let other = try PrintCLITests.member(kiosk, lowIncome: false)
        let today = PrintCLITests.wall(Date(), "yyyyMMdd")

        for (n, member, amount, said) in [(1, other, "￥10.00 元", "¥10.00"), (2, poor, "免费 Free", "¥0.00")] {
            let r = try kiosk.run("slip", "meal", "--member", member, "--address", "5 号楼 302")
            #expect(r.status == 0, "\(r.stderr)")
            let number = "SC\(today)-00\(n)"
            #expect(lines(r.stdout).first == "meal order \(number): \(said)", "\(r.stdout)")
            let job = try PrintedJob(path: kiosk.path + "/prints/00000\(n)-meal-slip.escpos")
            let text = job.inspector.textLines
            #expect(text.contains { $0.contains("送餐单") }, "\(text)")
            #expect(text.contains { $0.contains("5 号楼 302") }, "\(text)")
            #expect(text.contains { $0.contains("Amount") && $0.contains(amount) }, "\(member): want \(amount) in \(text)")
            #expect(try job.qrCodes() == ["JYS:" + number])
        }
    }

    // MARK: - membership card

    @Test("card issue --print prints the new code first and a membership card whose QR is exactly that code, which checks in")
    func cardIssuePrint() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let name = try #require(
            try kiosk.memberLines(full: true).first { $0.hasPrefix("M000001 ") }?.split(separator: " ").dropFirst().first.map(String.init))
        let r = try kiosk.run("card", "issue", "M000001", "--print")
        #expect(r.status == 0, "\(r.stderr)")
        let out = lines(r.stdout)
        let code = try #require(out.first)
        #expect(code.hasPrefix("JY1:") && code.count == 126, "\(code)")
        #expect(out.dropFirst().contains { $0.hasPrefix("printed job 1 (member-card)") }, "\(r.stdout)")

        let job = try PrintedJob(path: kiosk.path + "/prints/000001-member-card.escpos")
        #expect(
            job.inspector.textLines.contains { $0.contains(name) }, "the card carries the full name \(name): \(job.inspector.textLines)")
        #expect(try job.qrCodes() == [code])
        #expect(try kiosk.card("M000001") == code, "the printed card is the current one")

        let c = try kiosk.checkin(code, venue: "veterans")
        #expect(c.status == 0, "\(c.summary)")
        #expect(c.outcome == "accepted" && c.memberID == "M000001", "\(c.json)")
    }

    // MARK: - children's pickup slip

    @Test("a child's check-in at kids prints a pickup slip whose QR is JYK: + the code, and scanning it checks the child out")
    func pickupSlipChecksOut() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let child = try kiosk.someMember(group: "child")
        let card = try kiosk.card(child)
        let c = try kiosk.checkin(card, venue: "kids", at: at("09:00"))
        #expect(c.status == 0 && c.outcome == "accepted" && c.direction == "in", "\(c.summary)")

        let job = try PrintedJob(path: kiosk.path + "/prints/000001-pickup-slip.escpos")
        let qr = try job.qrCodes()
        try #require(qr.count == 1, "one QR on the slip: \(qr)")
        let scanned = qr[0]
        #expect(scanned.hasPrefix("JYK:") && scanned.count == 10, "JYK: and 6 characters: \(scanned)")
        let code = String(scanned.dropFirst(4))
        #expect(
            job.inspector.textLines.contains { $0.trimmingCharacters(in: .whitespaces) == code },
            "the code as text: \(job.inspector.textLines)")
        let message = (c.object["message"] as? [String: Any])?["en"] as? String ?? ""
        #expect(message.contains(code), "the decision names the same code: \(message)")

        let out = try kiosk.checkin(scanned, venue: "kids", at: at("16:00"))
        #expect(out.status == 0, "\(out.summary)")
        #expect(out.outcome == "accepted" && out.direction == "out" && out.memberID == child, "\(out.json)")
    }

    // MARK: - cups: target on the private cupsd

    @Test("print test --printer cups:QUEUE sends a CUPS job whose captured bytes are the queued job; print list shows its CUPS state")
    func testPageThroughCUPS() async throws {
        let cups = try PrivateCUPS.ownQueue("cli-testpage")
        try cups.setFailure(nil)
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let env = ["CUPS_SERVER": cups.server]
        let earlier = Set(cups.capturedFiles())  // the queue may hold captures of an earlier run on the same cupsd

        let r = try PrintCLITests.run(kiosk, ["print", "test", "--printer", "cups:" + cups.queue], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let match = try #require(
            r.stdout.firstMatch(of: /sent job (\d+) \(test-page\) to cups:(\S+) as CUPS job (\d+)/), "stdout: \(r.stdout)")
        #expect(String(match.2) == cups.queue)
        let jobID = try #require(Int(match.1))
        let cupsID = try #require(Int(match.3))
        let captured = try #require(try await cups.waitForCapture(job: cupsID, timeout: 30), "CUPS job \(cupsID) was never captured")

        let list = try PrintCLITests.run(kiosk, ["print", "list"], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        let line = lines(list.stdout).first { $0.hasPrefix("\(jobID)  ") } ?? ""
        #expect(line.contains("test-page") && line.contains("cups:" + cups.queue), "\(list.stdout)")
        #expect(
            line.contains(try Regex("CUPS job \(cupsID): (pending|held|processing|stopped|completed)")) || line.contains(" printed "),
            "the live CUPS state: \(line)")

        // The same job, reprinted to a file, is byte for byte what CUPS captured.
        let copies = TemporaryDirectory("jiayuan-cli-reprint")
        defer { copies.remove() }
        let re = try PrintCLITests.run(kiosk, ["print", "reprint", "\(jobID)", "--printer", "file:" + copies.path], environment: env)
        #expect(re.status == 0, "\(re.stderr)")
        let copy = try #require(
            try FileManager.default.contentsOfDirectory(atPath: copies.path).first { $0.hasSuffix("-test-page.escpos") },
            "no reprint file: \(re.stdout)")
        let reprinted = try PrintedJob(path: copies.path + "/" + copy)
        #expect(reprinted.bytes == captured, "the captured bytes are the queued job's")
        let inspector = ESCPOSInspector(captured)
        #expect(inspector.textLines.contains { $0.contains("打印机测试页") }, "\(inspector.textLines)")
        #expect(try reprinted.qrCodes() == ["JYT:kiosk-1"])

        // Following the job to its end: the queue empties and the job counts as printed.
        let run = try PrintCLITests.run(kiosk, ["print", "run", "--timeout", "10"], environment: env)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let after = try PrintCLITests.run(kiosk, ["print", "list"], environment: env)
        #expect(lines(after.stdout).first { $0.hasPrefix("\(jobID)  ") }?.contains(" printed ") == true, "\(after.stdout)")
        #expect(Set(cups.capturedFiles()).subtracting(earlier) == ["job-\(cupsID).bin"], "printed once")
    }

    @Test("a job already handed to CUPS is not sent a second time when the print server cannot be reached for one pass")
    func cupsJobNotResentAfterServerBlip() async throws {
        let cups = try PrivateCUPS.ownQueue("cli-blip")
        try cups.setFailure(nil)
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let env = ["CUPS_SERVER": cups.server]
        let earlier = Set(cups.capturedFiles())
        let r = try PrintCLITests.run(kiosk, ["print", "test", "--printer", "cups:" + cups.queue], environment: env)
        let match = try #require(r.stdout.firstMatch(of: /as CUPS job (\d+)/), "stdout: \(r.stdout) stderr: \(r.stderr)")
        let cupsID = try #require(Int(match.1))
        _ = try #require(try await cups.waitForCapture(job: cupsID, timeout: 30), "CUPS job \(cupsID) was never captured")

        // One spooler pass while the print server does not answer (cupsd restarting, network down)…
        _ = try PrintCLITests.run(kiosk, ["print", "run", "--timeout", "0"], environment: ["CUPS_SERVER": "127.0.0.1:9"])
        // …and then it answers again.
        let run = try PrintCLITests.run(kiosk, ["print", "run", "--timeout", "8"], environment: env)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(Set(cups.capturedFiles()).subtracting(earlier) == ["job-\(cupsID).bin"], "the test page came out more than once")
    }

    // MARK: - a dead printer

    @Test("a dead CUPS printer never blocks a day-care check-in: accepted at once, the receipt waits with a plain reason")
    func deadPrinterDoesNotBlockCheckIn() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let started = Date()
        let c = try PrintCLITests.deadPrinterCheckIn(kiosk)
        #expect(Date().timeIntervalSince(started) < 10, "the check-in took \(Date().timeIntervalSince(started)) s")
        #expect(c.status == 0, "\(c.summary)")
        #expect(c.outcome == "accepted" && c.direction == "in", "\(c.json)")
        #expect(c.process.stderr.isEmpty, "\(c.process.stderr)")

        let list = try kiosk.run("print", "list")
        #expect(list.status == 0, "\(list.stderr)")
        let line = try #require(lines(list.stdout).first { $0.hasPrefix("1  ") }, "\(list.stdout)")
        #expect(line.contains("checkin-receipt") && line.contains("cups:nowhere") && line.contains(" queued "), "\(line)")
        #expect(line.contains("cannot reach the print server"), "a plain reason: \(line)")
        #expect(!line.contains("Error Domain") && !line.contains("CUPSError"), "\(line)")
    }

    @Test("print run --timeout 1 with a dead printer exits 1 saying jobs are still waiting")
    func printRunReportsWaitingJobs() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let c = try PrintCLITests.deadPrinterCheckIn(kiosk)
        try #require(c.status == 0, "\(c.summary)")
        let started = Date()
        let r = try kiosk.run("print", "run", "--timeout", "1")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(r.status == 1, "exit \(r.status), stdout: \(r.stdout) stderr: \(r.stderr)")
        #expect(r.stdout.contains("still waiting"), "stdout: \(r.stdout)")
    }

    @Test("once the target is set back to file:prints, print reprint prints the waiting receipt")
    func reprintAfterPrinterFixed() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let c = try PrintCLITests.deadPrinterCheckIn(kiosk)
        try #require(c.status == 0, "\(c.summary)")
        try PrintCLITests.editConfig(kiosk, replacing: "target = \"cups:nowhere\"", with: "target = \"file:prints\"")

        let r = try kiosk.run("print", "reprint", "1")
        #expect(r.status == 0, "\(r.stderr)")
        let match = try #require(r.stdout.firstMatch(of: /reprint of job 1 is job (\d+): (\S+)/), "\(r.stdout)")
        #expect(match.2 == "printed", "\(r.stdout)")
        let path = kiosk.path + "/prints/" + String(format: "%06d", Int(match.1) ?? 0) + "-checkin-receipt.escpos"
        #expect(FileManager.default.fileExists(atPath: path), "\(r.stdout)")
        if FileManager.default.fileExists(atPath: path) {
            let job = try PrintedJob(path: path)
            #expect(job.inspector.textLines.contains { $0.contains("签到凭条") }, "\(job.inspector.textLines)")
        }
    }
}

// MARK: - helpers

extension PrintCLITests {
    /// Runs `jiayuan ARGS --data DIR` with extra environment variables (such as `CUPS_SERVER`).
    static func run(_ kiosk: TestKiosk, _ arguments: [String], environment: [String: String]) throws -> ProcessResult {
        try Run.jiayuan(arguments + ["--data", kiosk.path], environment: environment)
    }

    /// `date` as wall-clock text in Asia/Shanghai, the demo kiosk's zone.
    static func wall(_ date: Date, _ format: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        f.dateFormat = format
        return f.string(from: date)
    }

    /// An elder of the demo with (or without) the `low_income` flag, from `member list --full`.
    static func member(_ kiosk: TestKiosk, lowIncome: Bool) throws -> String {
        let line = try kiosk.memberLines(group: "elder", full: true).first { $0.contains("low_income") == lowIncome }
        return try #require(line?.split(separator: " ").first.map(String.init), "no demo elder with low_income = \(lowIncome)")
    }

    /// Replaces one line of jiayuan.toml.
    static func editConfig(_ kiosk: TestKiosk, replacing old: String, with new: String) throws {
        var lines = try String(contentsOfFile: kiosk.configPath, encoding: .utf8).components(separatedBy: "\n")
        let index = try #require(lines.firstIndex { $0.hasPrefix(old) }, "no line \(old) in jiayuan.toml")
        lines[index] = new
        try lines.joined(separator: "\n").write(toFile: kiosk.configPath, atomically: true, encoding: .utf8)
    }

    /// Points the printer at a CUPS queue on a server nobody listens on, then checks an elder in at day care
    /// (receipt = always) at 09:00 on the demo day.
    static func deadPrinterCheckIn(_ kiosk: TestKiosk) throws -> CheckInResult {
        try editConfig(kiosk, replacing: "target = \"file:prints\"", with: "target = \"cups:nowhere\"")
        try editConfig(kiosk, replacing: "# cups_server = \"localhost:631\"", with: "cups_server = \"127.0.0.1:9\"")
        let elder = try kiosk.someMember(group: "elder")
        let card = try kiosk.card(elder)
        return try kiosk.checkin(card, venue: "daycare", at: "2026-11-28T09:00:00+08:00")
    }
}

/// A print job's bytes read back from a file, with what a printer would print and the QR codes in it.
struct PrintedJob {
    let path: String
    let bytes: [UInt8]
    let inspector: ESCPOSInspector

    init(path: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.path = path
        let data = try #require(FileManager.default.contents(atPath: path), "no print job file \(path)", sourceLocation: sourceLocation)
        bytes = [UInt8](data)
        inspector = ESCPOSInspector(bytes)
    }

    /// Every raster decoded with zbarimg, in order.
    func qrCodes() throws -> [String] { try inspector.qrCodes() }
}
