import Foundation
import GRDB
import JiayuanDomain

extension AppDatabase {
    /// Decides and records one scan in a single write transaction: the facts are read, the pure engine
    /// decides, and every decision but a repeat is appended to the log before this returns.
    ///
    /// - Parameters:
    ///   - reading: the scanned text, already read and signature-checked (outside the transaction).
    ///   - codeDigest: a digest of the scanned text, for the debounce rule (the text itself is not stored).
    public func recordCheckIn(
        _ reading: ScanReading, codeDigest: String, venue: Venue, at now: Date, guardianCode: String? = nil,
        via: Via = .scan, engine: CheckInEngine, rng: inout some RandomNumberGenerator
    ) throws -> Decision {
        try writer.write { db in
            let zone = engine.policy.zone(for: venue)
            let day = LocalTime(now, in: zone).date.description
            let staleBefore = venue.staleBefore(now, zone: zone).map(Stamp.text) ?? ""

            var facts = CheckInFacts()
            facts.inside = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM presence WHERE venue = ? AND since >= ?"),
                arguments: [venue.id, staleBefore]) ?? 0

            // Who the code names.
            var memberID: MemberID?
            switch reading {
            case .card(let payload):
                memberID = MemberID(number: payload.member)
                facts.cardStanding = try Self.cardStanding(db, payload)
            case .legacyNumber(let number):
                memberID = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT member FROM legacy_card WHERE number = ?"), arguments: [number]
                ).flatMap { MemberID(number: UInt32($0)) }
            case .pickupSlip(let code):
                memberID = try Int64.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT member FROM pickup_code WHERE day = ? AND code = ? AND venue = ? AND checkout_seq IS NULL"),
                    arguments: [day, code, venue.id]
                ).flatMap { MemberID(number: UInt32($0)) }
            case .unreadable:
                break
            }
            if let memberID {
                facts.member = try Self.fetchMember(db, memberID)
                facts.presence = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM presence WHERE venue = ? AND member = ? AND since >= ?"),
                    arguments: [venue.id, Int64(memberID.number), staleBefore]
                ).map(Self.presence)
            }
            facts.previousScan = try Self.previousScan(
                db, codeDigest: codeDigest, venue: venue, after: now.addingTimeInterval(-engine.policy.debounceSeconds - 1))
            if venue.guardianCode {
                facts.pickupCodesToday = Set(try String.fetchAll(db, sql: "SELECT code FROM pickup_code WHERE day = ?", arguments: [day]))
            }

            var decision = engine.decide(reading, venue: venue, facts: facts, at: now, guardianCode: guardianCode, rng: &rng)
            guard !decision.isRepeat else { return decision }
            decision.via = via
            let event = try Self.appendEvent(db, decision: decision, group: facts.member?.group, codeDigest: codeDigest, rng: &rng)
            decision.seq = event.seq
            if decision.accepted, let member = facts.member {
                try Self.applyMovement(db, decision: decision, member: member, venue: venue, event: event, presence: facts.presence, day: day)
            }
            return decision
        }
    }

    /// Updates who is inside after an accepted event.
    static func applyMovement(
        _ db: Database, decision: Decision, member: Member, venue: Venue, event: AttendanceEvent, presence: Presence?, day: String
    ) throws {
        let memberNumber = Int64(member.id.number)
        switch decision.direction {
        case .in:
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO presence (venue, member, "group", since, since_seq, pickup_code)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [venue.id, memberNumber, member.group.rawValue, Stamp.text(event.at), event.seq, decision.pickupCode])
            if let code = decision.pickupCode {
                try db.execute(
                    sql: "INSERT INTO pickup_code (day, code, venue, member, checkin_seq) VALUES (?, ?, ?, ?, ?)",
                    arguments: [day, code, venue.id, memberNumber, event.seq])
            }
        case .out:
            try db.execute(
                sql: "DELETE FROM presence WHERE venue = ? AND member = ?", arguments: [venue.id, memberNumber])
            if let since = presence?.sinceSeq {
                try db.execute(
                    sql: "UPDATE pickup_code SET checkout_seq = ? WHERE checkin_seq = ?", arguments: [event.seq, since])
            }
            if let charge = decision.charge {
                try db.execute(
                    sql: """
                        INSERT INTO daycare_fee (checkout_seq, member, venue, checkin_at, checkout_at, kind, lunch, amount_fen, free)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        event.seq, memberNumber, venue.id, Stamp.text(charge.checkedInAt), Stamp.text(charge.checkedOutAt),
                        charge.kind.rawValue, charge.lunch, charge.amountFen, charge.free,
                    ])
            }
        }
    }

    /// Appends one event to the log, chained to the last one.
    static func appendEvent(
        _ db: Database, decision: Decision, group: MemberGroup?, codeDigest: String?, rng: inout some RandomNumberGenerator
    ) throws -> AttendanceEvent {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1"))
        let event = AttendanceEvent(
            seq: (last?["seq"] as Int64? ?? 0) + 1, id: makeUUID(&rng), at: decision.at, venue: decision.venue,
            member: decision.member?.id, group: group ?? decision.member?.group, direction: decision.direction,
            outcome: decision.outcome, reason: decision.reason, via: decision.via,
            prevHash: last?["hash"] ?? AttendanceEvent.genesisHash)
        try db.cachedStatement(
            sql: """
                INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.seq, event.id, Stamp.text(event.at), event.venue, event.member.map { Int64($0.number) },
            event.group?.rawValue, event.direction.rawValue, event.outcome.rawValue, event.reason?.rawValue,
            event.via.rawValue, codeDigest, event.prevHash, event.hash,
        ])
        return event
    }

    /// A version-4 UUID from the injected random source.
    static func makeUUID(_ rng: inout some RandomNumberGenerator) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.hexString
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
            String(hex[hex.index(hex.startIndex, offsetBy: r.lowerBound)..<hex.index(hex.startIndex, offsetBy: r.upperBound)])
        }
        return parts.joined(separator: "-")
    }

    static func presence(_ row: Row) -> Presence {
        Presence(
            venue: row["venue"], member: row.memberID("member")!, group: MemberGroup(rawValue: row["group"]) ?? .resident,
            since: Stamp.date(row["since"]), sinceSeq: row["since_seq"], pickupCode: row["pickup_code"])
    }

    /// The last recorded decision for the same code at the same venue since `after`, rebuilt.
    static func previousScan(_ db: Database, codeDigest: String, venue: Venue, after: Date) throws -> PreviousScan? {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT * FROM event WHERE code_digest = ? AND venue = ? AND at >= ? ORDER BY seq DESC LIMIT 1"),
                arguments: [codeDigest, venue.id, Stamp.text(after)])
        else { return nil }
        let event = try decodeEvent(row)
        let member = try event.member.flatMap { try fetchMember(db, $0) }
        var decision = Decision(
            outcome: event.outcome, direction: event.direction, reason: event.reason, member: member.map(MemberSummary.init),
            venue: venue.id, seq: event.seq, at: event.at, inside: 0, capacity: venue.capacity,
            message: Messages.denial(event.reason ?? .invalidCode, venue: venue), via: event.via)
        if let reason = event.reason {
            decision.message = Messages.denial(reason, venue: venue)
        } else if event.direction == .in {
            decision.pickupCode = try String.fetchOne(db, sql: "SELECT code FROM pickup_code WHERE checkin_seq = ?", arguments: [event.seq])
            decision.message = Messages.welcome(decision.member?.displayName ?? "", venue: venue)
            if let code = decision.pickupCode { decision.message = Messages.withPickupCode(decision.message, code: code) }
        } else {
            decision.charge = try Row.fetchOne(db, sql: "SELECT * FROM daycare_fee WHERE checkout_seq = ?", arguments: [event.seq])
                .map(decodeCharge)
            decision.message = Messages.goodbye(decision.member?.displayName ?? "", venue: venue, charge: decision.charge)
        }
        return PreviousScan(decision: decision)
    }

    static func decodeCharge(_ row: Row) -> DaycareCharge {
        DaycareCharge(
            kind: DaycareCharge.Kind(rawValue: row["kind"]) ?? .fullDay, lunch: row["lunch"], amountFen: row["amount_fen"],
            free: row["free"], checkedInAt: Stamp.date(row["checkin_at"]), checkedOutAt: Stamp.date(row["checkout_at"]))
    }

    static func decodeEvent(_ row: Row) throws -> AttendanceEvent {
        guard let direction = Direction(rawValue: row["direction"]), let outcome = Outcome(rawValue: row["outcome"]),
            let via = Via(rawValue: row["via"])
        else { throw StoreError("event \(row["seq"] as Int64? ?? 0) has an unknown direction, outcome or via") }
        return AttendanceEvent(
            seq: row["seq"], id: row["id"], at: Stamp.date(row["at"]), venue: row["venue"], member: row.memberID("member"),
            group: (row["group"] as String?).flatMap(MemberGroup.init(rawValue:)), direction: direction, outcome: outcome,
            reason: (row["reason"] as String?).flatMap(DenialReason.init(rawValue:)), via: via, prevHash: row["prev_hash"],
            hash: row["hash"])
    }
}
