import Foundation
import GRDB
import JiayuanDomain

/// A member to register (the id is assigned by the store).
public struct NewMember: Hashable, Sendable {
    public var name: String
    public var group: MemberGroup
    public var born: Int?
    public var phone: String?
    public var flags: Set<MemberFlag>
    public var guardians: [MemberID]

    /// Creates a registration.
    public init(
        name: String, group: MemberGroup, born: Int? = nil, phone: String? = nil, flags: Set<MemberFlag> = [],
        guardians: [MemberID] = []
    ) {
        self.name = name
        self.group = group
        self.born = born
        self.phone = phone
        self.flags = flags
        self.guardians = guardians
    }
}

/// A member of a batch could not be registered; nothing of the batch was.
public struct MemberBatchError: PlainWordsError, Equatable, Sendable, CustomStringConvertible {
    /// Position in the batch, from 0.
    public var index: Int
    public var message: String
    public var description: String { "member \(index + 1) of the batch: \(message)" }
    public var plainWords: String { description }
}

extension AppDatabase {
    /// Registers one member and returns it with its new id.
    public func addMember(_ new: NewMember, at now: Date, audit: AuditNote? = nil) throws -> Member {
        try write { db in
            let member = try Self.insertMember(db, new, at: now)
            if var audit {
                audit.member = member.id
                try Self.audit(db, audit)
            }
            return member
        }
    }

    /// Registers many members in one transaction: all of them or, on the first problem, none.
    /// `resolve` may rewrite each registration with what earlier ones in the batch created
    /// (guardians named by phone); it runs inside the transaction.
    public func addMembers(
        _ batch: [NewMember], at now: Date,
        prepare: (_ index: Int, _ new: NewMember, _ lookup: (String) throws -> MemberID?) throws -> NewMember = { _, n, _ in n }
    ) throws -> [Member] {
        try write { db in
            var out: [Member] = []
            for (i, raw) in batch.enumerated() {
                let new = try prepare(i, raw) { phone in
                    // A guardian named by phone must be exactly one adult: households share numbers.
                    let ids = try Int64.fetchAll(
                        db, sql: "SELECT id FROM member WHERE phone = ? AND \"group\" <> 'child' ORDER BY id", arguments: [phone])
                    guard ids.count <= 1 else {
                        throw MemberBatchError(
                            index: i, message: "the phone \(phone) belongs to \(ids.count) adults; name the guardian by member id")
                    }
                    return ids.first.flatMap { MemberID(number: UInt32($0)) }
                }
                do {
                    out.append(try Self.insertMember(db, new, at: now))
                } catch let error as StoreError {
                    throw MemberBatchError(index: i, message: error.message)
                }
            }
            return out
        }
    }

