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
        try writer.write { db in
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
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM card WHERE member = ? ORDER BY serial DESC", arguments: [Int64(member.number)])
                .map { row in
                    IssuedCard(
                        member: member, serial: UInt16(row["serial"] as Int), keyID: UInt8(row["key_id"] as Int),
                        issued: CivilDate(cardDay: row["issued_day"]), validUntil: CivilDate(cardDay: row["valid_until_day"]),
                        code: row["code"], revoked: (row["revoked_at"] as String?) != nil)
                }
        }
    }

    /// Whether a presented card is the member's current one. A card this desk never saw (issued by another
    /// desk) is current unless a newer serial is known here.
    static func cardStanding(_ db: Database, _ payload: CardPayload) throws -> CardStanding {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT serial, revoked_at FROM card WHERE member = ? AND serial >= ?"),
            arguments: [Int64(payload.member), Int(payload.serial)])
        for row in rows {
            let serial: Int = row["serial"]
            if serial > Int(payload.serial) || (row["revoked_at"] as String?) != nil { return .revoked }
        }
        return .current
    }
}
