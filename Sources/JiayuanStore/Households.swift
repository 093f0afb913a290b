import Foundation
import GRDB
import JiayuanDomain

/// One child a guardian may bring, as the choose step shows it: what a drop-off would decide for the child now.
public struct ChildOption: Sendable {
    public var member: Member
    /// The engine's answer for this child now (recording nothing): accepted means the child can come in.
    public var preview: Decision
    /// The child is inside the venue now (the guardian may collect them with the code).
    public var inside: Bool
}

/// The guardian's card, the children registered with the guardian and what each may do now.
public struct ChildChoice: Sendable {
    public var guardian: Member
    public var venue: String
    public var children: [ChildOption]
}

/// An open drop-off, for the floor page: who brought which children still inside, when, under which code.
public struct OpenDropOff: Sendable, Hashable {
    public var id: Int64
    public var venue: String
    public var guardian: MemberID
    public var guardianName: String
    public var at: Date
    public var code: String
    /// The children of the drop-off still inside.
    public var children: [MemberID]
}

extension AppDatabase {
    /// Whether `member` is a registered guardian of at least one child.
    public func isGuardian(_ member: MemberID) throws -> Bool {
        try read { db in try !Self.wards(db, of: member).isEmpty }
    }

    /// The children registered with `guardian`, by id.
    static func wards(_ db: Database, of guardian: MemberID) throws -> [MemberID] {
        try Int64.fetchAll(
            db.cachedStatement(sql: "SELECT child FROM guardian WHERE guardian = ? ORDER BY child"), arguments: [Int64(guardian.number)]
        ).compactMap { MemberID(number: UInt32($0)) }
    }

