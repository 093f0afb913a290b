import Foundation
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain

/// The rules against guessing pickup codes (issue 13) as tables, with a fixed clock.
@Suite("Pickup guessing rules")
struct PickupGuessLedgerTests {
    static let start = Fixtures.at("2026-11-28 10:00")

    /// One step: a wrong guess at `venue` at `start + at` seconds, or only a look at the lock.
    struct Step: Sendable, CustomStringConvertible {
        var at: TimeInterval
        var venue = "kids"
        var guess = true
        /// The verdict expected for a guess; for a look, whether the venue is locked.
        var expected: String
        var description: String { "\(guess ? "guess" : "look") at +\(Int(at)) s at \(venue): \(expected)" }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: [Step]
        var testDescription: String { name }
    }

    static func guess(_ at: TimeInterval, _ expected: String, venue: String = "kids") -> Step {
        Step(at: at, venue: venue, expected: expected)
    }
    static func look(_ at: TimeInterval, _ expected: String, venue: String = "kids") -> Step {
        Step(at: at, venue: venue, guess: false, expected: expected)
    }

    static let cases: [Case] = [
        Case(
            name: "the fifth wrong guess within 10 minutes starts a 15-minute lock",
            steps: [
                guess(0, "counted 4"), guess(60, "counted 3"), guess(120, "counted 2"), guess(180, "counted 1"),
                look(180, "open"), guess(240, "lock until +1140"), look(241, "locked"), look(1139, "locked"), look(1140, "open"),
            ]),
        Case(
            name: "guesses spread over more than 10 minutes never lock",
            steps: [
                guess(0, "counted 4"), guess(200, "counted 3"), guess(400, "counted 2"), guess(599, "counted 1"),
                // The guess at 0 is exactly 600 s old at 600: it no longer counts.
                guess(600, "counted 1"), guess(800, "counted 1"), look(800, "open"),
            ]),
        Case(
            name: "a guess 599 s old still counts",
            steps: [
                guess(0, "counted 4"), guess(1, "counted 3"), guess(2, "counted 2"), guess(3, "counted 1"), guess(599, "lock until +1499"),
            ]),
        Case(
            name: "a guess during the lock is not counted and the count starts afresh after it",
            steps: [
                guess(0, "counted 4"), guess(1, "counted 3"), guess(2, "counted 2"), guess(3, "counted 1"), guess(4, "lock until +904"),
                guess(500, "locked until +904"), look(904, "open"), guess(905, "counted 4"),
            ]),
        Case(
            name: "venues are counted and locked apart",
            steps: [
                guess(0, "counted 4"), guess(1, "counted 3"), guess(2, "counted 2"), guess(3, "counted 1"),
                guess(4, "counted 4", venue: "gym"), guess(5, "lock until +905"), look(6, "open", venue: "gym"), look(6, "locked"),
            ]),
    ]

    static func render(_ verdict: PickupGuessLedger.Verdict) -> String {
        switch verdict {
        case .counted(let remaining): "counted \(remaining)"
        case .lockStarted(let until): "lock until +\(Int(until.timeIntervalSince(start)))"
        case .locked(let until): "locked until +\(Int(until.timeIntervalSince(start)))"
        }
    }

    @Test("rule table", arguments: cases)
    func rules(_ c: Case) {
        var ledger = PickupGuessLedger()
        for step in c.steps {
            let now = Self.start.addingTimeInterval(step.at)
            if step.guess {
                #expect(Self.render(ledger.recordWrongGuess(venue: step.venue, at: now)) == step.expected, "\(step)")
            } else {
                #expect((ledger.lockedUntil(venue: step.venue, at: now) == nil ? "open" : "locked") == step.expected, "\(step)")
            }
        }
    }

    @Test("a lock put back from its start lasts the rest of its 15 minutes")
    func restore() {
        var ledger = PickupGuessLedger()
        ledger.restoreLock(venue: "kids", startedAt: Self.start)
        #expect(ledger.lockedUntil(venue: "kids", at: Self.start.addingTimeInterval(899)) == Self.start.addingTimeInterval(900))
        #expect(ledger.lockedUntil(venue: "kids", at: Self.start.addingTimeInterval(900)) == nil)
        #expect(ledger.lockedUntil(venue: "gym", at: Self.start) == nil)
    }

