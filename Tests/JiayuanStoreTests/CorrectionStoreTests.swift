import Foundation
import GRDB
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

@Suite("Store: correcting a wrong check-in", .blocking)
struct CorrectionStoreTests {
    @Test("a correction is a new chained event naming the check-in; the member leaves the floor; the figures leave it out")
    func voidsAVisit() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let a = try h.add("王秀英", .elder)
        let b = try h.add("张伟", .resident)
        let ca = try h.issue(a)
        let cb = try h.issue(b)
        let wrong = try h.scan(ca.code, "gym", "2026-11-28 10:00")
        _ = try h.scan(cb.code, "gym", "2026-11-28 10:05")
        let seq = try #require(wrong.seq)
        let day = (Fixtures.at("2026-11-28 00:00"), Fixtures.at("2026-11-29 00:00"))
        #expect(try h.db.report(from: day.0, to: day.1).visits["gym"]?[.elder] == 1)

        let c = try h.db.correct(
            seq: seq, of: nil, reason: " 场所选错 wrong venue ", at: Fixtures.at("2026-11-28 10:07"), staff: nil, rng: &h.rng)
        #expect(c.event.seq == 3 && c.event.outcome == .void && c.event.corrects == seq && c.event.via == .staff)
        #expect(c.event.member == a.id && c.event.venue == "gym" && c.event.direction == .in && c.event.reason == nil)
        #expect(c.wasInside)
        // Nothing was edited: the check-in is still in the log as it was, and the chain verifies.
        let events = try h.db.events(after: 0, limit: 10)
        #expect(events.count == 3 && events[0].outcome == .accepted && events[0].hash == c.voided.hash)
        #expect(events[2].corrects == seq && events[2].prevHash == events[1].hash)
        #expect(try h.db.verify().ok)
        // Off the floor; the other member still inside.
        let inside = try h.db.writer.read { try Int.fetchAll($0, sql: "SELECT member FROM presence WHERE venue = 'gym'") }
        #expect(inside == [Int(b.id.number)])
        // The figures: one visit, one unique member, the voided one counted apart; per hour likewise.
        let r = try h.db.report(from: day.0, to: day.1)
        #expect(r.visits["gym"]?[.elder] == nil && r.visits["gym"]?[.resident] == 1)
        #expect(r.uniqueMembersTotal == 1 && r.uniqueMembers["gym"] == 1 && r.voided["gym"] == 1)
        #expect(try h.db.checkInsPerHour(from: day.0, to: day.1).map(\.1).reduce(0, +) == 1)
        // Audited, with the reason, trimmed.
        let audit = try h.db.writer.read { try Row.fetchOne($0, sql: "SELECT * FROM audit WHERE action = 'event.correct'") }
        #expect((audit?["detail"] as String?) == "voids check-in \(seq) at gym: 场所选错 wrong venue")
        // The member can check in again at once, as a new visit.
        let again = try h.scan(ca.code, "gym", "2026-11-28 10:08")
        #expect(again.accepted && again.direction == .in)
    }

    @Test("a day-care visit already checked out: its fee is waived with the reason and can no longer be marked paid")
    func waivesTheFee() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let m = try h.add("李桂兰", .elder, born: 1946)
        let card = try h.issue(m)
        let inside = try h.scan(card.code, "daycare", "2026-11-28 08:00")
        let out = try h.scan(card.code, "daycare", "2026-11-28 17:00")
        #expect(try #require(out.charge).amountFen > 0)
        let c = try h.db.correct(
            seq: try #require(inside.seq), of: m.id, reason: "wrong person", at: Fixtures.at("2026-11-28 17:30"), staff: nil, rng: &h.rng)
        #expect(!c.wasInside)
        let fee = try #require(c.waivedFee)
        #expect(fee.checkoutSeq == out.seq && fee.waivedBy == c.event.seq && fee.waivedReason == "wrong person" && fee.settled)
        let listed = try h.db.daycareFees(from: Fixtures.at("2026-11-28 00:00"), to: Fixtures.at("2026-11-29 00:00"))
        #expect(listed.map(\.waivedBy) == [c.event.seq])
        #expect(throws: StoreError.self) { try h.db.markFeePaid(checkoutSeq: fee.checkoutSeq, by: 1, at: Fixtures.at("2026-11-28 18:00")) }
    }

    @Test("only an accepted check-in can be voided, once, by its own member, with a reason; a refusal records nothing")
    func refusals() throws {
        var h = try StoreHarness()
        defer { h.dir.remove() }
        let a = try h.add("王秀英", .elder)
        let b = try h.add("张伟", .resident)
        let card = try h.issue(a)
        let closed = try h.scan(card.code, "library", "2026-11-28 07:00")  // denied: closed
        let inside = try h.scan(card.code, "library", "2026-11-28 10:00")
        let out = try h.scan(card.code, "library", "2026-11-28 11:00")
        let at = Fixtures.at("2026-11-28 12:00")
        let seqIn = try #require(inside.seq)
        func correct(_ seq: Int64?, of member: MemberID? = nil, reason: String = "wrong venue") throws {
            _ = try h.db.correct(seq: seq ?? 0, of: member, reason: reason, at: at, staff: nil, rng: &h.rng)
        }
        #expect(throws: CorrectionError.noSuchEvent(seq: 99)) { try correct(99) }
        #expect(throws: CorrectionError.notACheckIn(seq: closed.seq!)) { try correct(closed.seq) }
        #expect(throws: CorrectionError.notACheckIn(seq: out.seq!)) { try correct(out.seq) }
        #expect(throws: CorrectionError.otherMember(seq: seqIn)) { try correct(seqIn, of: b.id) }
        for reason in ["", "   ", String(repeating: "错", count: StaffReason.maxLength + 1), "bad\u{0007}reason"] {
            #expect(throws: CorrectionError.badReason) { try correct(seqIn, reason: reason) }
        }
        #expect(try h.eventCount() == 3, "nothing recorded by a refused correction")
        try correct(seqIn, of: a.id)
        #expect(throws: CorrectionError.alreadyCorrected(seq: seqIn, by: 4)) { try correct(seqIn) }
        #expect(throws: CorrectionError.notACheckIn(seq: 4)) { try correct(4) }
        #expect(try h.eventCount() == 4)
        // The schema itself refuses a second correction of the same check-in, or one naming nothing.
        #expect(throws: (any Error).self) {
            try h.db.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO event (seq, id, at, venue, direction, outcome, via, prev_hash, hash, corrects)
                        VALUES (5, 'x', 'x', 'library', 'in', 'void', 'staff', ?, ?, ?)
                        """, arguments: [String(repeating: "0", count: 64), String(repeating: "1", count: 64), seqIn])
            }
        }
        #expect(throws: (any Error).self) {
            try h.db.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO event (seq, id, at, venue, direction, outcome, via, prev_hash, hash)
                        VALUES (5, 'y', 'x', 'library', 'in', 'void', 'staff', ?, ?)
                        """, arguments: [String(repeating: "0", count: 64), String(repeating: "2", count: 64)])
            }
        }
    }

    @Test("a log written before corrections existed is carried over by the upgrade: same rows, same hashes, still verifies")
    func upgradeKeepsOldLogs() throws {
        let dir = TemporaryDirectory("store-upgrade")
        defer { dir.remove() }
        let path = dir.path + "/jiayuan.sqlite"
        // The schema as shipped before this change (migrations up to v8), with a log written in it.
        var written: [AttendanceEvent] = []
        do {
            let pool = try DatabasePool(path: path)
            try AppDatabase.migrator.migrate(pool, upTo: "v8: a member's visits by member")
            var prev = AttendanceEvent.genesisHash
            for seq in Int64(1)...4 {
                let denied = seq == 4
                let e = AttendanceEvent(
                    seq: seq, id: "00000000-0000-4000-8000-00000000000\(seq)", at: Fixtures.at("2026-11-28 10:0\(seq)"), venue: "gym",
                    member: MemberID("M000123"), group: .elder, direction: seq % 2 == 1 ? .in : .out, outcome: denied ? .denied : .accepted,
                    reason: denied ? .closed : nil, via: .scan, prevHash: prev)
                try pool.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash)
                            VALUES (?, ?, ?, ?, 123, 'elder', ?, ?, ?, 'scan', ?, ?)
                            """,
                        arguments: [
                            e.seq, e.id, ISOTime.format(e.at), e.venue, e.direction.rawValue, e.outcome.rawValue, e.reason?.rawValue,
                            e.prevHash, e.hash,
                        ])
                }
                written.append(e)
                prev = e.hash
            }
        }
        let upgraded = try AppDatabase.open(path: path)
        #expect(try upgraded.events(after: 0, limit: 10) == written)
        #expect(try upgraded.verify().ok)
        // And the upgraded log takes a correction of its old check-in.
        var rng = SeededRandom(seed: 3)
        let c = try upgraded.correct(seq: 3, of: nil, reason: "wrong venue", at: Fixtures.at("2026-11-28 12:00"), staff: nil, rng: &rng)
        #expect(c.event.seq == 5 && c.event.prevHash == written[3].hash)
        #expect(try upgraded.verify().ok)
    }
}
