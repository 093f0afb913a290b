import Foundation

/// How many log-in attempts one computer may make before any PIN is hashed: a sliding window per address
/// (issue 12). It keeps a log-in storm from stalling the console and bounds PIN guessing; pure, so it is
/// tested with a fixed clock.
public struct SignInThrottle: Sendable {
    /// Attempts one address may make per window.
    public var limit: Int
    /// The window.
    public var window: TimeInterval
    /// Addresses remembered at most (an attacker spraying addresses cannot grow memory without bound;
    /// the least recently seen is forgotten first).
    public var capacity: Int

    private var attempts: [String: [Date]] = [:]

    /// 10 attempts a minute per address by default.
    public init(limit: Int = 10, window: TimeInterval = 60, capacity: Int = 4096) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// What the throttle says to one attempt.
    public enum Admission: Equatable, Sendable {
        /// Go ahead (the attempt is counted).
        case allowed
        /// Too many attempts from this address: try again after this many seconds (at least 1).
        case throttled(retryAfter: Int)
    }

    /// Counts an attempt from `address` at `now`, or refuses it (a refused attempt is not counted, so a
    /// storm does not push its own wait further out).
    public mutating func admit(_ address: String, at now: Date) -> Admission {
        let since = now.addingTimeInterval(-window)
        var recent = (attempts[address] ?? []).filter { $0 > since && $0 <= now.addingTimeInterval(5) }
        if recent.count >= limit {
            attempts[address] = recent
            let wait = recent[recent.count - limit].addingTimeInterval(window).timeIntervalSince(now)
            return .throttled(retryAfter: max(1, Int(wait.rounded(.up))))
        }
        recent.append(now)
        attempts[address] = recent
        if attempts.count > capacity { forgetOldest(at: now) }
        return .allowed
    }

    /// How many addresses are remembered.
    public var addressCount: Int { attempts.count }

    private mutating func forgetOldest(at now: Date) {
        let since = now.addingTimeInterval(-window)
        attempts = attempts.filter { $0.value.contains { $0 > since } }
        while attempts.count > capacity,
            let oldest = attempts.min(by: { ($0.value.last ?? .distantPast) < ($1.value.last ?? .distantPast) })
        {
            attempts[oldest.key] = nil
        }
    }
}
