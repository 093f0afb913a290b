import Foundation
import GRDB
import JiayuanDomain

/// Why a correction was refused; each case says what to do in plain words.
public enum CorrectionError: PlainWordsError, Equatable, Sendable {
    /// No event has that seq.
    case noSuchEvent(seq: Int64)
    /// The event is not an accepted check-in (a refusal, a check-out or a correction cannot be voided).
    case notACheckIn(seq: Int64)
    /// The check-in was already voided by correction `by`.
    case alreadyCorrected(seq: Int64, by: Int64)
    /// The reason is empty, longer than `StaffReason.maxLength` or holds control characters.
    case badReason
    /// The check-in is another member's than the one the staff member was looking at.
    case otherMember(seq: Int64)

    public var plainWords: String {
        switch self {
        case .noSuchEvent(let seq):
            "没有第 \(seq) 号记录。No event number \(seq): check the number on the member's visits list."
        case .notACheckIn(let seq):
            "第 \(seq) 号记录不是签到，不能更正。Event \(seq) is not an accepted check-in; only a check-in can be voided."
        case .alreadyCorrected(let seq, let by):
            "第 \(seq) 号签到已由第 \(by) 号记录更正。Check-in \(seq) was already voided by event \(by)."
        case .otherMember(let seq):
            "第 \(seq) 号签到不是这位会员的。Check-in \(seq) is another member's: open that member's page."
        case .badReason:
            "请写明更正原因（1 到 \(StaffReason.maxLength) 个字）。Give a reason of 1 to \(StaffReason.maxLength) characters."
        }
    }
}

/// The reason staff give for an exceptional action (a correction, a child released without the code): kept on
/// the kiosk (audit log, waived fee), never uploaded.
public enum StaffReason {
    /// The longest reason accepted, in characters.
    public static let maxLength = 200

    /// The reason trimmed, or nil when it is empty, too long or holds control characters.
    public static func validated(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maxLength,
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return trimmed
    }
}

/// What a correction did.
public struct Correction: Sendable, Equatable {
    /// The new event (`outcome` void) that voids `voided`.
    public var event: AttendanceEvent
    /// The check-in that no longer counts.
    public var voided: AttendanceEvent
    /// The member was still inside and is not any more.
    public var wasInside: Bool
    /// The day-care fee of the voided visit, now waived (nil when there was none).
    public var waivedFee: DaycareFee?
}

extension AppDatabase {
    /// Voids a wrong check-in (wrong venue or wrong person) by appending a correction event that names it; the
    /// check-in itself is never edited. In one transaction: the member is taken off the floor if still
    /// inside, a pickup code of the visit stops working, its staff alert is settled, a day-care fee of the
    /// visit is waived with the reason, and the audit entry is written.
    ///
    /// - Parameters:
    ///   - member: when given, the check-in must be this member's (the console corrects from a member's page).
    ///   - staff: the staff account, or nil for the command line at the kiosk.
    public func correct(
        seq: Int64, of member: MemberID?, reason: String, at now: Date, staff: Int64?, rng: inout some RandomNumberGenerator
    ) throws -> Correction {
        guard let reason = StaffReason.validated(reason) else { throw CorrectionError.badReason }
        return try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM event WHERE seq = ?", arguments: [seq]) else {
                throw CorrectionError.noSuchEvent(seq: seq)
            }
            let original = try Self.decodeEvent(row)
            guard original.outcome == .accepted, original.direction == .in else { throw CorrectionError.notACheckIn(seq: seq) }
            if let member, original.member != member { throw CorrectionError.otherMember(seq: seq) }
            if let by = try Int64.fetchOne(db, sql: "SELECT seq FROM event WHERE corrects = ?", arguments: [seq]) {
                throw CorrectionError.alreadyCorrected(seq: seq, by: by)
            }
            let head = try ChainHead.read(db)
            let event = AttendanceEvent(
                seq: head.seq + 1, id: Self.makeUUID(&rng), at: max(now, original.at), venue: original.venue, member: original.member,
                group: original.group, direction: .in, outcome: .void, reason: nil, via: .staff, prevHash: head.hash, corrects: seq)
            try Self.insertEvent(db, event, codeDigest: nil)
            let stamp = Stamp.text(event.at)
            try db.execute(sql: "DELETE FROM presence WHERE since_seq = ?", arguments: [seq])
            let wasInside = db.changesCount > 0
            try db.execute(
                sql: "UPDATE pickup_code SET checkout_seq = ? WHERE checkin_seq = ? AND checkout_seq IS NULL", arguments: [event.seq, seq])
            try db.execute(sql: "UPDATE alert SET resolved_at = ? WHERE since_seq = ? AND resolved_at IS NULL", arguments: [stamp, seq])
            var fee: DaycareFee?
            if let member = original.member {
                // The visit's check-out recorded its fee with the check-in's time.
                try db.execute(
                    sql: """
                        UPDATE daycare_fee SET waived_by = ?, waived_reason = ?
                        WHERE member = ? AND venue = ? AND checkin_at = ? AND waived_by IS NULL
                        """,
                    arguments: [event.seq, reason, Int64(member.number), original.venue, Stamp.text(original.at)])
                fee = try Row.fetchOne(db, sql: "SELECT * FROM daycare_fee WHERE waived_by = ?", arguments: [event.seq])
                    .map(Self.daycareFee)
            }
            try Self.audit(
                db,
                AuditNote(
                    staff: staff, action: "event.correct", member: original.member,
                    detail: "voids check-in \(seq) at \(original.venue): \(reason)", at: now))
            return Correction(event: event, voided: original, wasInside: wasInside, waivedFee: fee)
        }
    }

    /// The seqs of check-ins voided by corrections, among `seqs`.
    public func voidedCheckIns(among seqs: [Int64]) throws -> Set<Int64> {
        guard !seqs.isEmpty else { return [] }
        return try read { db in
            Set(
                try Int64.fetchAll(
                    db, sql: "SELECT corrects FROM event WHERE corrects IN (\(databaseQuestionMarks(count: seqs.count)))",
                    arguments: StatementArguments(seqs)))
        }
    }
}
