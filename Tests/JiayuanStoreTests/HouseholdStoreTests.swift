import Foundation
import GRDB
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

/// A family in a real SQLite file: two guardians, two children, someone else's child.
struct FamilyHarness {
    var h: StoreHarness
    let mum: Member, dad: Member, stranger: Member
    let amy: Member, ben: Member, other: Member
    let mumCard: CardPayload, dadCard: CardPayload, strangerCard: CardPayload

    init() throws {
        h = try StoreHarness()
        mum = try h.add("陈丽", .resident)
        dad = try h.add("陈刚", .resident)
        stranger = try h.add("周强", .resident)
        amy = try h.add("陈子涵", .child, born: 2016, guardians: [mum.id, dad.id])
        ben = try h.add("陈子豪", .child, born: 2018, guardians: [mum.id, dad.id])
        other = try h.add("李小红", .child, born: 2016, guardians: [stranger.id])
        mumCard = try Self.payload(h, mum)
        dadCard = try Self.payload(h, dad)
        strangerCard = try Self.payload(h, stranger)
    }

    static func payload(_ h: StoreHarness, _ m: Member) throws -> CardPayload {
        guard case .card(let p) = ScanReading.read(try h.issue(m).code, keys: Fixtures.keyring) else { throw StoreError("no card") }
        return p
    }

    mutating func dropOff(
        _ card: CardPayload, _ selection: ChildSelection, at: String, receipts: (HouseholdDecision) throws -> [NewPrintJob] = { _ in [] }
    ) throws -> HouseholdDecision {
        try h.db.recordDropOff(
            card: card, selection: selection, venue: Fixtures.venue("kids"), at: Fixtures.at(at), engine: h.engine, rng: &h.rng,
            receipts: receipts)
    }

    mutating func pickUp(_ code: String, card: CardPayload? = nil, at: String) throws -> HouseholdDecision {
        try h.db.recordPickUp(code: code, card: card, venue: Fixtures.venue("kids"), at: Fixtures.at(at), engine: h.engine, rng: &h.rng)
    }

    func count(_ table: String) throws -> Int { try h.db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 } }

    static func slip(_ at: String) -> NewPrintJob {
        NewPrintJob(kind: "pickup-slip", documentNumber: "R1", target: "file:/tmp/x", bytes: [1, 2, 3], queuedAt: Fixtures.at(at))
    }
}

