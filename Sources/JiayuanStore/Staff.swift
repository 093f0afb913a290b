import Foundation
import GRDB
import JiayuanDomain

/// A staff account (the PIN hash stays in the store).
public struct StaffAccount: Hashable, Sendable {
    public var id: Int64
    public var name: String
    public var role: StaffRole
    public var active: Bool
    public var failures: Int
    public var lockedUntil: Date?

    /// Its wrong-PIN count and lock, for `StaffPolicy`.
    public var standing: StaffPolicy.Standing { StaffPolicy.Standing(failures: failures, lockedUntil: lockedUntil) }
}

/// An audit entry to write in the same transaction as the staff action it records (so an action is never
/// kept without its entry, nor an entry without its action).
public struct AuditNote: Sendable, Equatable {
    /// The staff account, or nil for the command line at the kiosk itself (root or the `jiayuan` user).
    public var staff: Int64?
    public var action: String
    public var member: MemberID?
    public var detail: String
    public var at: Date

    /// An entry.
    public init(staff: Int64?, action: String, member: MemberID? = nil, detail: String = "", at: Date) {
        self.staff = staff
        self.action = action
        self.member = member
        self.detail = detail
        self.at = at
    }
}

/// One line of the audit log: who did what, when, to which member.
public struct AuditEntry: Hashable, Sendable {
    public var id: Int64
    public var at: Date
    public var staff: String?
    public var action: String
    public var member: MemberID?
    public var detail: String
}

extension AppDatabase {
    static func staffAccount(_ row: Row) -> StaffAccount {
        StaffAccount(
            id: row["id"], name: row["name"], role: StaffRole(rawValue: row["role"]) ?? .desk, active: row["active"] == 1,
            failures: row["failures"], lockedUntil: (row["locked_until"] as String?).map(Stamp.date))
    }

    /// Adds a staff account (audited). Names are unique.
    public func addStaff(name: String, role: StaffRole, pinHash: String, by actor: Int64?, at now: Date) throws -> StaffAccount {
        try write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM staff WHERE name = ?", arguments: [name]) != nil {
                throw StoreError("there is already a staff account named \(name)")
            }
            try db.execute(
                sql: "INSERT INTO staff (name, role, pin_hash, created_at) VALUES (?, ?, ?, ?)",
                arguments: [name, role.rawValue, pinHash, Stamp.text(now)])
            let id = db.lastInsertedRowID
            try Self.audit(db, staff: actor, action: "staff.add", member: nil, detail: "\(name) (\(role.rawValue))", at: now)
            return try Self.staffAccount(Row.fetchOne(db, sql: "SELECT * FROM staff WHERE id = ?", arguments: [id])!)
        }
    }

    /// Every account, by name.
    public func staffAccounts() throws -> [StaffAccount] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM staff ORDER BY name").map(Self.staffAccount) }
    }

    /// An account and its PIN hash, by name.
    public func staffCredentials(name: String) throws -> (StaffAccount, String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM staff WHERE name = ?", arguments: [name]).map {
                (Self.staffAccount($0), $0["pin_hash"])
            }
        }
    }

    /// Records a log-in attempt from `source` (the computer's address) for `name` by the rules of `policy`,
    /// in one transaction. Failures and locks belong to the (computer, name) pair, whether or not the name
    /// is an account; a successful log-in and a lock are audited.
    public func recordSignIn(
        source: String, name: String, account: Int64?, pinCorrect: Bool, policy: StaffPolicy, at now: Date
    ) throws -> StaffPolicy.Attempt {
        let source = String(source.prefix(64))
        let name = String(name.prefix(256))
        return try write { db in
            // Pairs idle for a day are forgotten (the table stays small whatever an attacker types).
            try db.execute(sql: "DELETE FROM staff_signin WHERE last_at < ?", arguments: [Stamp.text(now.addingTimeInterval(-86400))])
            let row = try Row.fetchOne(
                db, sql: "SELECT failures, locked_until FROM staff_signin WHERE source = ? AND name = ?", arguments: [source, name])
            let standing = StaffPolicy.Standing(
                failures: row?["failures"] ?? 0, lockedUntil: (row?["locked_until"] as String?).map(Stamp.date))
            let (outcome, next) = policy.attempt(standing, pinCorrect: pinCorrect && account != nil, at: now)
            try db.execute(
                sql: """
                    INSERT INTO staff_signin (source, name, failures, locked_until, last_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (source, name) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until, last_at = excluded.last_at
                    """,
                arguments: [source, name, next.failures, next.lockedUntil.map(Stamp.text), Stamp.text(now)])
            switch outcome {
            case .accepted:
                try Self.audit(db, staff: account, action: "staff.login", member: nil, detail: "from \(source)", at: now)
            case .lockedNow(let until):
                try Self.audit(
                    db, staff: account, action: "staff.locked", member: nil,
                    detail: "\(policy.maxFailures) wrong PINs from \(source); that computer may try again after \(Stamp.text(until))",
                    at: now)
            case .wrongPIN, .locked: break
            }
            return outcome
        }
    }

    /// Lifts a lock (an admin's action, audited).
    public func unlockStaff(name: String, by actor: Int64?, at now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE staff SET failures = 0, locked_until = NULL WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw StoreError("no staff account named \(name)") }
            try db.execute(sql: "DELETE FROM staff_signin WHERE name = ?", arguments: [name])
            try Self.audit(db, staff: actor, action: "staff.unlock", member: nil, detail: name, at: now)
        }
    }

    /// Starts a session (the token is stored only as a hash).
    public func createSession(staff id: Int64, tokenHash: String, csrf: String, at now: Date) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM staff_session WHERE last_seen < ?", arguments: [Stamp.text(now.addingTimeInterval(-86400))])
            try db.execute(
                sql: "INSERT INTO staff_session (token_hash, staff, csrf, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                arguments: [tokenHash, id, csrf, Stamp.text(now), Stamp.text(now)])
        }
    }

    /// The live session with this token hash (touched), or nil when unknown, idle too long (then removed),
    /// or its account deactivated.
    public func session(tokenHash: String, policy: StaffPolicy, at now: Date) throws -> (StaffAccount, csrf: String)? {
        try write { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: "SELECT s.csrf, s.last_seen, st.* FROM staff_session s JOIN staff st ON st.id = s.staff WHERE s.token_hash = ?",
                    arguments: [tokenHash])
            else { return nil }
            let account = Self.staffAccount(row)
            guard account.active, policy.sessionAlive(lastSeen: Stamp.date(row["last_seen"]), at: now) else {
                try db.execute(sql: "DELETE FROM staff_session WHERE token_hash = ?", arguments: [tokenHash])
                return nil
            }
            try db.execute(sql: "UPDATE staff_session SET last_seen = ? WHERE token_hash = ?", arguments: [Stamp.text(now), tokenHash])
            return (account, row["csrf"])
        }
    }

    /// Ends a session.
    public func endSession(tokenHash: String, at now: Date) throws {
        try write { db in
            if let staff = try Int64.fetchOne(db, sql: "SELECT staff FROM staff_session WHERE token_hash = ?", arguments: [tokenHash]) {
                try db.execute(sql: "DELETE FROM staff_session WHERE token_hash = ?", arguments: [tokenHash])
                try Self.audit(db, staff: staff, action: "staff.logout", member: nil, detail: "", at: now)
            }
        }
    }

    /// Appends to the audit log (inside the caller's transaction).
    static func audit(_ db: Database, staff: Int64?, action: String, member: MemberID?, detail: String, at now: Date) throws {
        try db.execute(
            sql: "INSERT INTO audit (at, staff, action, member, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [Stamp.text(now), staff, action, member.map { Int64($0.number) }, String(detail.prefix(500))])
    }

    /// Writes `note` inside the caller's transaction (nothing when nil).
    static func audit(_ db: Database, _ note: AuditNote?) throws {
        guard let note else { return }
        try audit(db, staff: note.staff, action: note.action, member: note.member, detail: note.detail, at: note.at)
    }

    /// Records a staff action that changes nothing else (an export, a look at personal data).
    public func audit(staff: Int64?, action: String, member: MemberID? = nil, detail: String = "", at now: Date) throws {
        try write { db in try Self.audit(db, staff: staff, action: action, member: member, detail: detail, at: now) }
    }

    /// The newest audit entries first.
    public func auditLog(limit: Int = 200) throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT a.*, s.name AS staff_name FROM audit a LEFT JOIN staff s ON s.id = a.staff ORDER BY a.id DESC LIMIT ?",
                arguments: [limit]
            ).map { row in
                AuditEntry(
                    id: row["id"], at: Stamp.date(row["at"]), staff: row["staff_name"], action: row["action"],
                    member: row.memberID("member"),
                    detail: row["detail"])
            }
        }
    }
}