    @Test(
        "what counts as trying a pickup code, and as a wrong guess",
        arguments: [
            // reading, guardian code, via, decision (outcome/direction/reason/repeat), attempt, wrong
            ("JYK:K7QM3A", nil, Via.scan, "denied in invalid_code", true, true),
            ("JYK:K7QM3A", nil, .scan, "accepted out", true, false),
            ("JYK:K7QM3A", nil, .scan, "denied in invalid_code repeat", true, false),
            ("jyk:??", nil, .scan, "denied in invalid_code", true, true),
            ("JYK:K7QM3A", nil, .staff, "denied in invalid_code", false, false),
            ("CARD", "K7QM3A", .scan, "denied out guardian_code_required", true, true),
            ("CARD", "K7QM3A", .scan, "accepted out", true, false),
            ("CARD", "K7QM3A", .scan, "accepted in", true, false),
            ("CARD", "  ", .scan, "denied out guardian_code_required", false, false),
            ("CARD", nil, .scan, "denied out guardian_code_required", false, false),
            ("CARD", "K7QM3A", .staff, "denied out guardian_code_required", false, false),
            ("hello", nil, .scan, "denied in invalid_code", false, false),
        ] as [(String, String?, Via, String, Bool, Bool)])
    func classification(text: String, guardianCode: String?, via: Via, decided: String, attempt: Bool, wrong: Bool) {
        let code = text == "CARD" ? Fixtures.card(member: 30) : text
        let reading = ScanReading.read(code, keys: Fixtures.keyring)
        let words = decided.split(separator: " ").map(String.init)
        let d = Decision(
            outcome: Outcome(rawValue: words[0])!, direction: Direction(rawValue: words[1])!,
            reason: words.count > 2 ? DenialReason(rawValue: words[2]) : nil, isRepeat: words.last == "repeat", venue: "kids",
            at: Self.start, inside: 0, capacity: 25, message: Bilingual(zh: "", en: ""))
        #expect(PickupAttempt.isAttempt(reading, guardianCode: guardianCode, via: via) == attempt)
        #expect((attempt && PickupAttempt.isWrongGuess(reading, decision: d)) == wrong)
    }

    @Test("any JYK: text is a slip reading, its code upper-cased without spaces or dashes")
    func slipReadings() {
        #expect(ScanReading.read("JYK:K7QM3A", keys: Fixtures.keyring) == .pickupSlip(code: "K7QM3A"))
        #expect(ScanReading.read(" jyk:k7q-m3a\n", keys: Fixtures.keyring) == .pickupSlip(code: "K7QM3A"))
        #expect(ScanReading.read("JYK:K7Q", keys: Fixtures.keyring) == .pickupSlip(code: "K7Q"), "a slip printed before codes grew")
        #expect(ScanReading.read("JYK:", keys: Fixtures.keyring) == .pickupSlip(code: ""))
        #expect(PickupCode.normalized("k7q m3a") == "K7QM3A")
    }

    @Test("a slip read during the minimum stay is denied like a wrong code: no name, no confirmation")
    func minimumStay() {
        var rng = SeededRandom(seed: 1)
        let engine = CheckInEngine(policy: Fixtures.policy)
        let child = Member(id: MemberID("M000030")!, name: "陈子涵", group: .child, born: 2016, guardians: [MemberID("M000020")!])
        let presence = Presence(
            venue: "kids", member: child.id, group: .child, since: Fixtures.at("2026-11-28 09:00"), sinceSeq: 5, pickupCode: "K7QM3A")
        let reading = ScanReading.read("JYK:K7QM3A", keys: Fixtures.keyring)
        let early = engine.decide(
            reading, venue: Fixtures.venue("kids"), facts: CheckInFacts(member: child, presence: presence),
            at: Fixtures.at("2026-11-28 09:00:30"), rng: &rng)
        let wrong = engine.decide(
            reading, venue: Fixtures.venue("kids"), facts: CheckInFacts(), at: Fixtures.at("2026-11-28 09:00:30"), rng: &rng)
        #expect(early == wrong)
        #expect(early.reason == DenialReason.invalidCode && early.member == nil && !early.isRepeat)
        let later = engine.decide(
            reading, venue: Fixtures.venue("kids"), facts: CheckInFacts(member: child, presence: presence),
            at: Fixtures.at("2026-11-28 09:01:00"), rng: &rng)
        #expect(later.accepted && later.direction == Direction.out, "after the minimum stay the slip checks the child out")
    }
}
