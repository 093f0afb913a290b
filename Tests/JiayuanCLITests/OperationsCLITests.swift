import Foundation
import JiayuanTestSupport
import Testing

@Suite("jiayuan config errors, sweep, report and verify, end to end", .blocking)
struct OperationsCLITests {
    // MARK: - a broken jiayuan.toml

    /// Breaks the config with `edit` (given the lines and the index of the gym's `capacity = 30`), then
    /// expects `commands` to fail naming jiayuan.toml, `line` and `key`.
    func expectRefused(
        commands: (TestKiosk, String) -> [[String]], key: String, lineOffset: Int,
        edit: (inout [String], Int) -> Void
    ) throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let code = try kiosk.card("M000001")
        let text = try String(contentsOfFile: kiosk.configPath, encoding: .utf8)
        var configLines = text.components(separatedBy: "\n")
        let index = try #require(configLines.firstIndex(of: "capacity = 30"), "the demo gym has capacity = 30")
        edit(&configLines, index)
        try configLines.joined(separator: "\n").write(toFile: kiosk.configPath, atomically: true, encoding: .utf8)
        let line = index + 1 + lineOffset

        for args in commands(kiosk, code) {
            let r = try kiosk.run(args)
            guard isOneLineError(r) else {
                Issue.record("\(args) should exit 1 with one line on stderr: exit \(r.status), stdout: \(r.stdout) stderr: \(r.stderr)")
                continue
            }
            #expect(r.stderr.contains("jiayuan.toml"), "\(args): \(r.stderr)")
            #expect(
                r.stderr.contains("jiayuan.toml:\(line)") || r.stderr.contains("line \(line)"), "\(args): want line \(line): \(r.stderr)")
            #expect(r.stderr.contains(key), "\(args): want the key \(key): \(r.stderr)")
        }
    }

    /// The commands that use the kiosk's settings.
    static func kioskCommands(_ kiosk: TestKiosk, _ code: String) -> [[String]] {
        [
            ["checkin", code, "--venue", "gym", "--at", at("10:00")], ["member", "list"], ["member", "show", "M000001"],
            ["member", "add", "--name", "王小英", "--group", "elder"], ["card", "show", "M000001"], ["card", "issue", "M000001"],
            ["report", "--day", "2026-11-28"], ["sweep", "--at", at("22:00")],
        ]
    }

    /// The commands that look at the data directory without the venues.
    static func otherCommands(_ kiosk: TestKiosk, _ code: String) -> [[String]] {
        [["verify"], ["card", "keys", "--json"]]
    }

    @Test("capacity = \"thirty\": every command exits 1 naming jiayuan.toml, the line and the key")
    func capacityNotANumber() throws {
        try expectRefused(commands: Self.kioskCommands, key: "capacity", lineOffset: 0) { lines, i in
            lines[i] = "capacity = \"thirty\""
        }
    }

    @Test("a misspelt key (capcity = 3) inside a venue: every command exits 1 naming jiayuan.toml, the line and the key")
    func misspeltKey() throws {
        try expectRefused(commands: Self.kioskCommands, key: "capcity", lineOffset: 1) { lines, i in
            lines.insert("capcity = 3", at: i + 1)
        }
    }

    @Test("verify and card keys also refuse a broken jiayuan.toml")
    func brokenConfigRefusedEverywhere() throws {
        try expectRefused(commands: Self.otherCommands, key: "capacity", lineOffset: 0) { lines, i in
            lines[i] = "capacity = \"thirty\""
        }
    }

    // MARK: - sweep

    @Test("sweep after closing checks the gym out (auto) and raises an alert for a day-care elder, once")
    func sweepAfterClosing() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let elder = try kiosk.someMember(group: "elder")
        let gym = try kiosk.checkin(try kiosk.card("M000001"), venue: "gym", at: at("10:00"))
        #expect(gym.status == 0, "\(gym.summary)")
        let daycare = try kiosk.checkin(try kiosk.card(elder), venue: "daycare", at: at("09:00"))
        #expect(daycare.status == 0, "\(daycare.summary)")

        let first = try kiosk.run("sweep", "--at", at("22:00"))
        #expect(first.status == 0, "\(first.stderr)")
        let out = lines(first.stdout)
        let autoLines = out.filter { $0.contains("auto check-out") }
        #expect(autoLines.count == 1, "\(first.stdout)")
        #expect(autoLines.first?.contains("M000001") == true && autoLines.first?.contains("gym") == true, "\(first.stdout)")
        let alerts = out.filter { $0.hasPrefix("ALERT") }
        #expect(alerts.count == 1, "\(first.stdout)")
        #expect(alerts.first?.contains(elder) == true && alerts.first?.contains("daycare") == true, "\(first.stdout)")
        #expect(!out.contains { $0.contains("auto check-out") && $0.contains(elder) }, "the elder is not checked out")
        let events = try kiosk.eventCount()

        let second = try kiosk.run("sweep", "--at", at("22:00"))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!second.stdout.contains("auto check-out"), "\(second.stdout)")
        #expect(!second.stdout.contains("ALERT"), "\(second.stdout)")
        #expect(try kiosk.eventCount() == events, "nothing new recorded")

        let report = try kiosk.run("report", "--day", "2026-11-28")
        #expect(report.stdout.contains("Automatic check-outs: 1"), "\(report.stdout)")
    }

    // MARK: - report

    @Test("report --day in text and --csv (BOM, header, the visits and denials made)")
    func reportDay() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let elder = try kiosk.someMember(group: "elder")
        let child = try kiosk.someMember(group: "child", youngest: true)
        let m1 = try kiosk.card("M000001")
        let gym = try kiosk.checkin(m1, venue: "gym", at: at("10:00"))
        let library = try kiosk.checkin(m1, venue: "library", at: at("10:05"))
        let daycare = try kiosk.checkin(try kiosk.card(elder), venue: "daycare", at: at("09:00"))
        let denied = try kiosk.checkin(try kiosk.card(child), venue: "gym", at: at("10:10"))
        #expect([gym.status, library.status, daycare.status, denied.status] == [0, 0, 0, 3])
        let group = try #require(gym.member?["group"] as? String)

        let text = try kiosk.run("report", "--day", "2026-11-28")
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("2026-11-28"))
        #expect(text.stdout.contains("Total visits: 3"), "\(text.stdout)")
        #expect(text.stdout.contains("not_eligible"), "\(text.stdout)")

        let csv = try kiosk.run("report", "--day", "2026-11-28", "--csv")
        #expect(csv.status == 0, "\(csv.stderr)")
        #expect(csv.stdoutData.prefix(3) == Data([0xEF, 0xBB, 0xBF]), "UTF-8 BOM for Excel")
        let body = String(decoding: csv.stdoutData.dropFirst(3), as: UTF8.self)
        let rows = lines(body)
        #expect(rows.first == "period,venue,venue_name,measure,key,count")
        // "venue,measure,key" → count, for this day.
        var counts: [String: Int] = [:]
        for row in rows.dropFirst() {
            let f = row.components(separatedBy: ",")
            #expect(f.count == 6 && f[0] == "2026-11-28", "\(row)")
            if f.count == 6 { counts["\(f[1]),\(f[3]),\(f[4])"] = Int(f[5]) }
        }
        #expect(counts["gym,visits,\(group)"] == 1)
        #expect(counts["library,visits,\(group)"] == 1)
        #expect(counts["daycare,visits,elder"] == 1)
        #expect(counts["gym,visits,child"] == 0, "a denial is not a visit")
        #expect(counts["gym,denials,not_eligible"] == 1)
        #expect(counts["all,unique_members,"] == 2)
        #expect(counts["veterans,visits,\(group)"] == 0)

        let otherDay = try kiosk.run("report", "--day", "2026-11-27", "--csv")
        #expect(!otherDay.stdout.contains(",1\r\n") && !otherDay.stdout.contains(",1\n"), "nothing on another day")
        let badDay = try kiosk.run("report", "--day", "28/11/2026")
        #expect(
            badDay.status == 64 && badDay.stderr.contains("is not a date like 2026-11-28"),
            "a usage mistake: exit \(badDay.status), stderr: \(badDay.stderr)")
    }

    // MARK: - verify

    @Test("verify: a fresh demo is ok; an event altered in the sqlite file is named by seq")
    func verifyFindsTampering() throws {
        let sqlite = "/usr/bin/sqlite3"
        try #require(FileManager.default.isExecutableFile(atPath: sqlite), "install sqlite3 for \(sqlite)")
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let fresh = try kiosk.run("verify")
        #expect(fresh.status == 0, "\(fresh.stdout) \(fresh.stderr)")
        #expect(fresh.stdout.contains("event chain: ok"), "\(fresh.stdout)")

        let code = try kiosk.card("M000001")
        for (venue, time) in [("gym", "10:00"), ("library", "10:05"), ("veterans", "10:10")] {
            let c = try kiosk.checkin(code, venue: venue, at: at(time))
            #expect(c.status == 0, "\(c.summary)")
        }
        #expect(try kiosk.eventCount() == 3)

        // The log is append-only: a plain UPDATE is refused by the database itself.
        let blocked = try Run.program(sqlite, [kiosk.databasePath, "UPDATE event SET venue='gym' WHERE seq=2"])
        #expect(blocked.status != 0, "the append-only trigger should refuse the update")
        #expect(try kiosk.eventCount() == 3)

        let tamper = try Run.program(
            sqlite, [kiosk.databasePath, "DROP TRIGGER event_append_only_update; UPDATE event SET venue='gym' WHERE seq=2"])
        try #require(tamper.status == 0, "\(tamper.stderr)")
        let broken = try kiosk.run("verify")
        #expect(broken.status == 1, "\(broken.stdout) \(broken.stderr)")
        let output = broken.stdout + broken.stderr
        #expect(output.contains("seq 2"), "\(output)")
        #expect(!output.contains("event chain: ok"), "\(output)")
    }

    @Test(
        "usage mistakes exit 64 and change nothing: a kiosk id with spaces, a day that does not exist, --day with --month, a malformed member id or time, an empty staff name"
    )
    func usageMistakes() throws {
        let dir = TemporaryDirectory("usage")
        defer { dir.remove() }
        let badID = try Run.jiayuan(["init", "--kiosk-id", "bad id!", "--data", dir.path + "/k"])
        #expect(badID.status == 64 && badID.stderr.contains("kiosk id"), "\(badID.status) \(badID.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/k/jiayuan.toml"), "nothing was made")
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        for args in [
            ["report", "--day", "2026-13-45"], ["report", "--month", "2026-13"], ["report", "--day", "2026-11-28", "--month", "2026-11"],
            ["member", "show", "X12"], ["member", "deactivate", "M12"], ["card", "issue", "123456"], ["card", "revoke", "m00000x"],
            ["member", "add", "--name", "A", "--group", "child", "--guardian", "nobody"],
            ["checkin", "M000001", "--venue", "gym", "--at", "yesterday"], ["staff", "add", "", "--role", "desk", "--pin-stdin"],
            ["correct", "0", "--reason", "wrong venue"], ["correct", "1", "--reason", "  "], ["correct", "1"],
            ["correct", "x", "--reason", "r"],
        ] {
            let r = try kiosk.run(args)
            #expect(r.status == 64, "\(args): \(r.status) \(r.stderr)")
        }
        #expect(try kiosk.run("member", "show", "M000001").status == 0, "a well-formed id still works")
        #expect(try kiosk.run("verify").stdout.contains("event chain: ok"), "no event was recorded by the mistakes")
    }
}
