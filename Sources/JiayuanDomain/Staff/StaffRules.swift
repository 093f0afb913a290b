import Foundation

/// What a staff account may do.
public enum StaffRole: String, CaseIterable, Sendable, Codable {
    /// Front desk: members, cards, the floor, slips, figures.
    case desk
    /// Everything a desk can, plus staff accounts and the audit log.
    case admin
}

/// The rules for staff log-in and sessions (issue 6): pure, so they are tested with a fixed clock.
public struct StaffPolicy: Sendable, Equatable {
    /// Wrong PINs in a row before the account is locked.
    public var maxFailures = 5
    /// How long a locked account stays locked.
    public var lockout: TimeInterval = 15 * 60
    /// A session ends after this long without a request.
    public var idleTimeout: TimeInterval = 30 * 60

    /// The defaults of issue 6.
    public init() {}

    /// What one log-in attempt does to an account.
    public enum Attempt: Equatable, Sendable {
        /// The PIN was right: failures cleared.
        case accepted
        /// Wrong PIN; this many tries left before the lock.
        case wrongPIN(remaining: Int)
        /// This attempt locked the account (it was the last allowed failure).
        case lockedNow(until: Date)
        /// The account is locked; the PIN was not even checked.
        case locked(until: Date)
    }

    /// An account's standing before an attempt.
    public struct Standing: Equatable, Sendable {
        public var failures: Int
        public var lockedUntil: Date?
        /// A standing.
        public init(failures: Int, lockedUntil: Date?) {
            self.failures = failures
            self.lockedUntil = lockedUntil
        }
    }

    /// Whether the account may try now (a lock that has run out no longer counts).
    public func isLocked(_ s: Standing, at now: Date) -> Date? {
        guard let until = s.lockedUntil, until > now else { return nil }
        return until
    }

    /// The outcome of an attempt and the account's new standing. `pinCorrect` is only consulted when the
    /// account is not locked (callers check the PIN only then, so a locked account leaks nothing).
    public func attempt(_ s: Standing, pinCorrect: Bool, at now: Date) -> (Attempt, Standing) {
        if let until = isLocked(s, at: now) { return (.locked(until: until), s) }
        // A lock that has run out starts a fresh count.
        let failures = s.lockedUntil == nil ? s.failures : 0
        if pinCorrect { return (.accepted, Standing(failures: 0, lockedUntil: nil)) }
        let now1 = failures + 1
        if now1 >= maxFailures {
            let until = now.addingTimeInterval(lockout)
            return (.lockedNow(until: until), Standing(failures: now1, lockedUntil: until))
        }
        return (.wrongPIN(remaining: maxFailures - now1), Standing(failures: now1, lockedUntil: nil))
    }

    /// Whether a session last used at `lastSeen` is still alive at `now`.
    public func sessionAlive(lastSeen: Date, at now: Date) -> Bool {
        now >= lastSeen.addingTimeInterval(-5) && now.timeIntervalSince(lastSeen) < idleTimeout
    }
}

/// Staff PINs: 6 to 12 digits, and not one an onlooker guesses first.
public enum StaffPIN {
    /// Why `pin` is not acceptable, in plain words; nil when it is.
    public static func problem(_ pin: String) -> String? {
        let digits = Array(pin.utf8)
        guard (6...12).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return "a PIN is 6 to 12 digits (0-9)"
        }
        if Set(digits).count == 1 { return "a PIN of one repeated digit is too easy to guess" }
        let steps = zip(digits, digits.dropFirst()).map { Int($1) - Int($0) }
        if steps.allSatisfy({ $0 == 1 }) || steps.allSatisfy({ $0 == -1 }) {
            return "a PIN of consecutive digits (123456, 654321) is too easy to guess"
        }
        return nil
    }
}