    /// The checks a name, birth year and phone must pass (registering and editing alike); the trimmed name.
    static func checkDetails(name raw: String, born: Int?, phone: String?) throws -> String {
        let name = raw.trimmingWhitespace()
        guard !name.isEmpty else { throw StoreError("the name is empty") }
        guard name.count <= 64 else { throw StoreError("the name is longer than 64 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw StoreError("the name contains control characters")
        }
        if let born, !(1900...2100).contains(born) { throw StoreError("the birth year \(born) is not plausible") }
        if let phone {
            guard (3...20).contains(phone.count), phone.allSatisfy({ $0.isNumber || $0 == "+" || $0 == "-" || $0 == " " }) else {
                throw StoreError("the phone number \"\(phone)\" is not valid")
            }
        }
        return name
    }

    /// Changes a member's name, birth year, phone and flags (group and guardians stay), in one transaction.
    /// With `audit`, the entry's detail names the fields that changed (never their values).
    public func updateMember(
        _ id: MemberID, name: String, born: Int?, phone: String?, flags: Set<MemberFlag>, audit: AuditNote? = nil
    ) throws -> Member {
        try write { db in
            let before = try Self.fetchMember(db, id)
            let name = try Self.checkDetails(name: name, born: born, phone: phone)
            try db.execute(
                sql: "UPDATE member SET name = ?, born = ?, phone = ?, flags = ? WHERE id = ?",
                arguments: [name, born, phone, flags.map(\.rawValue).sorted().joined(separator: ","), Int64(id.number)])
            guard db.changesCount == 1, let before, let m = try Self.fetchMember(db, id) else { throw StoreError("no member \(id)") }
            if var audit {
                var changed: [String] = []
                if before.name != m.name { changed.append("name") }
                if before.born != m.born { changed.append("born") }
                if before.phone != m.phone { changed.append("phone") }
                if before.flags != m.flags { changed.append("flags") }
                audit.detail = changed.joined(separator: ",")
                try Self.audit(db, audit)
            }
            return m
        }
    }

    static func insertMember(_ db: Database, _ new: NewMember, at now: Date) throws -> Member {
        let name = try checkDetails(name: new.name, born: new.born, phone: new.phone)
        if new.group == .child && new.guardians.isEmpty { throw StoreError("a child needs at least one guardian") }
        if new.group != .child && !new.guardians.isEmpty { throw StoreError("only children have guardians") }
        let next = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM member") ?? 0) + 1
        guard let id = MemberID(number: UInt32(next)) else { throw StoreError("the member register is full (999999 members)") }
        try db.execute(
            sql: """
                INSERT INTO member (id, name, "group", born, phone, flags, active, created_at)
                VALUES (?, ?, ?, ?, ?, ?, 1, ?)
                """,
            arguments: [
                next, name, new.group.rawValue, new.born, new.phone,
                new.flags.map(\.rawValue).sorted().joined(separator: ","), Stamp.text(now),
            ])
        for g in new.guardians {
            guard let guardian = try fetchMember(db, g) else { throw StoreError("the guardian \(g) is not registered") }
            guard guardian.group != .child else { throw StoreError("the guardian \(g) is a child") }
            try db.execute(sql: "INSERT INTO guardian (child, guardian) VALUES (?, ?)", arguments: [next, Int64(g.number)])
        }
        return try fetchMember(db, id)!
    }

    /// Marks a member inactive: their cards stop working; their history is kept.
    public func deactivateMember(_ id: MemberID, audit: AuditNote? = nil) throws {
        try write { db in
            try db.execute(sql: "UPDATE member SET active = 0 WHERE id = ?", arguments: [Int64(id.number)])
            guard db.changesCount == 1 else { throw StoreError("no member \(id)") }
            try Self.audit(db, audit)
        }
    }

    /// Marks a deactivated member active again. Their old cards stay void (a re-issue gives a new one).
    public func reactivateMember(_ id: MemberID, audit: AuditNote? = nil) throws {
        try write { db in
            guard try Self.fetchMemberExists(db, id) else { throw StoreError("no member \(id)") }
            try db.execute(sql: "UPDATE member SET active = 1 WHERE id = ? AND active = 0", arguments: [Int64(id.number)])
            guard db.changesCount == 1 else { throw StoreError("\(id) is already active") }
            try db.execute(
                sql: "UPDATE card SET revoked_at = ? WHERE member = ? AND revoked_at IS NULL",
                arguments: [Stamp.text(audit?.at ?? Date()), Int64(id.number)])
            try Self.audit(db, audit)
        }
    }

    /// One member with guardians, or nil.
    public func member(_ id: MemberID) throws -> Member? {
        try read { db in try Self.fetchMember(db, id) }
    }

    /// Members in id order, optionally only one group or a name/phone/id search.
    public func members(group: MemberGroup? = nil, search: String? = nil, limit: Int = 10_000) throws -> [Member] {
        try read { db in
            var sql = "SELECT * FROM member WHERE 1"
            var args: StatementArguments = []
            if let group {
                sql += " AND \"group\" = ?"
                args += [group.rawValue]
            }
            if let search, !search.isEmpty {
                sql += " AND (name LIKE ? OR phone LIKE ? OR printf('M%06d', id) = ?)"
                args += ["%\(search)%", "%\(search)", search.uppercased()]
            }
            sql += " ORDER BY id LIMIT ?"
            args += [limit]
            let rows = try Row.fetchAll(db, sql: sql, arguments: args)
            let guardians = try Dictionary(
                grouping: Row.fetchAll(db, sql: "SELECT child, guardian FROM guardian ORDER BY guardian"), by: { $0["child"] as Int64 })
            return rows.map { row in
                Self.member(row, guardians: (guardians[row["id"]] ?? []).compactMap { $0.memberID("guardian") })
            }
        }
    }

    static func fetchMember(_ db: Database, _ id: MemberID, withGuardians: Bool = true) throws -> Member? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM member WHERE id = ?"), arguments: [Int64(id.number)])
        else { return nil }
        guard withGuardians else { return member(row, guardians: []) }
        let guardians = try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT guardian FROM guardian WHERE child = ? ORDER BY guardian"), arguments: [Int64(id.number)])
        return member(row, guardians: guardians.compactMap { MemberID(number: UInt32($0)) })
    }

    static func member(_ row: Row, guardians: [MemberID]) -> Member {
        let flags = (row["flags"] as String? ?? "").split(separator: ",").compactMap { MemberFlag(rawValue: String($0)) }
        return Member(
            id: row.memberID("id")!, name: row["name"], group: MemberGroup(rawValue: row["group"]) ?? .resident,
            born: row["born"], phone: row["phone"], flags: Set(flags), active: row["active"], guardians: guardians)
    }

    /// Registers a numbered legacy card (a veterans' card) for a member.
    public func registerLegacyCard(_ number: String, member: MemberID, at now: Date, audit: AuditNote? = nil) throws {
        guard (4...20).contains(number.count), number.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw StoreError("a legacy card number has 4 to 20 digits")
        }
        try write { db in
            guard try Self.fetchMemberExists(db, member) else { throw StoreError("no member \(member)") }
            if let owner = try Int64.fetchOne(db, sql: "SELECT member FROM legacy_card WHERE number = ?", arguments: [number]) {
                throw StoreError("the legacy card \(number) already belongs to \(MemberID(number: UInt32(owner))!)")
            }
            try db.execute(
                sql: "INSERT INTO legacy_card (number, member, registered_at) VALUES (?, ?, ?)",
                arguments: [number, Int64(member.number), Stamp.text(now)])
            try Self.audit(db, audit)
        }
    }

    static func fetchMemberExists(_ db: Database, _ id: MemberID) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM member WHERE id = ?", arguments: [Int64(id.number)]) ?? false
    }
}
