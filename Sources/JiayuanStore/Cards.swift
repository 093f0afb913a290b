import Foundation
import GRDB
import JiayuanDomain

/// A card as recorded at the desk that issued it.
public struct IssuedCard: Hashable, Sendable {
    public var member: MemberID
    public var serial: UInt16
    public var keyID: UInt8
    public var issued: CivilDate
    public var validUntil: CivilDate
    /// The `JY1:` code printed as the card's QR.
    public var code: String
    public var revoked: Bool
}

extension AppDatabase {
    /// Issues the member's next card (serial + 1), revoking all earlier ones, in one transaction.
    /// `sign` turns the payload into the card code.
    public func issueCard(
        member: MemberID, keyID: UInt8, today: CivilDate, validityDays: Int, at now: Date,
        sign: (CardPayload) throws -> String
    ) throws -> IssuedCard {
        try issueCard(member: member, keyID: keyID, today: today, validityDays: validityDays, at: now, sign: sign, print: nil, audit: nil).0
    }

    /// Issues the member's next card and, in the same transaction, its print job (made by `print` from the
    /// new card) and the audit entry (detail: the serial and the job).
    public func issueCard(
        member: MemberID, keyID: UInt8, today: CivilDate, validityDays: Int, at now: Date,
        sign: (CardPayload) throws -> String, print: ((IssuedCard) throws -> NewPrintJob)?, audit: AuditNote?
    ) throws -> (IssuedCard, PrintJob?) {
        try write { db in
            guard let m = try Self.fetchMember(db, member) else { throw StoreError("no member \(member)") }
            guard m.active else { throw StoreError("\(member) is not active; reactivate the member before issuing a card") }
            let last = try Int.fetchOne(db, sql: "SELECT MAX(serial) FROM card WHERE member = ?", arguments: [Int64(member.number)]) ?? 0
            guard last < Int(UInt16.max) else { throw StoreError("\(member) has used every card serial") }
            let validUntil = today.adding(days: validityDays)
            guard today.cardDay >= 0, validUntil.cardDay <= Int(UInt16.max) else {
                throw StoreError("the date \(today) cannot be written on a card")
            }
            let payload = CardPayload(
                keyID: keyID, member: member.number, serial: UInt16(last + 1), issued: UInt16(today.cardDay),
                validUntil: UInt16(validUntil.cardDay))
            let code = try sign(payload)
            try db.execute(
                sql: "UPDATE card SET revoked_at = ? WHERE member = ? AND revoked_at IS NULL",
                arguments: [Stamp.text(now), Int64(member.number)])
            // What this issue withdraws, for other desks too: this desk's earlier serials, and every card
            // another desk issued the member before today (serials are per desk and say nothing across desks;
            // a card another desk issues the same day is left alone, so two desks never void each other's
            // cards of one day — `card revoke` withdraws those).
            var withdrawn = [CardRevocation(member: member, keyID: keyID, scope: .othersIssuedThrough(today.adding(days: -1)))]
            if last >= 1 { withdrawn.append(CardRevocation(member: member, keyID: keyID, scope: .below(UInt16(last + 1)))) }
            try Self.insertRevocations(db, withdrawn, local: true, at: now)
            try db.execute(
                sql: """
                    INSERT INTO card (member, serial, key_id, issued_day, valid_until_day, code, issued_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(member.number), last + 1, Int(keyID), today.cardDay, validUntil.cardDay, code, Stamp.text(now),
                ])
            let card = IssuedCard(
                member: member, serial: UInt16(last + 1), keyID: keyID, issued: today, validUntil: validUntil, code: code,
                revoked: false)
            let job = try print.map { try Self.fetchPrintJob(db, Self.insertPrintJob(db, $0(card)))! }
            if var audit {
                audit.member = member
                audit.detail = "serial \(card.serial)" + (job.map { ", print job \($0.id)" } ?? "")
                try Self.audit(db, audit)
            }
            return (card, job)
        }
    }

    /// The member's cards, newest first.
    public func cards(of member: MemberID) throws -> [IssuedCard] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM card WHERE member = ? ORDER BY serial DESC", arguments: [Int64(member.number)])
                .map { row in
                    IssuedCard(
                        member: member, serial: UInt16(row["serial"] as Int), keyID: UInt8(row["key_id"] as Int),
                        issued: CivilDate(cardDay: row["issued_day"]), validUntil: CivilDate(cardDay: row["valid_until_day"]),
                        code: row["code"], revoked: (row["revoked_at"] as String?) != nil)
                }
        }
    }

    /// Withdraws the member's cards without a new one (a lost card, a member who left): the current card
    /// here and, as for a re-issue, every card another desk issued the member up to today. Returns the
    /// serial withdrawn here, nil when the member holds no current card from this desk.
    public func revokeCards(member: MemberID, keyID: UInt8, today: CivilDate, at now: Date) throws -> UInt16? {
        try write { db in
            guard try Self.fetchMember(db, member) != nil else { throw StoreError("no member \(member)") }
            let current = try Int.fetchOne(
                db, sql: "SELECT serial FROM card WHERE member = ? AND key_id = ? AND revoked_at IS NULL ORDER BY serial DESC LIMIT 1",
                arguments: [Int64(member.number), Int(keyID)])
            try db.execute(
                sql: "UPDATE card SET revoked_at = ? WHERE member = ? AND revoked_at IS NULL",
                arguments: [Stamp.text(now), Int64(member.number)])
            var withdrawn = [CardRevocation(member: member, keyID: keyID, scope: .othersIssuedThrough(today))]
            if let current { withdrawn.append(CardRevocation(member: member, keyID: keyID, scope: .serial(UInt16(current)))) }
            try Self.insertRevocations(db, withdrawn, local: true, at: now)
            return current.map(UInt16.init)
        }
    }

    /// The revocations made at this desk (`local`) or imported from others, by member.
    public func cardRevocations(local: Bool) throws -> [CardRevocation] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT member, key_id, kind, value FROM card_revocation WHERE local = ? ORDER BY member, key_id, kind, value",
                arguments: [local]
            ).compactMap { row in
                guard let member = MemberID(number: UInt32(row[0] as Int64)) else { return nil }
                return CardRevocation(member: member, keyID: UInt8(row[1] as Int), kind: row[2], value: row[3])
            }
        }
    }

    /// Stores revocations another desk made (from its `card keys --json`); returns how many were new.
    public func importRevocations(_ revocations: [CardRevocation], at now: Date) throws -> Int {
        try write { db in
            let before = db.totalChangesCount
            try Self.insertRevocations(db, revocations, local: false, at: now)
            return db.totalChangesCount - before
        }
    }

    static func insertRevocations(_ db: Database, _ revocations: [CardRevocation], local: Bool, at now: Date) throws {
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO card_revocation (member, key_id, kind, value, local, recorded_at) VALUES (?, ?, ?, ?, ?, ?)")
        for r in revocations {
            let (kind, value) = r.kindAndValue
            try insert.execute(arguments: [Int64(r.member.number), Int(r.keyID), kind, value, local, Stamp.text(now)])
        }
    }

    /// The SQL condition that a presented card (member ?1, key ?2, serial ?3, issued day ?4) is void here:
    /// - a card of this desk's (same key) with a higher serial, or this serial withdrawn;
    /// - a key this desk issues under, but no such card was issued here (a serial above anything issued
    ///   here: a restored old database or a stolen key);
    /// - a revocation made here or imported (see `CardRevocation`).
    static let cardVoidSQL = """
        (EXISTS (SELECT 1 FROM card c WHERE c.member = ?1 AND c.key_id = ?2
                 AND (c.serial > ?3 OR (c.serial = ?3 AND c.revoked_at IS NOT NULL)))
         OR (EXISTS (SELECT 1 FROM card c WHERE c.key_id = ?2)
             AND NOT EXISTS (SELECT 1 FROM card c WHERE c.member = ?1 AND c.key_id = ?2 AND c.serial = ?3))
         OR EXISTS (SELECT 1 FROM card_revocation r WHERE r.member = ?1 AND (
              (r.key_id = ?2 AND ((r.kind = 'below' AND ?3 < r.value) OR (r.kind = 'serial' AND ?3 = r.value)))
              OR (r.key_id <> ?2 AND r.kind = 'others_through' AND ?4 <= r.value))))
        """

    /// Whether a presented card is void here (`cardVoidSQL`).
    public func isCardVoid(_ payload: CardPayload) throws -> Bool {
        try read { db in
            try Bool.fetchOne(
                db, sql: "SELECT " + Self.cardVoidSQL,
                arguments: [Int64(payload.member), Int(payload.keyID), Int(payload.serial), Int(payload.issued)]) ?? false
        }
    }
}
