import Foundation
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain

/// Household check-in (issue 16) as tables: each child decided on its own facts under the guardian's card,
/// one pickup code per drop-off, and only registered guardians (or the slip) taking children out.
@Suite("Household check-in rules")
struct HouseholdEngineTests {
    static let mum = Member(id: MemberID("M000100")!, name: "陈丽", group: .resident, born: 1985)
    static let dad = Member(id: MemberID("M000101")!, name: "陈刚", group: .resident, born: 1983)
    static let stranger = Member(id: MemberID("M000102")!, name: "周强", group: .resident, born: 1980)
    static let amy = Member(id: MemberID("M000110")!, name: "陈子涵", group: .child, born: 2016)
    static let ben = Member(id: MemberID("M000111")!, name: "陈子豪", group: .child, born: 2018)
    static let cat = Member(id: MemberID("M000112")!, name: "陈子琪", group: .child, born: 2017, active: false)
    /// Registered as a ward but no longer in the children's group (grown up): the club is not for them.
    static let dan = Member(id: MemberID("M000113")!, name: "陈子明", group: .resident, born: 2008)
    static let other = Member(id: MemberID("M000120")!, name: "李小红", group: .child, born: 2016)
    static let family: Set<MemberID> = [amy.id, ben.id, cat.id, dan.id]

    static func payload(_ m: Member, validUntil: CivilDate = CivilDate(year: 2030, month: 1, day: 1)) -> CardPayload {
        CardPayload(keyID: 1, member: m.id.number, serial: 1, issued: 1000, validUntil: UInt16(validUntil.cardDay))
    }

    static func child(_ m: Member?, id: MemberID? = nil, inside: Int = 0, since: String? = nil, code: String? = nil) -> HouseholdChild {
        let presence = since.map {
            Presence(venue: "kids", member: (m?.id ?? id)!, group: .child, since: Fixtures.at($0), sinceSeq: 7, pickupCode: code)
        }
        return HouseholdChild(id: m?.id ?? id!, facts: CheckInFacts(member: m, presence: presence, inside: inside))
    }

    struct DropOffCase: CustomTestStringConvertible, Sendable {
        var name: String
        var at = "2026-11-28 09:00"
        var capacity = 25
        var holderActive = true
        var standing = CardStanding.current
        var validUntil = CivilDate(year: 2030, month: 1, day: 1)
        var wards: Set<MemberID> = HouseholdEngineTests.family
        var children: [HouseholdChild]
        /// Expected per child: nil for accepted, else the denial reason; "repeat" cases are accepted repeats.
        var expected: [DenialReason?]
        var repeats: Set<Int> = []
        var testDescription: String { name }
    }

    static let dropOffs: [DropOffCase] = [
        DropOffCase(
            name: "mixed: one gets the last place, one then finds it full, one not eligible, one inactive", capacity: 24,
            children: [child(amy, inside: 23), child(ben, inside: 23), child(dan, inside: 23), child(cat, inside: 23)],
            expected: [nil, .full, .notEligible, .inactiveMember]),
        DropOffCase(
            name: "a guardian of some but not all: the other child is refused without a name",
            children: [child(amy), child(other)], expected: [nil, .notEligible]),
        DropOffCase(
            name: "an id nobody holds is refused like someone else's child",
            children: [child(nil, id: MemberID("M000999")!)], expected: [.notEligible]),
        DropOffCase(
            name: "closed: every child refused with its own decision", at: "2026-11-28 18:00",
            children: [child(amy), child(ben)], expected: [.closed, .closed]),
        DropOffCase(
            name: "the guardian's card revoked: every child refused", standing: .revoked,
            children: [child(amy), child(ben)], expected: [.revoked, .revoked]),
        DropOffCase(
            name: "the guardian's card expired: every child refused", validUntil: CivilDate(year: 2026, month: 11, day: 1),
            children: [child(amy), child(ben)], expected: [.expired, .expired]),
        DropOffCase(
            name: "the guardian's membership stopped: every child refused", holderActive: false,
            children: [child(amy), child(ben)], expected: [.inactiveMember, .inactiveMember]),
        DropOffCase(
            name: "a child already inside stays in (a repeat), the other comes in",
            children: [child(amy, since: "2026-11-28 08:30", code: "KQM3AX"), child(ben)], expected: [nil, nil], repeats: [0]),
        DropOffCase(
            name: "a stranger's card brings no child in", wards: [],
            children: [child(amy), child(ben)], expected: [.notEligible, .notEligible]),
    ]

