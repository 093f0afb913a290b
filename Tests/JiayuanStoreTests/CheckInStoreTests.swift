import Foundation
import GRDB
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

/// The store with a real SQLite file (WAL) unless a test says otherwise.
struct StoreHarness {
    let dir = TemporaryDirectory("store")
    let db: AppDatabase
    let engine = CheckInEngine(policy: Fixtures.policy)
    var rng = SeededRandom(seed: 11)

    init(file: Bool = true) throws {
        db = file ? try AppDatabase.open(path: dir.path + "/jiayuan.sqlite") : try AppDatabase.inMemory()
    }

    func add(_ name: String, _ group: MemberGroup, born: Int = 1980, flags: Set<MemberFlag> = [], guardians: [MemberID] = []) throws
        -> Member
    {
        try db.addMember(
            NewMember(name: name, group: group, born: born, flags: flags, guardians: guardians), at: Fixtures.at("2026-11-01 09:00"))
    }

    func issue(_ m: Member, on day: String = "2026-11-01") throws -> IssuedCard {
        try db.issueCard(
            member: m.id, keyID: 1, today: CivilDate(iso: day)!, validityDays: 365, at: Fixtures.at(day + " 09:00"),
            sign: Fixtures.signingKey.sign)
    }

    mutating func scan(_ code: String, _ venue: String, _ at: String, guardianCode: String? = nil) throws -> Decision {
        try db.recordCheckIn(
            ScanReading.read(code, keys: Fixtures.keyring), codeDigest: Kiosk.codeDigest(code), venue: Fixtures.venue(venue),
            at: Fixtures.at(at), guardianCode: guardianCode, engine: engine, rng: &rng)
    }

    func eventCount() throws -> Int { try db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM event") ?? 0 } }
}

@Suite("Store: the attendance log", .blocking)
struct CheckInStoreTests {
    @Test("an accepted check-in is in the file, chained, and survives reopening")
    func durable() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let m = try h.add("王秀英", .elder)
        let card = try h.issue(m)
        let d = try h.scan(card.code, "library", "2026-11-28 10:00")
        #expect(d.accepted && d.seq == 1 && d.inside == 1)
        let reopened = try AppDatabase.open(path: h.dir.path + "/jiayuan.sqlite")
        let events = try reopened.events(after: 0, limit: 10)
        #expect(events.count == 1)
        #expect(events[0].prevHash == AttendanceEvent.genesisHash)
        #expect(events[0].member == m.id && events[0].group == .elder && events[0].direction == .in)
        #expect(try reopened.verify().ok)
        let mode = try reopened.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        let sync = try reopened.writer.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") }
        #expect(sync == 2, "synchronous=FULL")
    }

