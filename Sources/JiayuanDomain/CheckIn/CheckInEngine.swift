import Foundation

/// A member's current visit to a venue.
public struct Presence: Hashable, Sendable {
    public var venue: String
    public var member: MemberID
    public var group: MemberGroup
    /// When the visit began.
    public var since: Date
    /// The seq of the check-in event.
    public var sinceSeq: Int64
    /// The guardian code of a child's visit.
    public var pickupCode: String?

    /// Creates a presence record.
    public init(venue: String, member: MemberID, group: MemberGroup, since: Date, sinceSeq: Int64, pickupCode: String? = nil) {
        self.venue = venue
        self.member = member
        self.group = group
        self.since = since
        self.sinceSeq = sinceSeq
        self.pickupCode = pickupCode
    }
}

/// What the card said about itself against the local card register.
public enum CardStanding: Hashable, Sendable {
    /// The newest card known for the member, or a card issued by another desk with no newer one known.
    case current
    /// Revoked by staff or replaced by a re-issue.
    case revoked
}

/// The previous recorded decision for the same code at the same venue (for the debounce rule).
public struct PreviousScan: Hashable, Sendable {
    public var decision: Decision
    /// Creates one from the decision recorded then.
    public init(decision: Decision) { self.decision = decision }
}

/// Everything the engine needs to know about the world for one scan, loaded by the store
/// inside the same write transaction that records the result.
public struct CheckInFacts: Sendable {
    /// The member the code names, if registered.
    public var member: Member?
    public var cardStanding: CardStanding
    /// The member's current visit to this venue, if any (stale visits already dropped).
    public var presence: Presence?
    /// People inside the venue now.
    public var inside: Int
    /// The last recorded decision for the identical code at this venue.
    public var previousScan: PreviousScan?
    /// Guardian codes handed out today at this venue (for a new one to differ from).
    public var pickupCodesToday: Set<String>

    /// Creates facts.
    public init(
        member: Member? = nil, cardStanding: CardStanding = .current, presence: Presence? = nil, inside: Int = 0,
        previousScan: PreviousScan? = nil, pickupCodesToday: Set<String> = []
    ) {
        self.member = member
        self.cardStanding = cardStanding
        self.presence = presence
        self.inside = inside
        self.previousScan = previousScan
        self.pickupCodesToday = pickupCodesToday
    }
}

/// Timing rules shared by all venues.
public struct CheckInPolicy: Hashable, Sendable {
    /// A repeat of the identical code within this many seconds returns the previous decision.
    public var debounceSeconds: Double
    /// A second scan sooner than this after check-in is not a check-out.
    public var minimumStaySeconds: Double
    /// The kiosk's time zone (venues may have their own).
    public var timeZone: TimeZone

    /// Creates a policy.
    public init(debounceSeconds: Double = 5, minimumStaySeconds: Double = 60, timeZone: TimeZone) {
        self.debounceSeconds = debounceSeconds
        self.minimumStaySeconds = minimumStaySeconds
        self.timeZone = timeZone
    }

    /// The zone a venue's hours are read in.
    public func zone(for venue: Venue) -> TimeZone { venue.timeZone ?? timeZone }
}

/// The check-in rules of DESIGN.md §2–3.3 as a pure function of the reading, the facts and the time.
public struct CheckInEngine: Sendable {
    public var policy: CheckInPolicy

    /// Creates an engine.
    public init(policy: CheckInPolicy) { self.policy = policy }