    /// Today's open drop-off whose code is `code` at `venue`, if any (for routing a slip to the household path).
    public func isDropOffCode(_ code: String, venue: Venue, at now: Date, policy: CheckInPolicy) throws -> Bool {
        let day = LocalTime(now, in: policy.zone(for: venue)).date.description
        return try read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM pickup_code WHERE day = ? AND code = ? AND venue = ? AND dropoff IS NOT NULL
                                   AND checkout_seq IS NULL)
                    """, arguments: [day, code, venue.id]) ?? false
        }
    }

    /// The children registered with the card's holder and what a drop-off would decide for each now; records
    /// nothing. Nil when the card names nobody.
    public func childChoice(card: CardPayload, venue: Venue, at now: Date, engine: CheckInEngine) throws -> ChildChoice? {
        try read { db in
            let (held, _, _, _) = try Self.gatherFacts(db, .card(card), codeDigest: "", venue: venue, at: now, engine: engine)
            guard let guardian = held.member else { return nil }
            let wards = try Self.wards(db, of: guardian.id)
            var children: [HouseholdChild] = []
            for id in wards {
                let (facts, _, _, _) = try Self.gatherFacts(
                    db, .card(card), codeDigest: "", venue: venue, at: now, engine: engine, member: id)
                children.append(HouseholdChild(id: id, facts: facts))
            }
            var rng = SystemRandomNumberGenerator()
            // Each child previewed alone, as the guardian sees them before ticking.
            let options: [ChildOption] = children.compactMap { child in
                guard let member = child.facts.member else { return nil }
                let d = engine.decideDropOff(
                    card: card, standing: held.cardStanding, holderActive: guardian.active, wards: Set(wards), children: [child],
                    venue: venue, at: now, pickupCodesToday: [], rng: &rng)
                return ChildOption(member: member, preview: d.decisions[0], inside: child.facts.presence != nil)
            }
            return ChildChoice(guardian: guardian, venue: venue.id, children: options)
        }
    }

    /// Decides and records a drop-off in one write transaction: every child's event, visit and pickup-code row,
    /// the drop-off itself, its pickup slip (`receipts`) and audit entry — all of them or, on any failure, none.
    /// `.all` asks for every registered child not inside now.
    public func recordDropOff(
        card: CardPayload, selection: ChildSelection, venue: Venue, at now: Date, via: Via = .scan, engine: CheckInEngine,
        rng: inout some RandomNumberGenerator, receipts: (HouseholdDecision) throws -> [NewPrintJob] = { _ in [] },
        audit: ((HouseholdDecision) -> AuditNote)? = nil
    ) throws -> HouseholdDecision {
        try write { db in
            let (held, head0, day, _) = try Self.gatherFacts(db, .card(card), codeDigest: "", venue: venue, at: now, engine: engine)
            let guardian = held.member
            let wards = try guardian.map { try Self.wards(db, of: $0.id) } ?? []
            var children: [HouseholdChild] = []
            var stale: [MemberID: Presence] = [:]
            let ids: [MemberID]
            switch selection {
            case .all: ids = wards
            case .only(let list): ids = Self.unique(list)
            }
            for id in ids {
                let (facts, _, _, old) = try Self.gatherFacts(
                    db, .card(card), codeDigest: "", venue: venue, at: now, engine: engine, member: id)
                if selection == .all, facts.presence != nil { continue }
                children.append(HouseholdChild(id: id, facts: facts))
                if let old { stale[id] = old }
            }
            var household = engine.decideDropOff(
                card: card, standing: held.cardStanding, holderActive: guardian?.active ?? false, wards: Set(wards), children: children,
                venue: venue, at: now, pickupCodesToday: held.pickupCodesToday, rng: &rng)
            var head = head0
            var dropoff: Int64?
            for (i, child) in children.enumerated() where !household.decisions[i].isRepeat {
                var d = household.decisions[i]
                d.via = via
                let admitted = d.accepted && d.direction == .in
                if admitted, let old = stale[child.id], let member = child.facts.member {
                    let closed = try Self.closeStaleVisit(
                        db, old, member: member, venue: venue, before: now, engine: engine, after: head, rng: &rng)
                    head = ChainHead(seq: closed.seq, hash: closed.hash)
                }
                let event = try Self.appendEvent(db, decision: d, group: child.facts.member?.group, codeDigest: nil, after: head, rng: &rng)
                head = ChainHead(seq: event.seq, hash: event.hash)
                d.seq = event.seq
                if admitted, let member = child.facts.member, let guardian {
                    if dropoff == nil, let code = household.pickupCode {
                        try db.execute(
                            sql: "INSERT INTO dropoff (day, code, venue, guardian, at, via) VALUES (?, ?, ?, ?, ?, ?)",
                            arguments: [
                                day, code, venue.id, Int64(guardian.id.number), Stamp.text(event.at), via == .staff ? "staff" : "scan",
                            ])
                        dropoff = db.lastInsertedRowID
                    }
                    try db.cachedStatement(
                        sql: """
                            INSERT OR REPLACE INTO presence (venue, member, "group", since, since_seq, pickup_code)
                            VALUES (?, ?, ?, ?, ?, ?)
                            """
                    ).execute(arguments: [
                        venue.id, Int64(member.id.number), member.group.rawValue, Stamp.text(event.at), event.seq, d.pickupCode,
                    ])
                    if let code = d.pickupCode {
                        try db.execute(
                            sql: "INSERT INTO pickup_code (day, code, venue, member, checkin_seq, dropoff) VALUES (?, ?, ?, ?, ?, ?)",
                            arguments: [day, code, venue.id, Int64(member.id.number), event.seq, dropoff])
                    }
                }
                household.decisions[i] = d
            }
            if !household.moved.isEmpty {
                for job in try receipts(household) { try Self.insertPrintJob(db, job) }
            }
            try Self.audit(db, audit?(household))
            return household
        }
    }

    /// Decides and records a pick-up in one write transaction: the children still inside under `code` at `venue`
    /// (or the ones of them in `selection`) leave, each an event. With `card` (a guardian's card and the typed
    /// code) only the holder's registered children leave; without it the code came from the pickup slip.
    public func recordPickUp(
        code: String, card: CardPayload?, selection: ChildSelection = .all, venue: Venue, at now: Date, via: Via = .scan,
        engine: CheckInEngine, rng: inout some RandomNumberGenerator, audit: ((HouseholdDecision) -> AuditNote)? = nil
    ) throws -> HouseholdDecision {
        try write { db in
            let zone = engine.policy.zone(for: venue)
            let day = LocalTime(now, in: zone).date.description
            var ids = try Int64.fetchAll(
                db,
                sql: "SELECT member FROM pickup_code WHERE day = ? AND code = ? AND venue = ? AND checkout_seq IS NULL ORDER BY member",
                arguments: [day, code, venue.id]
            ).compactMap { MemberID(number: UInt32($0)) }
            if case .only(let list) = selection { ids = ids.filter(list.contains) }
            var holder: (payload: CardPayload, standing: CardStanding, holder: Member?, wards: Set<MemberID>)?
            var head = try ChainHead.read(db)
            if let card {
                let (held, _, _, _) = try Self.gatherFacts(db, .card(card), codeDigest: "", venue: venue, at: now, engine: engine)
                let wards = try held.member.map { try Self.wards(db, of: $0.id) } ?? []
                holder = (card, held.cardStanding, held.member, Set(wards))
            }
            let reading: ScanReading = card.map { .card($0) } ?? .pickupSlip(code: code)
            var children: [HouseholdChild] = []
            for id in ids {
                let (facts, _, _, _) = try Self.gatherFacts(db, reading, codeDigest: "", venue: venue, at: now, engine: engine, member: id)
                children.append(HouseholdChild(id: id, facts: facts))
            }
            var household = engine.decidePickUp(code: code, card: holder, children: children, venue: venue, at: now, rng: &rng)
            for i in household.decisions.indices where !household.decisions[i].isRepeat {
                var d = household.decisions[i]
                d.via = via
                let child = i < children.count ? children[i] : nil
                let event = try Self.appendEvent(
                    db, decision: d, group: child?.facts.member?.group ?? d.member?.group, codeDigest: nil, after: head, rng: &rng)
                head = ChainHead(seq: event.seq, hash: event.hash)
                d.seq = event.seq
                if d.accepted, d.direction == .out, let child, let member = child.facts.member {
                    try Self.applyMovement(
                        db, decision: d, member: member, venue: venue, event: event, presence: child.facts.presence, day: day)
                    if let by = holder?.holder?.id {
                        try db.execute(
                            sql: "UPDATE pickup_code SET collected_by = ? WHERE checkout_seq = ?", arguments: [Int64(by.number), event.seq])
                    }
                }
                household.decisions[i] = d
            }
            try Self.audit(db, audit?(household))
            return household
        }
    }

    /// The open drop-offs at `venues`: children of a drop-off still inside, grouped, oldest first.
    public func openDropOffs(venues: [Venue], at now: Date, policy: CheckInPolicy) throws -> [OpenDropOff] {
        try read { db in
            var out: [OpenDropOff] = []
            for venue in venues where venue.guardianCode {
                let staleBefore = venue.staleBefore(now, zone: policy.zone(for: venue)).map(Stamp.text) ?? ""
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT d.id, d.code, d.guardian, d.at, m.name, pc.member
                        FROM dropoff d
                        JOIN pickup_code pc ON pc.dropoff = d.id AND pc.checkout_seq IS NULL
                        JOIN presence p ON p.venue = d.venue AND p.member = pc.member AND p.since_seq = pc.checkin_seq
                        LEFT JOIN member m ON m.id = d.guardian
                        WHERE d.venue = ? AND p.since >= ?
                        ORDER BY d.at, d.id, pc.member
                        """, arguments: [venue.id, staleBefore])
                for row in rows {
                    let id: Int64 = row["id"]
                    guard let child = row.memberID("member"), let guardian = row.memberID("guardian") else { continue }
                    if let last = out.last, last.id == id {
                        out[out.count - 1].children.append(child)
                    } else {
                        out.append(
                            OpenDropOff(
                                id: id, venue: venue.id, guardian: guardian, guardianName: NameMask.mask(row["name"] ?? ""),
                                at: Stamp.date(row["at"]), code: row["code"], children: [child]))
                    }
                }
            }
            return out
        }
    }

    /// `ids` without repeats, first occurrence kept.
    static func unique(_ ids: [MemberID]) -> [MemberID] {
        var seen = Set<MemberID>()
        return ids.filter { seen.insert($0).inserted }
    }
}