    @Test("a drop-off decides each child on its own facts", arguments: dropOffs)
    func dropOff(_ c: DropOffCase) {
        var venue = Fixtures.venue("kids")
        venue.capacity = c.capacity
        var rng = SeededRandom(seed: 3)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let h = engine.decideDropOff(
            card: Self.payload(Self.mum, validUntil: c.validUntil), standing: c.standing, holderActive: c.holderActive, wards: c.wards,
            children: c.children, venue: venue, at: Fixtures.at(c.at), pickupCodesToday: [], rng: &rng)
        #expect(h.decisions.count == c.children.count)
        for (i, (d, want)) in zip(h.decisions, c.expected).enumerated() {
            #expect(d.reason == want, "child \(i)")
            #expect(d.accepted == (want == nil), "child \(i)")
            #expect(d.isRepeat == c.repeats.contains(i), "child \(i)")
            #expect(d.member?.id == c.children[i].id, "child \(i)")
            #expect(d.venue == "kids" && d.direction == .in)
        }
        let admitted = h.decisions.filter { $0.accepted && !$0.isRepeat }
        if admitted.isEmpty {
            #expect(h.pickupCode == nil, "no child in, no code")
        } else {
            let code = try? #require(h.pickupCode)
            #expect(code.map(PickupCode.isWellFormed) == true)
            // One code for the whole drop-off, on every child let in, in the words too.
            #expect(admitted.allSatisfy { $0.pickupCode == code && $0.message.zh.hasSuffix("接送码：\(code ?? "")") })
        }
        // Someone else's child is never named to the card holder.
        for (d, child) in zip(h.decisions, c.children) where !c.wards.contains(child.id) {
            #expect(d.member?.displayName == "—")
            #expect(!d.message.zh.contains(child.facts.member?.displayName ?? "\u{0}"))
        }
    }

    @Test("the occupancy counts each child let in before the next")
    func occupancyRunsOn() {
        var rng = SeededRandom(seed: 4)
        let h = CheckInEngine(policy: Fixtures.policy).decideDropOff(
            card: Self.payload(Self.mum), standing: .current, holderActive: true, wards: Self.family,
            children: [Self.child(Self.amy, inside: 5), Self.child(Self.ben, inside: 5)], venue: Fixtures.venue("kids"),
            at: Fixtures.at("2026-11-28 09:00"), pickupCodesToday: [], rng: &rng)
        #expect(h.decisions.map(\.inside) == [6, 7])
    }

    @Test("a new drop-off's code is none of the day's codes")
    func codeAvoidsTodays() {
        let used = Set((0..<200).map { i in String(format: "%06d", i) })
        var rng = SeededRandom(seed: 5)
        let h = CheckInEngine(policy: Fixtures.policy).decideDropOff(
            card: Self.payload(Self.mum), standing: .current, holderActive: true, wards: Self.family, children: [Self.child(Self.amy)],
            venue: Fixtures.venue("kids"), at: Fixtures.at("2026-11-28 09:00"), pickupCodesToday: used, rng: &rng)
        #expect(h.pickupCode != nil && !used.contains(h.pickupCode!))
    }

    struct PickUpCase: CustomTestStringConvertible, Sendable {
        var name: String
        var at = "2026-11-28 16:00"
        var holder: Member?
        var wards: Set<MemberID> = []
        var code = "KQM3AX"
        var children: [HouseholdChild]
        var expected: [DenialReason?]
        var direction = Direction.out
        var testDescription: String { name }
    }

