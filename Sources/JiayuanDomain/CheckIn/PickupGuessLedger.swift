import Foundation

/// How many wrong pickup codes a venue takes before slip check-outs there stop, and for how long
/// (issue 13: guessing a child's code must not work).
public struct PickupGuessRules: Hashable, Sendable {
    /// Wrong guesses within `window` that start a lock.
    public var maxWrongGuesses: Int
    /// Seconds a wrong guess is counted.
    public var window: TimeInterval
    /// Seconds slip check-outs stay stopped once locked.
    public var lockout: TimeInterval

    /// The kiosk's rules: 5 wrong guesses within 10 minutes stop slip check-outs for 15 minutes.
    public static let standard = PickupGuessRules(maxWrongGuesses: 5, window: 600, lockout: 900)

    /// Creates rules.
    public init(maxWrongGuesses: Int, window: TimeInterval, lockout: TimeInterval) {
        self.maxWrongGuesses = maxWrongGuesses
        self.window = window
        self.lockout = lockout
    }
}

/// The wrong pickup codes seen at each venue and the locks they led to: a pure value, with every time
/// passed in (the caller's injected clock), so the rules are tested with a fixed clock.
///
/// A guess counts for `window` seconds: a guess exactly `window` seconds old no longer counts. A lock starts
/// with the guess that makes `maxWrongGuesses` within the window and lasts `lockout` seconds; while locked,
/// guesses are refused before they are read, so they are not counted, and the count starts afresh after it.
public struct PickupGuessLedger: Hashable, Sendable {
    public let rules: PickupGuessRules
    private var wrong: [String: [Date]] = [:]
    private var lockedUntil: [String: Date] = [:]

    /// An empty ledger.
    public init(rules: PickupGuessRules = .standard) { self.rules = rules }

    /// What one wrong guess did.
    public enum Verdict: Hashable, Sendable {
        /// Counted; `remaining` more wrong guesses within the window start a lock.
        case counted(remaining: Int)
        /// This guess started a lock until `until` (raise the staff alert now).
        case lockStarted(until: Date)
        /// The venue was already locked (a guess that raced the lock): not counted.
        case locked(until: Date)
    }

    /// The end of the lock on `venue` at `now`, or nil when slip check-outs are open there.
    public func lockedUntil(venue: String, at now: Date) -> Date? {
        guard let until = lockedUntil[venue], now < until else { return nil }
        return until
    }

    /// Counts a wrong guess at `venue` at `now`.
    public mutating func recordWrongGuess(venue: String, at now: Date) -> Verdict {
        if let until = lockedUntil(venue: venue, at: now) { return .locked(until: until) }
        var recent = (wrong[venue] ?? []).filter { now.timeIntervalSince($0) < rules.window && $0 <= now }
        recent.append(now)
        if recent.count >= rules.maxWrongGuesses {
            let until = now.addingTimeInterval(rules.lockout)
            lockedUntil[venue] = until
            wrong[venue] = nil
            return .lockStarted(until: until)
        }
        wrong[venue] = recent
        return .counted(remaining: rules.maxWrongGuesses - recent.count)
    }

    /// Puts back a lock that began at `start` (from the staff alert recorded then, after a restart).
    public mutating func restoreLock(venue: String, startedAt start: Date) {
        let until = start.addingTimeInterval(rules.lockout)
        if until > (lockedUntil[venue] ?? .distantPast) { lockedUntil[venue] = until }
    }
}

/// Which readings try a pickup code, and which answers count as a wrong guess.
public enum PickupAttempt {
    /// Whether a reading at a venue tries a pickup code: any `JYK:` slip reading, or a guardian code typed
    /// with a card, from a scanner or the API. Staff at the desk (`via: staff`) are not counted or locked.
    public static func isAttempt(_ reading: ScanReading, guardianCode: String?, via: Via) -> Bool {
        guard via == .scan else { return false }
        if case .pickupSlip = reading { return true }
        if case .card = reading, let code = guardianCode, !code.trimmingWhitespace().isEmpty { return true }
        return false
    }

    /// Whether the decision for an attempt is a wrong guess: a slip that checked no child out, or a typed
    /// guardian code that was refused. A repeat (debounce) is not counted again.
    public static func isWrongGuess(_ reading: ScanReading, decision: Decision) -> Bool {
        guard !decision.isRepeat else { return false }
        if case .pickupSlip = reading { return !(decision.accepted && decision.direction == .out) }
        return decision.reason == .guardianCodeRequired
    }
}

/// Slip check-outs at a venue are stopped after repeated wrong pickup codes: refused before anything is
/// read or recorded. The staff at the desk can still check children out.
public struct PickupLocked: Error, Hashable, Sendable {
    /// The venue whose slip check-outs are stopped.
    public var venue: String
    /// When they start again.
    public var until: Date

    /// Creates the refusal.
    public init(venue: String, until: Date) {
        self.venue = venue
        self.until = until
    }

    /// Whole seconds until the lock ends (at least 1), for `Retry-After`.
    public func secondsLeft(at now: Date) -> Int { max(1, Int(until.timeIntervalSince(now).rounded(.up))) }

    /// What the screen shows and says.
    public var message: Bilingual { Messages.pickupLocked }
}
