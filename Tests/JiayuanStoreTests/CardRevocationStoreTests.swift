import Foundation
import GRDB
import JiayuanDomain
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

@Suite("Store: card revocations", .blocking)
struct CardRevocationStoreTests {
    @Test("the v5 migration keeps what earlier re-issues meant: older serials and earlier cards of other desks are void")
    func migrationBackfill() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v4: staff accounts, sessions and the audit log")
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO member (id, name, \"group\", active, created_at) VALUES (7, '王英', 'elder', 1, '2026-01-01T00:00:00Z')")
            for (serial, day) in [(1, 1000), (2, 1050)] {
                try db.execute(
                    sql: """
                        INSERT INTO card (member, serial, key_id, issued_day, valid_until_day, code, issued_at, revoked_at)
                        VALUES (7, ?, 1, ?, 3000, ?, '2026-01-01T00:00:00Z', ?)
                        """,
                    arguments: [serial, day, "code\(serial)", serial == 1 ? "2026-02-01T00:00:00Z" : nil])
            }
        }
        let db = try AppDatabase(queue)
        let revocations = Set(try db.cardRevocations(local: true))
        let member = MemberID(number: 7)!
        #expect(
            revocations == [
                CardRevocation(member: member, keyID: 1, scope: .below(2)),
                CardRevocation(member: member, keyID: 1, scope: .othersIssuedThrough(CivilDate(cardDay: 1049))),
            ])
        // Another desk's card issued before the re-issue is void; one issued on its day is not.
        #expect(try db.isCardVoid(CardPayload(keyID: 2, member: 7, serial: 9, issued: 1049, validUntil: 3000)))
        #expect(try !db.isCardVoid(CardPayload(keyID: 2, member: 7, serial: 9, issued: 1050, validUntil: 3000)))
        #expect(try !db.isCardVoid(CardPayload(keyID: 1, member: 7, serial: 2, issued: 1050, validUntil: 3000)))
        #expect(try db.isCardVoid(CardPayload(keyID: 1, member: 7, serial: 1, issued: 1000, validUntil: 3000)))
        #expect(try db.isCardVoid(CardPayload(keyID: 1, member: 7, serial: 3, issued: 1060, validUntil: 3000)), "never issued here")
    }

    @Test("imported revocations are stored once and never replace this desk's own")
    func importOnce() throws {
        let db = try AppDatabase.inMemory()
        let member = MemberID(number: 3)!
        let r = [CardRevocation(member: member, keyID: 4, scope: .serial(2)), CardRevocation(member: member, keyID: 4, scope: .below(2))]
        #expect(try db.importRevocations(r, at: Fixtures.at("2026-11-28 09:00")) == 2)
        #expect(try db.importRevocations(r, at: Fixtures.at("2026-11-28 09:05")) == 0)
        #expect(try db.cardRevocations(local: true).isEmpty, "imported ones are not exported again")
        #expect(Set(try db.cardRevocations(local: false)) == Set(r))
        #expect(try db.isCardVoid(CardPayload(keyID: 4, member: 3, serial: 2, issued: 1000, validUntil: 3000)))
        #expect(try db.isCardVoid(CardPayload(keyID: 4, member: 3, serial: 1, issued: 1000, validUntil: 3000)))
        #expect(try !db.isCardVoid(CardPayload(keyID: 4, member: 3, serial: 3, issued: 1000, validUntil: 3000)))
    }
}
