import Foundation
import JiayuanDomain
import Testing

@Suite("Staff log-in rules")
struct StaffRulesTests {
    let policy = StaffPolicy()
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("five wrong PINs lock the account for 15 minutes; the PIN is not even checked while locked")
    func lockout() {
        var standing = StaffPolicy.Standing(failures: 0, lockedUntil: nil)
        for remaining in [4, 3, 2, 1] {
            let (outcome, next) = policy.attempt(standing, pinCorrect: false, at: t0)
            #expect(outcome == .wrongPIN(remaining: remaining))
            standing = next
        }
        let (fifth, locked) = policy.attempt(standing, pinCorrect: false, at: t0)
        #expect(fifth == .lockedNow(until: t0.addingTimeInterval(900)))
        // The right PIN during the lock is refused.
        #expect(policy.attempt(locked, pinCorrect: true, at: t0.addingTimeInterval(899)).0 == .locked(until: t0.addingTimeInterval(900)))
        // After 15 minutes the right PIN works and clears the count.
        let (after, cleared) = policy.attempt(locked, pinCorrect: true, at: t0.addingTimeInterval(900))
        #expect(after == .accepted && cleared == StaffPolicy.Standing(failures: 0, lockedUntil: nil))
        // A lock that ran out starts a fresh count of five.
        #expect(policy.attempt(locked, pinCorrect: false, at: t0.addingTimeInterval(901)).0 == .wrongPIN(remaining: 4))
    }

    @Test("a right PIN clears earlier failures")
    func success() {
        let (outcome, standing) = policy.attempt(StaffPolicy.Standing(failures: 3, lockedUntil: nil), pinCorrect: true, at: t0)
        #expect(outcome == .accepted && standing.failures == 0)
    }

    @Test("sessions end after 30 minutes without a request")
    func idle() {
        #expect(policy.sessionAlive(lastSeen: t0, at: t0.addingTimeInterval(29 * 60)))
        #expect(!policy.sessionAlive(lastSeen: t0, at: t0.addingTimeInterval(30 * 60)))
        #expect(!policy.sessionAlive(lastSeen: t0.addingTimeInterval(3600), at: t0), "a last-seen time in the future is not trusted")
    }

    @Test(
        "PINs: 6 to 12 digits, not one repeated digit, not a straight run",
        arguments: [
            ("204719", true), ("20471", false), ("2047192047192", false), ("20471a", false), ("111111", false),
            ("123456", false), ("987654", false), ("1234567890", true), ("３０４７１９", false),
        ])
    func pins(pin: String, ok: Bool) {
        #expect((StaffPIN.problem(pin) == nil) == ok)
    }
}