    @Test("every decision but a repeat is one event; a debounced repeat records nothing")
    func repeats() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let m = try h.add("张伟", .resident)
        let card = try h.issue(m)
        let a = try h.scan(card.code, "library", "2026-11-28 07:00")  // closed: denied, recorded
        let b = try h.scan(card.code, "library", "2026-11-28 07:00:03")  // debounced
        #expect(a.reason == .closed && a.seq == 1)
        #expect(b.isRepeat && b.seq == 1 && b.reason == .closed)
        let c = try h.scan(card.code, "library", "2026-11-28 10:00")
        let d = try h.scan(card.code, "library", "2026-11-28 10:00:30")  // within minimum stay
        #expect(c.accepted && c.seq == 2)
        #expect(d.isRepeat && d.seq == 2)
        let e = try h.scan(card.code, "library", "2026-11-28 11:00")
        #expect(e.direction == .out && e.seq == 3 && e.inside == 0)
        let junk = try h.scan("garbage \u{7}", "library", "2026-11-28 11:00")
        #expect(junk.reason == .invalidCode && junk.seq == 4 && junk.member == nil)
        #expect(try h.eventCount() == 4)
        #expect(try h.db.verify().ok)
    }

    @Test("the log is append-only: updates and deletes are refused by the schema")
    func appendOnly() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        _ = try h.scan("nonsense", "gym", "2026-11-28 10:00")
        #expect(throws: DatabaseError.self) { try h.db.writer.write { try $0.execute(sql: "UPDATE event SET venue = 'x'") } }
        #expect(throws: DatabaseError.self) { try h.db.writer.write { try $0.execute(sql: "DELETE FROM event") } }
        #expect(try h.eventCount() == 1)
    }

    @Test("verify names the first broken seq after tampering")
    func tamper() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        for i in 0..<5 { _ = try h.scan("junk\(i)", "gym", "2026-11-28 10:0\(i)") }
        try h.db.writer.write { db in
            try db.execute(sql: "DROP TRIGGER event_append_only_update")
            try db.execute(sql: "UPDATE event SET venue = 'library' WHERE seq = 3")
        }
        let report = try h.db.verify()
        #expect(report.chainProblem == .wrongHash(seq: 3))
        #expect(!report.ok)
    }

    @Test("a re-issued card revokes the earlier one")
    func reissue() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let m = try h.add("刘建国", .veteran)
        let first = try h.issue(m)
        let second = try h.issue(m, on: "2026-11-20")
        #expect(second.serial == first.serial + 1)
        #expect(try h.scan(first.code, "veterans", "2026-11-28 10:00").reason == .revoked)
        #expect(try h.scan(second.code, "veterans", "2026-11-28 10:01").accepted)
        let cards = try h.db.cards(of: m.id)
        #expect(cards.map(\.revoked) == [false, true])
    }

    @Test("capacity is enforced from the store's count of who is inside")
    func capacity() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        var last: Decision?
        for i in 0..<31 {
            let m = try h.add("会员\(i)", .resident)
            last = try h.scan(try h.issue(m).code, "gym", "2026-11-28 10:00:\(String(format: "%02d", i))")
        }
        #expect(last?.reason == .full)
        #expect(
            try h.db.occupancy(venues: [Fixtures.venue("gym")], at: Fixtures.at("2026-11-28 10:01"), policy: Fixtures.policy)["gym"] == 30)
        // After the gym's 3-hour longest stay those visits no longer count.
        #expect(
            try h.db.occupancy(venues: [Fixtures.venue("gym")], at: Fixtures.at("2026-11-28 13:01"), policy: Fixtures.policy)["gym"] == 0)
    }

    @Test("children: a pickup code at check-in, out only with it or the slip, codes unique per day")
    func children() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let parent = try h.add("陈伟", .resident)
        var codes: Set<String> = []
        var cards: [String] = []
        for i in 0..<20 {
            let child = try h.add("陈子涵\(i)", .child, born: 2016, guardians: [parent.id])
            let card = try h.issue(child).code
            cards.append(card)
            let d = try h.scan(card, "kids", "2026-11-28 09:00:\(String(format: "%02d", i))")
            let code = try #require(d.pickupCode)
            #expect(!codes.contains(code))
            codes.insert(code)
        }
        let denied = try h.scan(cards[0], "kids", "2026-11-28 16:00")
        #expect(denied.reason == .guardianCodeRequired && denied.direction == .out)
        let pickup = try h.db.writer.read { try String.fetchOne($0, sql: "SELECT code FROM pickup_code WHERE checkin_seq = 1") }!
        let slip = try h.scan("JYK:" + pickup, "kids", "2026-11-28 16:01")
        #expect(slip.accepted && slip.direction == .out && slip.member?.displayName == "陈**0")
        let reuse = try h.scan("JYK:" + pickup, "kids", "2026-11-28 16:05")
        #expect(reuse.reason == .invalidCode, "a slip works once")
        let code2 = try h.db.writer.read { try String.fetchOne($0, sql: "SELECT code FROM pickup_code WHERE checkin_seq = 2") }!
        #expect(try h.scan(cards[1], "kids", "2026-11-28 16:02", guardianCode: code2.lowercased()).accepted)
    }

    @Test("day care: the fee is stored in fen with the check-out event")
    func daycareFee() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let elder = try h.add("李桂兰", .elder, born: 1944, flags: [.lowIncome])
        let other = try h.add("王秀英", .elder, born: 1948)
        let c1 = try h.issue(elder).code
        let c2 = try h.issue(other).code
        _ = try h.scan(c1, "daycare", "2026-11-28 08:00")
        _ = try h.scan(c2, "daycare", "2026-11-28 08:00")
        let out1 = try h.scan(c1, "daycare", "2026-11-28 17:00")
        let out2 = try h.scan(c2, "daycare", "2026-11-28 11:00")
        #expect(out1.charge?.free == true && out1.charge?.amountFen == 0)
        #expect(out2.charge?.amountFen == 1000)
        let rows = try h.db.writer.read { try Row.fetchAll($0, sql: "SELECT amount_fen, free FROM daycare_fee ORDER BY checkout_seq") }
        #expect(rows.map { $0["amount_fen"] as Int } == [0, 1000])
        // A repeat of the check-out scan shows the same fee without recording it again.
        let again = try h.scan(c2, "daycare", "2026-11-28 11:00:02")
        #expect(again.isRepeat && again.charge?.amountFen == 1000)
    }

    @Test("sweep: auto check-outs and alerts, and a second sweep does nothing new")
    func sweep() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let r = try h.add("张伟", .resident)
        let e = try h.add("王秀英", .elder, born: 1948)
        _ = try h.scan(try h.issue(r).code, "gym", "2026-11-28 19:00")
        _ = try h.scan(try h.issue(e).code, "daycare", "2026-11-28 08:00")
        let first = try h.db.sweep(venues: Fixtures.config.venues, at: Fixtures.at("2026-11-28 22:00"), engine: h.engine, rng: &h.rng)
        #expect(first.checkedOut.count == 1 && first.checkedOut[0].via == .auto && first.checkedOut[0].venue == "gym")
        #expect(first.alerts.map(\.member) == [e.id])
        let second = try h.db.sweep(venues: Fixtures.config.venues, at: Fixtures.at("2026-11-28 22:05"), engine: h.engine, rng: &h.rng)
        #expect(second.checkedOut.isEmpty && second.alerts.isEmpty)
        #expect(try h.db.openAlerts().count == 1)
        let auto = try h.db.events(after: 0, limit: 10).last!
        #expect(auto.via == .auto && auto.direction == .out && auto.at == Fixtures.at("2026-11-28 21:00"))
        // Collected late: the elder can still be checked out after closing, and the alert is settled.
        let late = try h.scan(try h.db.cards(of: e.id)[0].code, "daycare", "2026-11-28 22:30")
        #expect(late.accepted && late.direction == .out && late.charge?.amountFen == 2600)
        #expect(try h.db.openAlerts().isEmpty)
        // Next morning a leftover visit would not count: a scan is a new check-in.
        #expect(try h.db.verify().ok)
    }

    @Test("a new visit over an old one no sweep closed first records the automatic check-out of the old one")
    func staleVisitClosed() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let r = try h.add("张伟", .resident)
        let e = try h.add("王秀英", .elder, born: 1948)
        let rc = try h.issue(r).code
        let ec = try h.issue(e).code
        _ = try h.scan(rc, "gym", "2026-11-28 10:00")
        _ = try h.scan(ec, "daycare", "2026-11-28 08:00")
        // Next morning, with no sweep in between (the kiosk was off overnight).
        let gym = try h.scan(rc, "gym", "2026-11-29 10:00")
        let care = try h.scan(ec, "daycare", "2026-11-29 08:00")
        #expect(gym.accepted && gym.direction == .in && care.accepted && care.direction == .in)
        let events = try h.db.events(after: 0, limit: 10)
        #expect(events.map(\.direction) == [.in, .in, .out, .in, .out, .in])
        #expect(
            events[2].via == .auto && events[2].venue == "gym" && events[2].at == Fixtures.at("2026-11-28 13:00"),
            "the gym's 3-hour longest stay")
        #expect(
            events[4].via == .auto && events[4].venue == "daycare" && events[4].at == Fixtures.at("2026-11-28 18:00"), "day care's closing")
        #expect(
            try h.db.occupancy(venues: Fixtures.config.venues, at: Fixtures.at("2026-11-29 10:05"), policy: Fixtures.policy)["gym"] == 1)
        #expect(try h.db.verify().ok)
    }

    @Test("two writers on one file never fork the chain")
    func concurrentWriters() async throws {
        let h = try StoreHarness()
        defer { h.dir.remove() }
        var codes: [String] = []
        for i in 0..<20 { codes.append(try h.issue(try h.add("会员\(i)", .veteran)).code) }
        let path = h.dir.path + "/jiayuan.sqlite"
        let allCodes = codes
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<2 {
                group.addTask {
                    let db = try AppDatabase.open(path: path)
                    var rng = SeededRandom(seed: UInt64(w))
                    let engine = CheckInEngine(policy: Fixtures.policy)
                    for i in 0..<50 {
                        let code = allCodes[(i * 2 + w) % allCodes.count]
                        _ = try db.recordCheckIn(
                            ScanReading.read(code, keys: Fixtures.keyring), codeDigest: "w\(w)-\(i)", venue: Fixtures.venue("veterans"),
                            at: Fixtures.at("2026-11-28 10:00").addingTimeInterval(Double(i * 120)), engine: engine, rng: &rng)
                    }
                }
            }
            try await group.waitForAll()
        }
        let report = try h.db.verify()
        #expect(report.ok && report.eventCount == 100)
    }

    @Test("reports count visits per venue and group, unique members and denials")
    func report() throws {
        var h = try StoreHarness(file: false)
        let a = try h.add("张伟", .resident)
        let b = try h.add("王秀英", .elder, born: 1948)
        let ca = try h.issue(a).code
        let cb = try h.issue(b).code
        _ = try h.scan(ca, "library", "2026-11-28 09:00")
        _ = try h.scan(ca, "library", "2026-11-28 10:00")  // out
        _ = try h.scan(ca, "library", "2026-11-28 11:00")  // in again
        _ = try h.scan(cb, "library", "2026-11-28 09:30")
        _ = try h.scan(cb, "gym", "2026-11-28 05:00")  // closed
        _ = try h.scan(ca, "library", "2026-11-29 09:00")  // next day (out)
        let r = try h.db.report(from: Fixtures.at("2026-11-28 00:00"), to: Fixtures.at("2026-11-29 00:00"))
        #expect(r.visits["library"]?[.resident] == 2)
        #expect(r.visits["library"]?[.elder] == 1)
        #expect(r.uniqueMembers["library"] == 2)
        #expect(r.uniqueMembersTotal == 2)
        #expect(r.denials["gym"]?[.closed] == 1)
    }
}
