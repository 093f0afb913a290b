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
    ///   - receipts: the print jobs an accepted decision makes (receipts, slips), recorded in the same
    ///     transaction, so a crash can never keep the check-in and lose its pickup slip or fee receipt.
    public func recordCheckIn(
        _ reading: ScanReading, codeDigest: String, venue: Venue, at now: Date, guardianCode: String? = nil,
        via: Via = .scan, engine: CheckInEngine, rng: inout some RandomNumberGenerator,
        receipts: (Decision) throws -> [NewPrintJob] = { _ in [] },
        audit: ((Decision) -> AuditNote)? = nil
    ) throws -> Decision {
        try write { db in
            var (facts, head, day, stale) = try Self.gatherFacts(db, reading, codeDigest: codeDigest, venue: venue, at: now, engine: engine)
            var decision = engine.decide(reading, venue: venue, facts: facts, at: now, guardianCode: guardianCode, rng: &rng)
            guard !decision.isRepeat else { return decision }
            decision.via = via
            // A new visit over an old one that no sweep closed (the kiosk was off, or only the CLI is used): close the
            // old one first with the automatic check-out the sweep would have recorded, so no visit is left open.
            if decision.accepted, decision.direction == .in, let stale, let member = facts.member {
                let closed = try Self.closeStaleVisit(
                    db, stale, member: member, venue: venue, before: now, engine: engine, after: head, rng: &rng)
                head = ChainHead(seq: closed.seq, hash: closed.hash)
            }
            let event = try Self.appendEvent(
                db, decision: decision, group: facts.member?.group, codeDigest: codeDigest, after: head, rng: &rng)
            decision.seq = event.seq
            if decision.accepted, let member = facts.member {
                try Self.applyMovement(
                    db, decision: decision, member: member, venue: venue, event: event, presence: facts.presence, day: day)
                for job in try receipts(decision) { try Self.insertPrintJob(db, job) }
            }
            try Self.audit(db, audit?(decision))
            return decision
        }
    }

    /// What the engine would decide for `reading` at each of `venues`, recording nothing (for the screen's
    /// choice of venue). The debounce rule is not applied: nothing is recorded, so nothing repeats.
    public func previewCheckIn(_ reading: ScanReading, venues: [Venue], at now: Date, engine: CheckInEngine) throws -> [Decision] {
        try read { db in
            var rng = SystemRandomNumberGenerator()
            return try venues.map { venue in
                var (facts, _, _, _) = try Self.gatherFacts(db, reading, codeDigest: "", venue: venue, at: now, engine: engine)
                facts.previousScan = nil
                return engine.decide(reading, venue: venue, facts: facts, at: now, rng: &rng)
            }
        }
    }

    /// Reads everything the engine needs for one scan at one venue (inside the caller's transaction).
    static func gatherFacts(
        _ db: Database, _ reading: ScanReading, codeDigest: String, venue: Venue, at now: Date, engine: CheckInEngine,
        member override: MemberID? = nil
    ) throws -> (CheckInFacts, ChainHead, String, Presence?) {
        var stale: Presence?
        let zone = engine.policy.zone(for: venue)
        let day = LocalTime(now, in: zone).date.description
        let staleBefore = venue.staleBefore(now, zone: zone).map(Stamp.text) ?? ""

        // Who the code names.
        var memberID: MemberID?
        var presented = CardPayload(keyID: 0, member: 0, serial: 0, issued: 0, validUntil: 0)
        switch reading {
        case .card(let payload):
            memberID = MemberID(number: payload.member)
            presented = payload
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
        // A household check-in reads each child's facts under the guardian's card or the drop-off's code.
        if let override { memberID = override }

        // The venue and the log in one read: occupancy, the chain's head, an earlier scan of this code.
        var facts = CheckInFacts()
        var head = ChainHead(seq: 0, hash: AttendanceEvent.genesisHash)
        var previousSeq: Int64?
        let state = try Row.fetchCursor(
            db.cachedStatement(
                sql: """
                    SELECT (SELECT COUNT(*) FROM presence WHERE venue = ?1 AND since >= ?2),
                           (SELECT seq FROM event ORDER BY seq DESC LIMIT 1),
                           (SELECT hash FROM event ORDER BY seq DESC LIMIT 1),
                           (SELECT seq FROM event WHERE code_digest = ?3 AND venue = ?1 AND at >= ?4
                            ORDER BY seq DESC LIMIT 1)
                    """),
            arguments: [venue.id, staleBefore, codeDigest, Stamp.text(now.addingTimeInterval(-engine.policy.debounceSeconds - 1))])
        if let row = try state.next() {
            facts.inside = row[0]
            if let seq: Int64 = row[1] { head = ChainHead(seq: seq, hash: row[2]) }
            previousSeq = row[3]
        }
        if let previousSeq { facts.previousScan = try Self.previousScan(db, seq: previousSeq, venue: venue) }

        // The member, the card's standing and the member's visit here in one read.
        if let memberID {
            let cursor = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT m.id, m.name, m."group", m.born, m.phone, m.flags, m.active,
                               p.since, p.since_seq, p.pickup_code,
                               \(Self.cardVoidSQL)
                        FROM member m
                        LEFT JOIN presence p ON p.venue = ?5 AND p.member = m.id
                        WHERE m.id = ?1
                        """),
                arguments: [
                    Int64(memberID.number), Int(presented.keyID), Int(presented.serial), Int(presented.issued), venue.id,
                ])
            if let row = try cursor.next() {
                let flags = (row[5] as String? ?? "").split(separator: ",").compactMap { MemberFlag(rawValue: String($0)) }
                let member = Member(
                    id: memberID, name: row[1], group: MemberGroup(rawValue: row[2]) ?? .resident, born: row[3], phone: row[4],
                    flags: Set(flags), active: row[6])
                facts.member = member
                if case .card = reading, row[10] as Bool { facts.cardStanding = .revoked }
                if let since: String = row[7] {
                    let visit = Presence(
                        venue: venue.id, member: member.id, group: member.group, since: Stamp.date(since), sinceSeq: row[8],
                        pickupCode: row[9])
                    // A visit from before the venue last opened (or past its longest stay) is over, not current.
                    if since >= staleBefore { facts.presence = visit } else { stale = visit }
                }
            }
        }
        if venue.guardianCode {
            facts.pickupCodesToday = Set(try String.fetchAll(db, sql: "SELECT code FROM pickup_code WHERE day = ?", arguments: [day]))
        }
        return (facts, head, day, stale)
    }

    /// Records the automatic check-out of a visit that ended unseen: at the venue's closing (or the end of its
    /// longest stay) after the visit began, and never later than `before`. Settles its staff alert.
    static func closeStaleVisit(
        _ db: Database, _ visit: Presence, member: Member, venue: Venue, before now: Date, engine: CheckInEngine, after head: ChainHead,
        rng: inout some RandomNumberGenerator
    ) throws -> AttendanceEvent {
        let zone = engine.policy.zone(for: venue)
        var end = now
        if case .daily(_, let close) = venue.hours {
            let sinceLocal = LocalTime(visit.since, in: zone)
            var closing = LocalTime.instant(date: sinceLocal.date, minute: close, in: zone)
            if closing <= visit.since { closing = LocalTime.instant(date: sinceLocal.date.adding(days: 1), minute: close, in: zone) }
            end = min(end, closing)
        }
        if venue.checkout == .optional, let maxStay = venue.maxStayMinutes {
            end = min(end, visit.since.addingTimeInterval(Double(maxStay * 60)))
        }
        let decision = Decision(
            outcome: .accepted, direction: .out, member: MemberSummary(member), venue: venue.id, at: end, inside: 0,
            capacity: venue.capacity, message: Messages.goodbye(member.displayName, venue: venue, charge: nil), via: .auto)
        let event = try appendEvent(db, decision: decision, group: member.group, codeDigest: nil, after: head, rng: &rng)
        try db.cachedStatement(sql: "UPDATE alert SET resolved_at = ? WHERE since_seq = ? AND resolved_at IS NULL")
            .execute(arguments: [Stamp.text(end), visit.sinceSeq])
        if venue.guardianCode {
            try db.execute(sql: "UPDATE pickup_code SET checkout_seq = ? WHERE checkin_seq = ?", arguments: [event.seq, visit.sinceSeq])
        }
        return event
    }

    /// Updates who is inside after an accepted event.
    static func applyMovement(
        _ db: Database, decision: Decision, member: Member, venue: Venue, event: AttendanceEvent, presence: Presence?, day: String
    ) throws {
        let memberNumber = Int64(member.id.number)
        switch decision.direction {
        case .in:
            try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO presence (venue, member, "group", since, since_seq, pickup_code)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [venue.id, memberNumber, member.group.rawValue, Stamp.text(event.at), event.seq, decision.pickupCode])
            if let code = decision.pickupCode {
                try db.execute(
                    sql: "INSERT INTO pickup_code (day, code, venue, member, checkin_seq) VALUES (?, ?, ?, ?, ?)",
                    arguments: [day, code, venue.id, memberNumber, event.seq])
            }
        case .out:
            try db.cachedStatement(sql: "DELETE FROM presence WHERE venue = ? AND member = ?").execute(arguments: [venue.id, memberNumber])
            if let since = presence?.sinceSeq {
                if venue.guardianCode {
                    try db.execute(sql: "UPDATE pickup_code SET checkout_seq = ? WHERE checkin_seq = ?", arguments: [event.seq, since])
                }
                // Still inside at closing, now gone: the staff alert is settled.
                try db.cachedStatement(sql: "UPDATE alert SET resolved_at = ? WHERE since_seq = ? AND resolved_at IS NULL")
                    .execute(arguments: [Stamp.text(event.at), since])
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

    /// The newest event of the log (seq 0 and the genesis hash for an empty log).
    struct ChainHead {
        var seq: Int64
        var hash: String

        static func read(_ db: Database) throws -> ChainHead {
            let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM event ORDER BY seq DESC LIMIT 1"))
            return ChainHead(seq: last?["seq"] ?? 0, hash: last?["hash"] ?? AttendanceEvent.genesisHash)
        }
    }

    /// Appends one event to the log, chained to `head` (read in this same transaction).
    static func appendEvent(
        _ db: Database, decision: Decision, group: MemberGroup?, codeDigest: String?, after head: ChainHead,
        rng: inout some RandomNumberGenerator
    ) throws -> AttendanceEvent {
        let event = AttendanceEvent(
            seq: head.seq + 1, id: makeUUID(&rng), at: decision.at, venue: decision.venue,
            member: decision.member?.id, group: group ?? decision.member?.group, direction: decision.direction,
            outcome: decision.outcome, reason: decision.reason, via: decision.via, prevHash: head.hash)
        try insertEvent(db, event, codeDigest: codeDigest)
        return event
    }

    /// Writes one event already chained to the log's head (the log's only INSERT).
    static func insertEvent(_ db: Database, _ event: AttendanceEvent, codeDigest: String?) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash, corrects)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            event.seq, event.id, Stamp.text(event.at), event.venue, event.member.map { Int64($0.number) },
            event.group?.rawValue, event.direction.rawValue, event.outcome.rawValue, event.reason?.rawValue,
            event.via.rawValue, codeDigest, event.prevHash, event.hash, event.corrects,
        ])
    }

    /// A version-4 UUID from the injected random source.
    static func makeUUID(_ rng: inout some RandomNumberGenerator) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func presence(_ row: Row) -> Presence {
        Presence(
            venue: row["venue"], member: row.memberID("member")!, group: MemberGroup(rawValue: row["group"]) ?? .resident,
            since: Stamp.date(row["since"]), sinceSeq: row["since_seq"], pickupCode: row["pickup_code"])
    }

    /// The decision recorded as event `seq`, rebuilt (for the debounce rule).
    static func previousScan(_ db: Database, seq: Int64, venue: Venue) throws -> PreviousScan? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM event WHERE seq = ?", arguments: [seq]) else { return nil }
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
            corrects: row["corrects"], hash: row["hash"])
    }
}
