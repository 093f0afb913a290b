/// A withdrawal of cards, made by a desk and carried to other desks in its `card keys --json`.
///
/// The rule (docs/security.md, "Card keys and revocations"): a card is void when any revocation voids it.
/// - `below(n)`: the member's cards signed by `keyID` with a serial below n (a re-issue at that desk).
/// - `serial(n)`: the member's card signed by `keyID` with serial n (a withdrawal without a new card).
/// - `othersIssuedThrough(day)`: the member's cards signed by any *other* key and issued on or before `day`.
///   Serials count per desk, so a peer desk's serial says nothing about this desk's; the issue date does.
///   Every issue at a desk makes one through the day before (a card another desk gave the member earlier,
///   whatever its serial, is void wherever that desk's revocations reach, this desk first; one issued the
///   same day is left alone, so two desks issuing on one day do not void each other), and every withdrawal
///   (`card revoke`) one through that day.
public struct CardRevocation: Hashable, Sendable {
    /// What a revocation covers.
    public enum Scope: Hashable, Sendable {
        /// Serials below this one, under the revoking key.
        case below(UInt16)
        /// This one serial, under the revoking key.
        case serial(UInt16)
        /// Cards under other keys issued on or before this day.
        case othersIssuedThrough(CivilDate)
    }

    /// The member whose cards are void.
    public var member: MemberID
    /// The key of the desk that made the revocation.
    public var keyID: UInt8
    /// Which cards.
    public var scope: Scope

    /// Creates a revocation.
    public init(member: MemberID, keyID: UInt8, scope: Scope) {
        self.member = member
        self.keyID = keyID
        self.scope = scope
    }

    /// Whether this revocation voids the card with `payload` (the store applies the same rule in SQL).
    public func voids(_ payload: CardPayload) -> Bool {
        guard payload.member == member.number else { return false }
        switch scope {
        case .below(let n): return payload.keyID == keyID && payload.serial < n
        case .serial(let n): return payload.keyID == keyID && payload.serial == n
        case .othersIssuedThrough(let day): return payload.keyID != keyID && Int(payload.issued) <= day.cardDay
        }
    }

    /// The store's spelling: kind and value.
    public var kindAndValue: (kind: String, value: Int) {
        switch scope {
        case .below(let n): ("below", Int(n))
        case .serial(let n): ("serial", Int(n))
        case .othersIssuedThrough(let day): ("others_through", day.cardDay)
        }
    }

    /// From the store's spelling; nil for an unknown kind or a value out of range.
    public init?(member: MemberID, keyID: UInt8, kind: String, value: Int) {
        guard (0...Int(UInt16.max)).contains(value) else { return nil }
        switch kind {
        case "below": scope = .below(UInt16(value))
        case "serial": scope = .serial(UInt16(value))
        case "others_through": scope = .othersIssuedThrough(CivilDate(cardDay: value))
        default: return nil
        }
        self.member = member
        self.keyID = keyID
    }
}