    /// Decides one scan. `seq` is left nil: the store assigns it when it records the decision.
    /// `rng` draws new guardian codes.
    public func decide(
        _ reading: ScanReading, venue: Venue, facts: CheckInFacts, at now: Date, guardianCode: String? = nil,
        rng: inout some RandomNumberGenerator
    ) -> Decision {
        // Debounce: the identical code again within the window answers as before and records nothing.
        // (Recorded times are whole seconds, so the window gets the one second the rounding may have taken.)
        if let previous = facts.previousScan?.decision,
            now.timeIntervalSince(previous.at) >= 0, now.timeIntervalSince(previous.at) < policy.debounceSeconds + 1
        {
            var d = previous
            d.isRepeat = true
            d.inside = facts.inside
            d.capacity = venue.capacity
            return d
        }

        func deny(_ reason: DenialReason, _ direction: Direction = .in, member: Member? = nil) -> Decision {
            Decision(
                outcome: .denied, direction: direction, reason: reason, member: member.map(MemberSummary.init),
                venue: venue.id, at: now, inside: facts.inside, capacity: venue.capacity,
                message: Messages.denial(reason, venue: venue))
        }

        let zone = policy.zone(for: venue)
        var slipCode: String?
        switch reading {
        case .unreadable(let error):
            return deny(error.reason)
        case .legacyNumber:
            // A number that staff registered as a legacy card arrives here as `.card`-equivalent via the store;
            // an unregistered number, or one at a venue that does not take legacy cards, is not a card.
            guard venue.acceptsLegacyCards, facts.member != nil else { return deny(.invalidCode) }
        case .pickupSlip(let code):
            guard venue.guardianCode, facts.member != nil, facts.presence?.pickupCode == code else { return deny(.invalidCode) }
            slipCode = code
        case .card(let payload):
            if facts.cardStanding == .revoked { return deny(.revoked, member: facts.member) }
            // An expired card still lets someone who is inside leave.
            let today = LocalTime(now, in: zone).date.cardDay
            if today > Int(payload.validUntil), facts.presence == nil { return deny(.expired, member: facts.member) }
        }

        guard let member = facts.member else { return deny(.unknownMember) }
        guard member.active || facts.presence != nil else { return deny(.inactiveMember, member: member) }
        let summary = MemberSummary(member)

        // Already inside: a check-out, or a repeat within the minimum stay.
        if let presence = facts.presence {
            if now.timeIntervalSince(presence.since) < policy.minimumStaySeconds {
                // A slip read this early confirms nothing: it answers as a code of no child inside would.
                if slipCode != nil { return deny(.invalidCode) }
                return Decision(
                    outcome: .accepted, direction: .in, isRepeat: true, member: summary, venue: venue.id,
                    seq: presence.sinceSeq, at: presence.since, inside: facts.inside, capacity: venue.capacity,
                    message: Messages.alreadyInside(summary.displayName, venue: venue))
            }
            if venue.guardianCode {
                let given = slipCode ?? guardianCode.map(PickupCode.normalized)
                guard let given, given == presence.pickupCode else { return deny(.guardianCodeRequired, .out, member: member) }
            }
            let charge = venue.fees.map {
                DaycareCharge.compute(
                    fees: $0, checkIn: presence.since, checkOut: now, lowIncome: member.flags.contains(.lowIncome), zone: zone)
            }
            return Decision(
                outcome: .accepted, direction: .out, member: summary, venue: venue.id, at: now,
                inside: max(0, facts.inside - 1), capacity: venue.capacity,
                message: Messages.goodbye(summary.displayName, venue: venue, charge: charge), charge: charge)
        }
        if slipCode != nil { return deny(.invalidCode) }

        // A check-in.
        if !venue.groups.isEmpty, !venue.groups.contains(member.group) { return deny(.notEligible, member: member) }
        if let minimumAge = venue.minimumAge {
            let year = LocalTime(now, in: zone).date.year
            if let born = member.born {
                if year - born < minimumAge { return deny(.notEligible, member: member) }
            } else if member.group == .child {
                return deny(.notEligible, member: member)
            }
        }
        if !venue.hours.isOpen(atMinute: LocalTime(now, in: zone).minuteOfDay) { return deny(.closed, member: member) }
        if facts.inside >= venue.capacity { return deny(.full, member: member) }

        var decision = Decision(
            outcome: .accepted, direction: .in, member: summary, venue: venue.id, at: now,
            inside: facts.inside + 1, capacity: venue.capacity, message: Messages.welcome(summary.displayName, venue: venue))
        if venue.guardianCode, let code = PickupCode.generate(avoiding: facts.pickupCodesToday, using: &rng) {
            decision.pickupCode = code
            decision.message = Messages.withPickupCode(decision.message, code: code)
        }
        return decision
    }
}

extension Venue {
    /// Visits that began before this instant are over: before the venue last opened (so a visit of today
    /// stays open after closing time until it is checked out — an elder collected late can still leave —
    /// while yesterday's leftovers do not count once the venue opens again), or, where check-out is optional,
    /// longer ago than the longest stay. Nil when no visit can be stale.
    public func staleBefore(_ now: Date, zone: TimeZone) -> Date? {
        var cutoff = hours.lastOpening(atOrBefore: now, in: zone)
        if checkout == .optional, let maxStay = maxStayMinutes {
            let byStay = now.addingTimeInterval(-Double(maxStay * 60))
            cutoff = max(cutoff ?? byStay, byStay)
        }
        return cutoff
    }
}
