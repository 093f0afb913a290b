import Foundation

/// Which children a guardian brings or collects: every child offered, or the ones named.
public enum ChildSelection: Hashable, Sendable {
    /// Every registered child of the guardian who is not inside (drop-off), or every child of the code (pick-up).
    case all
    /// The children named by id, in this order.
    case only([MemberID])

    /// Reads `all` or a comma-separated list of member ids (`M000123,M000124`); nil for anything else.
    public init?(text: String) {
        let t = text.trimmingWhitespace()
        if t.lowercased() == "all" {
            self = .all
            return
        }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        let ids = parts.compactMap(MemberID.init)
        guard !ids.isEmpty, ids.count == parts.count else { return nil }
        self = .only(ids)
    }
}

/// One child as the household rules see it: the id asked for and the facts the store read for that child
/// at the venue (`facts.member` nil for an id nobody holds).
public struct HouseholdChild: Sendable {
    public var id: MemberID
    public var facts: CheckInFacts
    /// Creates one.
    public init(id: MemberID, facts: CheckInFacts) {
        self.id = id
        self.facts = facts
    }
}

/// The decisions of one drop-off or pick-up: one per child, and the drop-off's shared pickup code.
public struct HouseholdDecision: Hashable, Sendable {
    /// The code every child of the drop-off shares (nil when no child was let in, or a pick-up found no child).
    public var pickupCode: String?
    /// One decision per child, in the order asked.
    public var decisions: [Decision]

    /// Creates one.
    public init(pickupCode: String?, decisions: [Decision]) {
        self.pickupCode = pickupCode
        self.decisions = decisions
    }

    /// The children let in (drop-off) or out (pick-up), repeats left out.
    public var moved: [Decision] { decisions.filter { $0.accepted && !$0.isRepeat } }

    /// `{"pickup_code": …, "decisions": [decision objects]}`.
    public var json: String {
        var out = "{\"pickup_code\":"
        if let pickupCode { JSONWriter.appendString(pickupCode, to: &out) } else { out += "null" }
        return out + ",\"decisions\":[" + decisions.map(\.json).joined(separator: ",") + "]}"
    }
}

/// Household check-in (issue 16): a guardian's card brings several children in under one pickup code, and the
/// code (a slip, or the card of any registered guardian with the code typed) takes them out. Each child is
/// decided by `decide` on its own facts, so hours, capacity, age, inactive members and the guardian's card
/// standing still decide per child; a child the card holder is not a registered guardian of is refused.
extension CheckInEngine {
    /// Decides a drop-off. `card` is the guardian's card and `standing` its standing; `wards` are the children
    /// registered with the guardian; `holderActive` whether the guardian's membership is active; `children` the ones asked for, each with facts read before any of them was
    /// recorded (`facts.inside` is the venue's count then: each child let in counts for the next).
    public func decideDropOff(
        card: CardPayload, standing: CardStanding, holderActive: Bool, wards: Set<MemberID>, children: [HouseholdChild], venue: Venue,
        at now: Date, pickupCodesToday: Set<String>, rng: inout some RandomNumberGenerator
    ) -> HouseholdDecision {
        let code = venue.guardianCode ? PickupCode.generate(avoiding: pickupCodesToday, using: &rng) : nil
        var admitted = 0
        var decisions: [Decision] = []
        for child in children {
            var facts = child.facts
            facts.cardStanding = standing
            facts.previousScan = nil
            facts.inside += admitted
            guard wards.contains(child.id) else {
                decisions.append(Self.notYours(child.id, venue: venue, at: now, inside: facts.inside))
                continue
            }
            // A guardian whose membership is stopped brings nobody in.
            guard holderActive || standing == .revoked else {
                decisions.append(
                    Decision(
                        outcome: .denied, direction: .in, reason: .inactiveMember, member: facts.member.map(MemberSummary.init),
                        venue: venue.id, at: now, inside: facts.inside, capacity: venue.capacity,
                        message: Messages.denial(.inactiveMember, venue: venue)))
                continue
            }
            // A child already inside stays in: the answer a second scan within the stay would give, recorded nowhere.
            if let presence = facts.presence, let member = facts.member {
                let summary = MemberSummary(member)
                decisions.append(
                    Decision(
                        outcome: .accepted, direction: .in, isRepeat: true, member: summary, venue: venue.id, seq: presence.sinceSeq,
                        at: presence.since, inside: facts.inside, capacity: venue.capacity,
                        message: Messages.alreadyInside(summary.displayName, venue: venue), pickupCode: presence.pickupCode))
                continue
            }
            var d = decide(.card(card), venue: venue, facts: facts, at: now, rng: &rng)
            if d.accepted, d.direction == .in {
                admitted += 1
                d.pickupCode = code
                d.message = Messages.welcome(d.member?.displayName ?? "", venue: venue)
                if let code { d.message = Messages.withPickupCode(d.message, code: code) }
            }
            decisions.append(d)
        }
        return HouseholdDecision(pickupCode: admitted > 0 ? code : nil, decisions: decisions)
    }

    /// Decides a pick-up of the children still inside under `code`. With `card` (a guardian's card and the typed
    /// code) only the card holder's wards leave and the others are refused; without it the code came from the
    /// pickup slip, which collects every child it lists. `children` carry the facts read before any was recorded.
    public func decidePickUp(
        code: String, card: (payload: CardPayload, standing: CardStanding, holder: Member?, wards: Set<MemberID>)?,
        children: [HouseholdChild], venue: Venue, at now: Date, rng: inout some RandomNumberGenerator
    ) -> HouseholdDecision {
        // A code that names no child inside: the slip reads as no code at all, the typed code is refused.
        guard !children.isEmpty else {
            let reason: DenialReason = card == nil ? .invalidCode : .guardianCodeRequired
            return HouseholdDecision(
                pickupCode: nil,
                decisions: [
                    Decision(
                        outcome: .denied, direction: .out, reason: reason, member: card?.holder.map(MemberSummary.init),
                        venue: venue.id, at: now, inside: 0, capacity: venue.capacity, message: Messages.denial(reason, venue: venue))
                ])
        }
        var left = 0
        var decisions: [Decision] = []
        for child in children {
            var facts = child.facts
            facts.previousScan = nil
            facts.inside -= left
            let d: Decision
            if let card {
                guard card.wards.contains(child.id) else {
                    decisions.append(Self.notYours(child.id, direction: .out, venue: venue, at: now, inside: facts.inside))
                    continue
                }
                facts.cardStanding = card.standing
                d = decide(.card(card.payload), venue: venue, facts: facts, at: now, guardianCode: code, rng: &rng)
            } else {
                d = decide(.pickupSlip(code: code), venue: venue, facts: facts, at: now, rng: &rng)
            }
            if d.accepted, d.direction == .out, !d.isRepeat { left += 1 }
            decisions.append(d)
        }
        return HouseholdDecision(pickupCode: left > 0 ? code : nil, decisions: decisions)
    }

    /// A child the card holder is not a registered guardian of: refused as `not_eligible` whether or not the id
    /// is anyone's, and without the child's name (the holder learns nothing about someone else's child).
    static func notYours(_ id: MemberID, direction: Direction = .in, venue: Venue, at now: Date, inside: Int) -> Decision {
        Decision(
            outcome: .denied, direction: direction, reason: .notEligible,
            member: MemberSummary(id: id, displayName: "—", group: .child), venue: venue.id, at: now, inside: inside,
            capacity: venue.capacity, message: Messages.notYourChild)
    }
}