/// A day-care fee recorded at a check-out, for the desk.
public struct DaycareFee: Hashable, Sendable {
    /// The check-out event's seq (the fee's number).
    public var checkoutSeq: Int64
    public var member: MemberID
    public var venue: String
    public var checkoutAt: Date
    public var amountFen: Int
    public var free: Bool
    public var paidAt: Date?
    /// The correction that voided the visit and waived this fee, and why (nil when the fee stands).
    public var waivedBy: Int64?
    public var waivedReason: String?

    /// Nothing is owed: the fee was free, waived or paid.
    public var settled: Bool { free || waivedBy != nil || paidAt != nil }
}

extension AppDatabase {
    /// Day-care fees of check-outs in `from <= checkout_at < to`, oldest first.
    public func daycareFees(from: Date, to: Date) throws -> [DaycareFee] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM daycare_fee WHERE checkout_at >= ? AND checkout_at < ? ORDER BY checkout_seq",
                arguments: [Stamp.text(from), Stamp.text(to)]
            ).map(Self.daycareFee)
        }
    }

    static func daycareFee(_ row: Row) -> DaycareFee {
        DaycareFee(
            checkoutSeq: row["checkout_seq"], member: row.memberID("member")!, venue: row["venue"],
            checkoutAt: Stamp.date(row["checkout_at"]), amountFen: row["amount_fen"], free: row["free"] == 1,
            paidAt: (row["paid_at"] as String?).map(Stamp.date), waivedBy: row["waived_by"], waivedReason: row["waived_reason"])
    }

    /// Marks a fee paid (audited, once).
    public func markFeePaid(checkoutSeq: Int64, by staff: Int64, at now: Date) throws {
        try write { db in
            guard
                let member = try Int64.fetchOne(db, sql: "SELECT member FROM daycare_fee WHERE checkout_seq = ?", arguments: [checkoutSeq])
            else {
                throw StoreError("no day-care fee number \(checkoutSeq)")
            }
            try db.execute(
                sql: "UPDATE daycare_fee SET paid_at = ? WHERE checkout_seq = ? AND paid_at IS NULL AND waived_by IS NULL",
                arguments: [Stamp.text(now), checkoutSeq])
            guard db.changesCount == 1 else { throw StoreError("fee \(checkoutSeq) is already marked paid or was waived") }
            try Self.audit(
                db, staff: staff, action: "fee.paid", member: MemberID(number: UInt32(member)), detail: "fee \(checkoutSeq)", at: now)
        }
    }
}
