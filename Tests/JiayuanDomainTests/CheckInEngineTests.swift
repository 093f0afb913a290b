import Foundation
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain
@testable import JiayuanKiosk

/// The rules of DESIGN.md §2–3.3 as a table, with a fixed clock (Asia/Shanghai wall times).
@Suite("Check-in rules")
struct CheckInEngineTests {
    static let elder = Member(id: MemberID("M000010")!, name: "王秀英", group: .elder, born: 1948)
    static let poorElder = Member(id: MemberID("M000011")!, name: "李桂兰", group: .elder, born: 1944, flags: [.lowIncome])
    static let resident = Member(id: MemberID("M000020")!, name: "张伟", group: .resident, born: 1985)
    static let youngResident = Member(id: MemberID("M000021")!, name: "赵小明", group: .resident, born: 2015)
    static let child = Member(id: MemberID("M000030")!, name: "陈子涵", group: .child, born: 2016, guardians: [MemberID("M000020")!])
    static let veteran = Member(id: MemberID("M000040")!, name: "刘建国", group: .veteran, born: 1960)
    static let inactive = Member(id: MemberID("M000050")!, name: "孙平", group: .resident, born: 1970, active: false)

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var code: String
        var venue: String
        var at: String
        var facts: CheckInFacts
        var guardianCode: String? = nil
        var outcome: Outcome
        var direction: Direction = .in
        var reason: DenialReason? = nil
        var isRepeat = false
        var testDescription: String { name }
    }

    static func card(_ m: Member, serial: UInt16 = 1, validUntil: CivilDate = CivilDate(year: 2030, month: 1, day: 1)) -> String {
        Fixtures.card(member: m.id.number, serial: serial, validUntil: validUntil)
    }

    static func inside(_ m: Member, _ venue: String, since: String, code: String? = nil) -> Presence {
        Presence(venue: venue, member: m.id, group: m.group, since: Fixtures.at(since), sinceSeq: 5, pickupCode: code)
    }

    /// A well-formed card for key 1 whose signature is all zeros.
    static func forged(member: UInt32) -> String {
        "JY1:"
            + Base32.encode(
                CardPayload(keyID: 1, member: member, serial: 1, issued: 1000, validUntil: 3000).bytes + Array(repeating: 0, count: 64))
    }

    static let cases: [Case] = [
        Case(
            name: "accepted: resident into the library", code: card(resident), venue: "library", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident), outcome: .accepted),
        Case(
            name: "invalid_code: garbage", code: "hello world", venue: "library", at: "2026-11-28 10:00",
            facts: CheckInFacts(), outcome: .denied, reason: .invalidCode),
        Case(
            name: "bad_signature: forged", code: forged(member: 20), venue: "library",
            at: "2026-11-28 10:00", facts: CheckInFacts(), outcome: .denied, reason: .badSignature),
        Case(
            name: "unknown_key: other desk", code: Fixtures.card(member: 20, key: Fixtures.otherDeskKey), venue: "library",
            at: "2026-11-28 10:00", facts: CheckInFacts(member: resident), outcome: .denied, reason: .unknownKey),
        Case(
            name: "revoked: replaced card", code: card(resident), venue: "library", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident, cardStanding: .revoked), outcome: .denied, reason: .revoked),
        Case(
            name: "expired: valid until yesterday (local date)",
            code: card(resident, validUntil: CivilDate(year: 2026, month: 11, day: 27)),
            venue: "library", at: "2026-11-28 10:00", facts: CheckInFacts(member: resident), outcome: .denied, reason: .expired),
        Case(
            name: "not expired on its last day", code: card(resident, validUntil: CivilDate(year: 2026, month: 11, day: 28)),
            venue: "library", at: "2026-11-28 20:00", facts: CheckInFacts(member: resident), outcome: .accepted),
        Case(
            name: "inactive_member", code: card(inactive), venue: "library", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: inactive), outcome: .denied, reason: .inactiveMember),
        Case(
            name: "unknown_member", code: card(resident), venue: "library", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: nil), outcome: .denied, reason: .unknownMember),
        Case(
            name: "not_eligible: resident at day care", code: card(resident), venue: "daycare", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident), outcome: .denied, reason: .notEligible),
        Case(
            name: "not_eligible: under 14 at the gym", code: card(youngResident), venue: "gym", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: youngResident), outcome: .denied, reason: .notEligible),
        Case(
            name: "not_eligible: resident at the veterans' corner", code: card(resident), venue: "veterans", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident), outcome: .denied, reason: .notEligible),
        Case(
            name: "closed: library before 08:30", code: card(resident), venue: "library", at: "2026-11-28 08:29",
            facts: CheckInFacts(member: resident), outcome: .denied, reason: .closed),
        Case(
            name: "open: library at 08:30 exactly", code: card(resident), venue: "library", at: "2026-11-28 08:30",
            facts: CheckInFacts(member: resident), outcome: .accepted),
        Case(
            name: "closed: library at 20:30 exactly", code: card(resident), venue: "library", at: "2026-11-28 20:30",
            facts: CheckInFacts(member: resident), outcome: .denied, reason: .closed),
        Case(
            name: "veterans' corner is open at 03:00", code: card(veteran), venue: "veterans", at: "2026-11-28 03:00",
            facts: CheckInFacts(member: veteran), outcome: .accepted),
        Case(
            name: "full: gym at capacity", code: card(resident), venue: "gym", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident, inside: 30), outcome: .denied, reason: .full),
        Case(
            name: "one place left", code: card(resident), venue: "gym", at: "2026-11-28 10:00",
            facts: CheckInFacts(member: resident, inside: 29), outcome: .accepted),
        Case(
            name: "check-out: second scan after the minimum stay", code: card(resident), venue: "gym", at: "2026-11-28 11:00",
            facts: CheckInFacts(member: resident, presence: inside(resident, "gym", since: "2026-11-28 10:00"), inside: 30),
            outcome: .accepted, direction: .out),
        Case(
            name: "check-out works when the venue is full and after closing", code: card(resident), venue: "gym", at: "2026-11-28 20:59",
            facts: CheckInFacts(member: resident, presence: inside(resident, "gym", since: "2026-11-28 20:00"), inside: 30),
            outcome: .accepted, direction: .out),
        Case(
            name: "day care: check-out after closing time (collected late)", code: card(elder), venue: "daycare", at: "2026-11-28 18:20",
            facts: CheckInFacts(member: elder, presence: inside(elder, "daycare", since: "2026-11-28 08:00"), inside: 3),
            outcome: .accepted, direction: .out),
        Case(
            name: "an expired card still checks out", code: card(resident, validUntil: CivilDate(year: 2026, month: 11, day: 27)),
            venue: "gym",
            at: "2026-11-28 11:00", facts: CheckInFacts(member: resident, presence: inside(resident, "gym", since: "2026-11-27 23:59")),
            outcome: .accepted, direction: .out),
        Case(
            name: "a member deactivated while inside can still leave", code: card(inactive), venue: "library", at: "2026-11-28 11:00",
            facts: CheckInFacts(member: inactive, presence: inside(inactive, "library", since: "2026-11-28 10:00")),
            outcome: .accepted, direction: .out),
        Case(
            name: "repeat: second scan within the minimum stay", code: card(resident), venue: "gym", at: "2026-11-28 10:00:30",
            facts: CheckInFacts(member: resident, presence: inside(resident, "gym", since: "2026-11-28 10:00")),
            outcome: .accepted, isRepeat: true),
        Case(
            name: "guardian_code_required: child's card alone cannot check out", code: card(child), venue: "kids",
            at: "2026-11-28 16:00",
            facts: CheckInFacts(member: child, presence: inside(child, "kids", since: "2026-11-28 09:00", code: "K7P")),
            outcome: .denied, direction: .out, reason: .guardianCodeRequired),
        Case(
            name: "guardian_code_required: wrong code", code: card(child), venue: "kids", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: child, presence: inside(child, "kids", since: "2026-11-28 09:00", code: "K7P")),
            guardianCode: "AAA", outcome: .denied, direction: .out, reason: .guardianCodeRequired),
        Case(
            name: "child out with the guardian's code (any case)", code: card(child), venue: "kids", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: child, presence: inside(child, "kids", since: "2026-11-28 09:00", code: "K7P")),
            guardianCode: "k7p", outcome: .accepted, direction: .out),
        Case(
            name: "child out by scanning the pickup slip", code: "JYK:K7P", venue: "kids", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: child, presence: inside(child, "kids", since: "2026-11-28 09:00", code: "K7P")),
            outcome: .accepted, direction: .out),
        Case(
            name: "a pickup slip of no child inside is invalid_code", code: "JYK:K7P", venue: "kids", at: "2026-11-28 16:00",
            facts: CheckInFacts(), outcome: .denied, reason: .invalidCode),
        Case(
            name: "a pickup slip at the gym is invalid_code", code: "JYK:K7P", venue: "gym", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: child), outcome: .denied, reason: .invalidCode),
        Case(
            name: "legacy number at the veterans' corner", code: "20190001", venue: "veterans", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: veteran), outcome: .accepted),
        Case(
            name: "legacy number at the library is invalid_code", code: "20190001", venue: "library", at: "2026-11-28 16:00",
            facts: CheckInFacts(member: veteran), outcome: .denied, reason: .invalidCode),
        Case(
            name: "unregistered legacy number is invalid_code", code: "99999999", venue: "veterans", at: "2026-11-28 16:00",
            facts: CheckInFacts(), outcome: .denied, reason: .invalidCode),
    ]

    @Test("rule table", arguments: cases)
    func rule(_ c: Case) {
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let reading = ScanReading.read(c.code, keys: Fixtures.keyring)
        let d = engine.decide(
            reading, venue: Fixtures.venue(c.venue), facts: c.facts, at: Fixtures.at(c.at), guardianCode: c.guardianCode, rng: &rng)
        #expect(d.outcome == c.outcome)
        #expect(d.direction == c.direction)
        #expect(d.reason == c.reason)
        #expect(d.isRepeat == c.isRepeat)
        #expect(d.venue == c.venue)
        #expect(!d.message.zh.isEmpty && !d.message.en.isEmpty)
    }

    @Test("every denial reason code is covered by the table")
    func everyReasonCovered() {
        let covered = Set(Self.cases.compactMap(\.reason))
        #expect(covered == Set(DenialReason.allCases))
    }

    @Test("a repeat of the identical code within the debounce window returns the previous decision")
    func debounce() {
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let first = Decision(
            outcome: .denied, direction: .in, reason: .closed, member: MemberSummary(Self.resident), venue: "library", seq: 9,
            at: Fixtures.at("2026-11-28 08:00:00"), inside: 0, capacity: 60, message: Bilingual(zh: "x", en: "x"))
        let facts = CheckInFacts(member: Self.resident, inside: 3, previousScan: PreviousScan(decision: first))
        let reading = ScanReading.read(Self.card(Self.resident), keys: Fixtures.keyring)
        let again = engine.decide(
            reading, venue: Fixtures.venue("library"), facts: facts, at: Fixtures.at("2026-11-28 08:00:04"), rng: &rng)
        #expect(again.isRepeat)
        #expect(again.seq == 9)
        #expect(again.reason == .closed)
        #expect(again.inside == 3)
        let rounded = engine.decide(
            reading, venue: Fixtures.venue("library"), facts: facts, at: Fixtures.at("2026-11-28 08:00:05.5"), rng: &rng)
        #expect(rounded.isRepeat, "the stored time lost up to a second: 5.5 s may be 4.6 s after the real scan")
        let later = engine.decide(
            reading, venue: Fixtures.venue("library"), facts: facts, at: Fixtures.at("2026-11-28 08:00:06"), rng: &rng)
        #expect(!later.isRepeat, "6 s is outside a 5 s window, whatever the rounding")
    }

    @Test("a venue open past midnight is open at 01:00 and closed at 03:00")
    func pastMidnight() throws {
        let hours = try #require(OpeningHours("18:00-02:00"))
        #expect(hours.isOpen(atMinute: 23 * 60))
        #expect(hours.isOpen(atMinute: 60))
        #expect(!hours.isOpen(atMinute: 3 * 60))
        #expect(!hours.isOpen(atMinute: 12 * 60))
        #expect(OpeningHours("24h") == .always)
        #expect(OpeningHours("08:00-08:00") == nil)
        #expect(OpeningHours("25:00-26:00") == nil)
        #expect(OpeningHours("8-17") == nil)
        var venue = Fixtures.venue("library")
        venue.hours = hours
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let reading = ScanReading.read(Self.card(Self.resident), keys: Fixtures.keyring)
        let facts = CheckInFacts(member: Self.resident)
        #expect(engine.decide(reading, venue: venue, facts: facts, at: Fixtures.at("2026-11-29 01:30"), rng: &rng).accepted)
        #expect(engine.decide(reading, venue: venue, facts: facts, at: Fixtures.at("2026-11-29 03:00"), rng: &rng).reason == .closed)
    }

    @Test("hours are read on the venue's own clock")
    func venueTimeZone() {
        var venue = Fixtures.venue("library")
        venue.timeZone = TimeZone(identifier: "Europe/London")
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let reading = ScanReading.read(Self.card(Self.resident), keys: Fixtures.keyring)
        // 18:00 in Shanghai is 10:00 in London (winter): open there.
        #expect(
            engine.decide(reading, venue: venue, facts: CheckInFacts(member: Self.resident), at: Fixtures.at("2026-11-28 18:00"), rng: &rng)
                .accepted)
        // 10:00 in Shanghai is 02:00 in London: closed.
        #expect(
            engine.decide(reading, venue: venue, facts: CheckInFacts(member: Self.resident), at: Fixtures.at("2026-11-28 10:00"), rng: &rng)
                .reason == .closed)
    }

    @Test("children get a 6-character pickup code that is not yet used today")
    func pickupCode() {
        var rng = SeededRandom(seed: 3)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let reading = ScanReading.read(Self.card(Self.child), keys: Fixtures.keyring)
        var used: Set<String> = []
        for _ in 0..<300 {
            let d = engine.decide(
                reading, venue: Fixtures.venue("kids"), facts: CheckInFacts(member: Self.child, pickupCodesToday: used),
                at: Fixtures.at("2026-11-28 09:00"), rng: &rng)
            let code = d.pickupCode ?? ""
            #expect(PickupCode.isWellFormed(code) && code.count == 6)
            #expect(!used.contains(code))
            #expect(d.message.zh.contains(code))
            used.insert(code)
        }
        let all = Set(
            PickupCode.alphabet.flatMap { a in PickupCode.alphabet.flatMap { b in PickupCode.alphabet.map { c in String([a, b, c]) } } })
        var rng2 = SeededRandom(seed: 4)
        let last = all.subtracting(["KKK"])
        #expect(PickupCode.generate(avoiding: last, length: 3, using: &rng2) == "KKK")
        #expect(PickupCode.generate(avoiding: all, length: 3, using: &rng2) == nil)
    }

    @Test(
        "day-care fee in integer fen",
        arguments: [
            ("07:45", "11:30", false, DaycareCharge.Kind.halfDay, false, 1000),
            ("08:30", "12:30", false, .halfDay, true, 1800),
            ("07:45", "12:30", false, .fullDay, true, 2600),
            ("08:00", "17:00", false, .fullDay, true, 2600),
            ("13:00", "17:00", false, .halfDay, false, 1000),
            ("13:00", "17:01", false, .fullDay, false, 1800),
            ("08:00", "17:00", true, .fullDay, true, 0),
        ])
    func fee(checkIn: String, checkOut: String, lowIncome: Bool, kind: DaycareCharge.Kind, lunch: Bool, fen: Int) {
        let fees = Fixtures.venue("daycare").fees!
        let c = DaycareCharge.compute(
            fees: fees, checkIn: Fixtures.at("2026-11-28 " + checkIn), checkOut: Fixtures.at("2026-11-28 " + checkOut),
            lowIncome: lowIncome, zone: Fixtures.shanghai)
        #expect(c.kind == kind)
        #expect(c.lunch == lunch)
        #expect(c.amountFen == fen)
        #expect(c.free == lowIncome)
    }

    @Test("day-care check-out carries the fee, and 'free' for low income")
    func daycareCheckout() {
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        for (m, expected) in [(Self.elder, "26.00 元"), (Self.poorElder, "低保免费")] {
            let d = engine.decide(
                ScanReading.read(Self.card(m), keys: Fixtures.keyring), venue: Fixtures.venue("daycare"),
                facts: CheckInFacts(member: m, presence: Self.inside(m, "daycare", since: "2026-11-28 08:00"), inside: 5),
                at: Fixtures.at("2026-11-28 17:00"), rng: &rng)
            #expect(d.direction == .out)
            #expect(d.charge?.amountFen == (m.flags.contains(.lowIncome) ? 0 : 2600))
            #expect(d.message.zh.contains(expected))
        }
        #expect(formatYuan(fen: 2605) == "26.05")
        #expect(formatYuan(fen: 5) == "0.05")
        #expect(formatYuan(fen: 0) == "0.00")
    }

    @Test("closing sweep: auto check-out at closing; day care and children alert instead")
    func sweepPlan() {
        let now = Fixtures.at("2026-11-28 22:00")
        let visits = [
            Self.inside(Self.resident, "gym", since: "2026-11-28 19:00"),
            Self.inside(Self.elder, "daycare", since: "2026-11-28 08:00"),
            Self.inside(Self.child, "kids", since: "2026-11-28 09:00"),
            Self.inside(Self.veteran, "veterans", since: "2026-11-28 21:00"),
            Self.inside(Self.youngResident, "library", since: "2026-11-28 12:00"),
        ]
        let actions = ClosingSweep.plan(venues: Fixtures.config.venues, presence: visits, now: now, policy: Fixtures.policy)
        #expect(actions.contains(.checkout(visits[0], at: Fixtures.at("2026-11-28 21:00"))))
        #expect(actions.contains(.alert(visits[1], closing: Fixtures.at("2026-11-28 18:00"))))
        #expect(actions.contains(.alert(visits[2], closing: Fixtures.at("2026-11-28 17:30"))))
        // The library's 4-hour longest stay ended before closing.
        #expect(actions.contains(.checkout(visits[4], at: Fixtures.at("2026-11-28 16:00"))))
        // The veterans' corner never closes and the visit is young.
        #expect(!actions.contains { if case .checkout(let p, _) = $0 { p.venue == "veterans" } else { false } })
        #expect(actions.count == 4)
        // Before closing nothing happens to the gym visit.
        let early = ClosingSweep.plan(
            venues: Fixtures.config.venues, presence: [visits[0]], now: Fixtures.at("2026-11-28 20:00"), policy: Fixtures.policy)
        #expect(early.isEmpty)
    }

    @Test("names are masked for public screens")
    func masking() {
        #expect(NameMask.mask("王秀英") == "王*英")
        #expect(NameMask.mask("李伟") == "李*")
        #expect(NameMask.mask("欧阳明华") == "欧**华")
        #expect(NameMask.mask("王") == "*")
        #expect(NameMask.mask("") == "")
    }
}
