import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import JiayuanTestSupport
import Testing

/// Issue 13's attack at the engine and store: every 3-character pickup code, then the children's real
/// codes, through the one check-in path the scanner and the API use.
@Suite("Pickup code sweep", .blocking)
struct PickupSweepTests {
    @Test("sweeping every 3-character code and then the real ones checks no child out and adds at most 5 events and one alert")
    func sweep() throws {
        let dir = TemporaryDirectory("sweep")
        defer { dir.remove() }
        let clock = MovableClock(Fixtures.at("2026-11-28 09:00"))
        let data = DataDirectory(path: dir.path)
        var rng = SeededRandom(seed: 21)
        let demo = try data.initialize(kioskID: "sweep", demo: true, now: clock.read(), rng: &rng).demoMembers
        let kiosk = try Kiosk.open(data, clock: { clock.read() })
        let service = try CheckInService(kiosk: kiosk)
        let children = demo.filter { $0.0.group == .child }.prefix(3)
        var codes: [String] = []
        for (_, card) in children {
            let d = try service.checkIn(code: card.code, venue: "kids", rng: &rng)
            codes.append(try #require(d.pickupCode))
        }
        clock.advance(2 * 3600)
        let before = try kiosk.database.verify().eventCount
        let alphabet = PickupCode.alphabet
        var guesses = alphabet.flatMap { a in alphabet.flatMap { b in alphabet.map { c in String([a, b, c]) } } }
        guesses.removeAll { codes.contains($0) }
        guesses += codes
        var checkedOut = 0
        var refused = 0
        for code in guesses {
            do {
                let d = try service.checkIn(code: "JYK:" + code, venue: "kids", rng: &rng)
                if d.accepted && d.direction == .out { checkedOut += 1 }
            } catch {
                refused += 1
            }
        }
        #expect(checkedOut == 0, "no child left with a guessed code")
        #expect(try kiosk.database.verify().eventCount - before <= 5, "the log grew by at most five guesses")
        #expect(refused >= guesses.count - 5)
        #expect(try kiosk.database.openAlerts().filter { $0.kind == "pickup_locked" }.count == 1)
        #expect(try kiosk.database.inside(venue: kiosk.venue("kids"), at: clock.read(), policy: kiosk.config.policy).count == 3)
    }
}

extension CheckInService {
    /// A scan at the kiosk (the path of the scanners and the API).
    func checkIn(code: String, venue: String, rng: inout some RandomNumberGenerator) throws -> Decision {
        try checkIn(code: code, venue: venue, at: nil, guardianCode: nil, via: .scan, rng: &rng)
    }
}