@Suite("Store: household drop-off and pick-up", .blocking)
struct HouseholdStoreTests {
    @Test("a drop-off records every child's event and visit, one drop-off, one code and one slip, together")
    func dropOffRecordsEverything() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        let h = try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00", receipts: { _ in [FamilyHarness.slip("2026-11-28 09:00")] })
        let code = try #require(h.pickupCode)
        #expect(h.decisions.map(\.member?.id) == [f.amy.id, f.ben.id])
        #expect(h.decisions.map(\.seq) == [1, 2])
        let counts = try ["event", "presence", "dropoff", "print_job"].map { try f.count($0) }
        #expect(counts == [2, 2, 1, 1])
        let inside = try f.h.db.inside(venue: Fixtures.venue("kids"), at: Fixtures.at("2026-11-28 09:01"), policy: Fixtures.policy)
        #expect(inside.map(\.pickupCode) == [code, code])
        let open = try f.h.db.openDropOffs(venues: [Fixtures.venue("kids")], at: Fixtures.at("2026-11-28 09:01"), policy: Fixtures.policy)
        #expect(open.count == 1 && open[0].guardian == f.mum.id && open[0].children == [f.amy.id, f.ben.id] && open[0].code == code)
        #expect(try f.h.db.verify().ok, "the chain holds")
        // The uploaded events stay as they are: member and group, nothing of the drop-off.
        let events = try f.h.db.events(after: 0, limit: 10)
        #expect(events.map(\.member) == [f.amy.id, f.ben.id] && events.allSatisfy { $0.group == .child && $0.via == .scan })
    }

    @Test("a failure half-way through a drop-off leaves nothing: no event, no visit, no code, no drop-off, no slip")
    func dropOffIsOneTransaction() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        // The second child's event cannot be written (as a full disk or a crash mid-way would stop it).
        try f.h.db.writer.write {
            try $0.execute(
                sql: "CREATE TRIGGER fail_second AFTER INSERT ON event WHEN NEW.seq = 2 BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
        }
        #expect(throws: (any Error).self) {
            try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00", receipts: { _ in [FamilyHarness.slip("2026-11-28 09:00")] })
        }
        for table in ["event", "presence", "pickup_code", "dropoff", "print_job"] { #expect(try f.count(table) == 0, "\(table)") }

        // The slip failing after every child was written: nothing either.
        try f.h.db.writer.write { try $0.execute(sql: "DROP TRIGGER fail_second") }
        struct PrinterGone: Error {}
        #expect(throws: PrinterGone.self) { try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00", receipts: { _ in throw PrinterGone() }) }
        for table in ["event", "presence", "pickup_code", "dropoff", "print_job"] { #expect(try f.count(table) == 0, "\(table)") }

        // And the same drop-off then goes through whole.
        let h = try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00:10")
        let events = try f.count("event")
        #expect(h.moved.count == 2 && events == 2)
    }

    @Test("the slip takes out every child of the drop-off; the code is then spent")
    func slipPickUp() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        let code = try #require(try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00").pickupCode)
        let out = try f.pickUp(code, at: "2026-11-28 16:00")
        #expect(out.decisions.map(\.direction) == [.out, .out] && out.moved.count == 2)
        #expect(out.decisions.map(\.inside) == [1, 0])
        #expect(try f.count("presence") == 0)
        #expect(
            try f.h.db.openDropOffs(venues: [Fixtures.venue("kids")], at: Fixtures.at("2026-11-28 16:01"), policy: Fixtures.policy).isEmpty)
        let again = try f.pickUp(code, at: "2026-11-28 16:05")
        #expect(again.decisions.map(\.reason) == [.invalidCode], "a spent slip names no child")
    }

    @Test("the other registered guardian collects with the code; a stranger with the code takes nobody; only the holder's wards leave")
    func guardiansAndStrangers() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        let code = try #require(try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00").pickupCode)
        let stranger = try f.pickUp(code, card: f.strangerCard, at: "2026-11-28 15:00")
        let stillInside = try f.count("presence")
        #expect(stranger.decisions.map(\.reason) == [.notEligible, .notEligible] && stillInside == 2)
        let dad = try f.pickUp(code, card: f.dadCard, at: "2026-11-28 16:00")
        let leftInside = try f.count("presence")
        #expect(dad.moved.count == 2 && leftInside == 0)
        let collectedBy = try f.h.db.writer.read { try Int64.fetchAll($0, sql: "SELECT collected_by FROM pickup_code ORDER BY member") }
        #expect(collectedBy == [Int64(f.dad.id.number), Int64(f.dad.id.number)])
    }

    @Test("dropping off again while the children are inside changes nothing and records nothing")
    func secondDropOff() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        _ = try f.dropOff(f.mumCard, .all, at: "2026-11-28 09:00")
        let named = try f.dropOff(f.dadCard, .only([f.amy.id, f.ben.id]), at: "2026-11-28 09:30")
        #expect(named.decisions.allSatisfy { $0.isRepeat } && named.pickupCode == nil)
        let counts = try ["event", "dropoff"].map { try f.count($0) }
        #expect(counts == [2, 1])
        let all = try f.dropOff(f.dadCard, .all, at: "2026-11-28 09:31")
        #expect(all.decisions.isEmpty, "all = every child not inside")
    }

    @Test("the day's codes stay unique across drop-offs and single children")
    func codesUnique() throws {
        var f = try FamilyHarness()
        defer { f.h.dir.remove() }
        let a = try #require(try f.dropOff(f.mumCard, .only([f.amy.id]), at: "2026-11-28 09:00").pickupCode)
        let b = try #require(try f.dropOff(f.strangerCard, .only([f.other.id]), at: "2026-11-28 09:01").pickupCode)
        #expect(a != b)
        let dup = try f.h.db.writer.read {
            try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM (SELECT code FROM dropoff GROUP BY day, code HAVING COUNT(*) > 1)")
        }
        #expect(dup == 0)
    }

    @Test("v10-household keeps the day's single-child codes (still one child per code) and adds the drop-off columns")
    func migrationKeepsCodes() throws {
        let dir = TemporaryDirectory("migration")
        defer { dir.remove() }
        let queue = try DatabaseQueue(path: dir.path + "/old.sqlite")
        try AppDatabase.migrator.migrate(queue, upTo: "v9-corrections")
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash)
                    VALUES (1, 'e1', '2026-11-28T01:00:00Z', 'kids', 30, 'child', 'in', 'accepted', NULL, 'scan', ?, ?)
                    """, arguments: [String(repeating: "0", count: 64), String(repeating: "a", count: 64)])
            try db.execute(
                sql: "INSERT INTO pickup_code (day, code, venue, member, checkin_seq) VALUES ('2026-11-28', 'K7Q', 'kids', 30, 1)")
        }
        try AppDatabase.migrator.migrate(queue)
        let row = try queue.read { try Row.fetchOne($0, sql: "SELECT code, member, dropoff, collected_by FROM pickup_code") }
        #expect(row?["code"] as String? == "K7Q" && row?["member"] as Int64? == 30)
        #expect(row?["dropoff"] as Int64? == nil && row?["collected_by"] as Int64? == nil)
        // A code without a drop-off still names one child only.
        #expect(throws: DatabaseError.self) {
            try queue.write {
                try $0.execute(
                    sql: "INSERT INTO pickup_code (day, code, venue, member, checkin_seq) VALUES ('2026-11-28', 'K7Q', 'kids', 31, 1)")
            }
        }
    }
}
