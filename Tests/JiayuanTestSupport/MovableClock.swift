import Foundation

/// A clock a test moves by hand (for the kiosk's injected `clock`): rules about minutes and windows are
/// tested without waiting.
public final class MovableClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date

    /// A clock standing at `start`.
    public init(_ start: Date) { now = start }

    /// The current time.
    public func read() -> Date { lock.withLock { now } }

    /// Moves the clock forward by `seconds`.
    public func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}
