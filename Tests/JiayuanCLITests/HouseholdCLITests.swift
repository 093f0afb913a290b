import Foundation
import JiayuanTestSupport
import Testing

/// `jiayuan checkin CODE --venue kids --children …` through the real binary (issue 16).
@Suite("jiayuan checkin --children: household check-in", .blocking)
struct HouseholdCLITests {
    /// A demo kiosk with a family: two guardians, two children, and someone else's child.
    struct Family {
        let kiosk: TestKiosk
        let mum: String, dad: String, stranger: String
        let amy: String, ben: String, other: String

        init() throws {
            kiosk = try TestKiosk.demo()
            mum = try kiosk.addMember("--name", "陈丽", "--group", "resident", "--born", "1985")
            dad = try kiosk.addMember("--name", "陈刚", "--group", "resident", "--born", "1983")
            stranger = try kiosk.addMember("--name", "周强", "--group", "resident", "--born", "1980")
            amy = try kiosk.addMember("--name", "陈子涵", "--group", "child", "--born", "2016", "--guardian", mum, "--guardian", dad)
            ben = try kiosk.addMember("--name", "陈子豪", "--group", "child", "--born", "2018", "--guardian", mum, "--guardian", dad)
            other = try kiosk.addMember("--name", "李小红", "--group", "child", "--born", "2016", "--guardian", stranger)
        }

        func card(_ member: String) throws -> String {
            let r = try kiosk.run("card", "issue", member)
            try #require(r.status == 0, "card issue failed: \(r.stderr)")
            return try #require(lines(r.stdout).last { $0.hasPrefix("JY1:") })
        }

        /// `checkin ARGS --json` at a local time, stdout parsed.
        func checkin(_ code: String, at time: String, _ extra: String...) throws -> (ProcessResult, [String: Any]) {
            let r = try kiosk.run(["checkin", code, "--venue", "kids", "--at", at(time), "--json"] + extra)
            let object = (try? JSONSerialization.jsonObject(with: r.stdoutData)) as? [String: Any] ?? [:]
            return (r, object)
        }
    }

    static func decisions(_ o: [String: Any]) -> [[String: Any]] { o["decisions"] as? [[String: Any]] ?? [] }
    static func ids(_ o: [String: Any]) -> [String?] { decisions(o).map { ($0["member"] as? [String: Any])?["id"] as? String } }
    static func field(_ o: [String: Any], _ key: String) -> [String?] { decisions(o).map { $0[key] as? String } }

    @Test("drop-off of all children prints one pickup code and a decision per child; the slip takes them all out")
    func dropOffAndSlip() throws {
        let f = try Family()
        defer { f.kiosk.remove() }
        let mumCard = try f.card(f.mum)
        let before = try f.kiosk.eventCount()
        let (r, o) = try f.checkin(mumCard, at: "09:00", "--children", "all")
        #expect(r.status == 0, "\(r.stderr)")
        let code = try #require(o["pickup_code"] as? String)
        #expect(code.count == 6)
        #expect(Self.ids(o) == [f.amy, f.ben])
        #expect(Self.field(o, "outcome") == ["accepted", "accepted"])
        #expect(Self.field(o, "direction") == ["in", "in"])
        #expect(try f.kiosk.eventCount() == before + 2, "one event per child")
        // One pickup slip for the drop-off, listing both children.
        let slips = try f.kiosk.run("print", "list")
        #expect(slips.stdout.components(separatedBy: "pickup-slip").count - 1 == 1, "\(slips.stdout)")

        let (out, o2) = try f.checkin("JYK:" + code, at: "16:00")
        #expect(out.status == 0, "\(out.stderr)")
        #expect(Self.ids(o2) == [f.amy, f.ben])
        #expect(Self.field(o2, "direction") == ["out", "out"])
        #expect(Self.field(o2, "outcome") == ["accepted", "accepted"])
        #expect(try f.kiosk.eventCount() == before + 4)
    }

    @Test("a guardian's card without --children lists the children, checks nobody in, and exits 64")
    func chooseChildren() throws {
        let f = try Family()
        defer { f.kiosk.remove() }
        let before = try f.kiosk.eventCount()
        let (r, o) = try f.checkin(try f.card(f.dad), at: "09:00")
        #expect(r.status == 64, "\(r.stderr)")
        let list = try #require(o["choose_children"] as? [[String: Any]], "\(r.stdout)")
        #expect(list.map { $0["id"] as? String } == [f.amy, f.ben])
        #expect(list.allSatisfy { $0["eligible"] as? Bool == true })
        #expect(list.allSatisfy { ($0["display_name"] as? String)?.contains("*") == true }, "names masked")
        #expect(try f.kiosk.eventCount() == before)
    }

    @Test("named children: someone else's child is refused, the guardian's own comes in; exit 0")
    func namedChildren() throws {
        let f = try Family()
        defer { f.kiosk.remove() }
        let (r, o) = try f.checkin(try f.card(f.mum), at: "09:00", "--children", "\(f.ben),\(f.other)")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.ids(o) == [f.ben, f.other])
        #expect(Self.field(o, "outcome") == ["accepted", "denied"])
        #expect(Self.field(o, "reason") == [nil, "not_eligible"])
        let other = Self.decisions(o)[1]["member"] as? [String: Any]
        #expect(other?["display_name"] as? String == "—", "no name of someone else's child")
    }

    @Test("an adult who is no guardian checks no child in (exit 3) and takes none out even with the right code")
    func strangerCannot() throws {
        let f = try Family()
        defer { f.kiosk.remove() }
        let strangerCard = try f.card(f.stranger)
        let (r, o) = try f.checkin(strangerCard, at: "09:00", "--children", "\(f.amy),\(f.ben)")
        #expect(r.status == 3)
        #expect(Self.field(o, "reason") == ["not_eligible", "not_eligible"])
        #expect(o["pickup_code"] is NSNull)

        let (_, dropped) = try f.checkin(try f.card(f.mum), at: "09:05", "--children", "all")
        let code = try #require(dropped["pickup_code"] as? String)
        let (r2, o2) = try f.checkin(strangerCard, at: "16:00", "--guardian-code", code)
        #expect(r2.status == 3, "\(r2.stdout)")
        #expect(Self.field(o2, "reason").allSatisfy { $0 == "not_eligible" } && Self.decisions(o2).count == 2)

        // The other registered guardian collects them with the code typed.
        let (r3, o3) = try f.checkin(try f.card(f.dad), at: "16:05", "--guardian-code", code.lowercased())
        #expect(r3.status == 0, "\(r3.stderr)")
        #expect(Self.field(o3, "direction") == ["out", "out"] && Self.field(o3, "outcome") == ["accepted", "accepted"])
    }

    @Test("--children takes all or member ids; anything else is a usage error (64)")
    func badChildren() throws {
        let f = try Family()
        defer { f.kiosk.remove() }
        let r = try f.kiosk.run("checkin", try f.card(f.mum), "--venue", "kids", "--children", "amy,ben")
        #expect(r.status == 64, "\(r.stderr)")
    }
}