    static let inside = [
        child(amy, inside: 3, since: "2026-11-28 09:00", code: "KQM3AX"), child(ben, inside: 3, since: "2026-11-28 09:00", code: "KQM3AX"),
    ]

    static let pickUps: [PickUpCase] = [
        PickUpCase(name: "the slip collects every child it lists", children: inside, expected: [nil, nil]),
        PickUpCase(
            name: "the guardian who brought them, with the code", holder: mum, wards: family, children: inside, expected: [nil, nil]),
        PickUpCase(
            name: "the other registered guardian, with the code", holder: dad, wards: family, children: inside, expected: [nil, nil]),
        PickUpCase(
            name: "an adult who is no guardian, even with the right code, takes nobody", holder: stranger, children: inside,
            expected: [.notEligible, .notEligible]),
        PickUpCase(
            name: "a guardian of one of them takes only that one", holder: dad, wards: [ben.id], children: inside,
            expected: [.notEligible, nil]),
        PickUpCase(
            name: "a wrong typed code names no child: refused as a wrong code", holder: mum, wards: family, code: "AAAAAA", children: [],
            expected: [.guardianCodeRequired]),
        PickUpCase(name: "a wrong slip names no child: an unreadable code", code: "AAAAAA", children: [], expected: [.invalidCode]),
        PickUpCase(
            name: "a slip read within the minimum stay confirms nothing", at: "2026-11-28 09:00:30", children: inside,
            expected: [.invalidCode, .invalidCode]),
    ]

    @Test("a pick-up takes out only what the code and the card allow", arguments: pickUps)
    func pickUp(_ c: PickUpCase) {
        var rng = SeededRandom(seed: 6)
        let card = c.holder.map { (payload: Self.payload($0), standing: CardStanding.current, holder: Optional($0), wards: c.wards) }
        let h = CheckInEngine(policy: Fixtures.policy).decidePickUp(
            code: c.code, card: card, children: c.children, venue: Fixtures.venue("kids"), at: Fixtures.at(c.at), rng: &rng)
        #expect(h.decisions.map(\.reason) == c.expected)
        #expect(h.decisions.allSatisfy { $0.direction == .out || $0.reason == .invalidCode })
        let out = h.decisions.filter { $0.accepted }
        #expect(out.allSatisfy { $0.direction == .out })
        #expect((h.pickupCode != nil) == !out.isEmpty)
        if !out.isEmpty { #expect(out.last?.inside == 3 - out.count, "each child out counts before the next") }
    }

    @Test("the JSON shape is {pickup_code, decisions: [decision objects]}")
    func jsonShape() throws {
        var rng = SeededRandom(seed: 7)
        let h = CheckInEngine(policy: Fixtures.policy).decideDropOff(
            card: Self.payload(Self.mum), standing: .current, holderActive: true, wards: Self.family,
            children: [Self.child(Self.amy), Self.child(Self.dan)], venue: Fixtures.venue("kids"), at: Fixtures.at("2026-11-28 09:00"),
            pickupCodesToday: [], rng: &rng)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(h.json.utf8)) as? [String: Any])
        #expect(object["pickup_code"] as? String == h.pickupCode)
        let decisions = try #require(object["decisions"] as? [[String: Any]])
        #expect(decisions.map { $0["outcome"] as? String } == ["accepted", "denied"])
        #expect(decisions.map { $0["reason"] as? String } == [nil, "not_eligible"])
        #expect((decisions[0]["member"] as? [String: Any])?["id"] as? String == "M000110")
    }

    @Test("--children reads all or a list of member ids, nothing else")
    func selectionText() {
        #expect(ChildSelection(text: "all") == .all)
        #expect(ChildSelection(text: " ALL ") == .all)
        #expect(ChildSelection(text: "M000123,M000124") == .only([MemberID("M000123")!, MemberID("M000124")!]))
        #expect(ChildSelection(text: "M000123,") == nil)
        #expect(ChildSelection(text: "M000123,bob") == nil)
        #expect(ChildSelection(text: "") == nil)
    }
}
