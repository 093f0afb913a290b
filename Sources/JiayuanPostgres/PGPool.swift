import Foundation

/// A small blocking pool of at most `size` connections, safe to use from any thread.
///
/// ``withConnection(_:)`` waits (blocking the calling thread) until a connection is free. Before lending a
/// connection out, the pool checks it without a round trip; a closed or lost one is replaced by a new
/// connection. A connection that breaks while in use is dropped when `body` ends, and the next call
/// reconnects. The pool never retries `body` itself: a statement that failed because the server went away
/// throws a ``PGError`` with SQLSTATE `08006`, and trying again is up to the caller.
///
/// Blocking: do not call it from a Swift concurrency task that must not block (wrap it, for example, in a
/// dedicated thread or a `DispatchQueue`).
public final class PGPool: Sendable {
    /// The most connections the pool opens at once.
    public let size: Int
    private let url: String
    private let state: State

    /// Creates the pool and opens its first connection, so a bad URL or an unreachable server shows up now.
    /// The other connections are opened when first needed.
    /// - Throws: ``PGError`` if the first connection cannot be made (the message never contains the password).
    public init(url: String, size: Int) throws {
        precondition(size >= 1, "A PostgreSQL pool needs at least one connection.")
        self.size = size
        self.url = url
        let first = try PGConnection(url: url)
        state = State(idle: [first], open: 1)
    }

    /// Lends a connection to `body` for its duration; waits while all `size` connections are in use.
    ///
    /// If `body` leaves a transaction open (for example it ran `BEGIN` itself and threw), the pool rolls it back.
    /// - Throws: what `body` threw, or ``PGError`` when no connection could be made.
    @discardableResult
    public func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let conn = try checkOut()
        defer { checkIn(conn) }
        return try body(conn)
    }

    /// Closes the idle connections. Connections in use are closed when they come back broken, or stay open.
    public func closeIdle() {
        state.condition.lock()
        let idle = state.idle
        state.idle.removeAll()
        state.open -= idle.count
        state.condition.broadcast()
        state.condition.unlock()
        for c in idle { c.close() }
    }

    private func checkOut() throws -> PGConnection {
        state.condition.lock()
        while state.idle.isEmpty && state.open >= size { state.condition.wait() }
        let reused = state.idle.popLast()
        if reused == nil { state.open += 1 }
        state.condition.unlock()

        if let reused, reused.isHealthyAndIdle() { return reused }
        reused?.close()
        do {
            return try PGConnection(url: url)
        } catch {
            state.condition.lock()
            state.open -= 1
            state.condition.signal()
            state.condition.unlock()
            throw error
        }
    }

    private func checkIn(_ conn: PGConnection) {
        if !conn.isBroken, conn.isInTransaction {
            _ = try? conn.execute("ROLLBACK")
        }
        let keep = !conn.isBroken && !conn.isInTransaction
        if !keep { conn.close() }
        state.condition.lock()
        if keep { state.idle.append(conn) } else { state.open -= 1 }
        state.condition.signal()
        state.condition.unlock()
    }

    /// Mutable pool state; every access holds `condition`'s lock.
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var idle: [PGConnection]
        var open: Int
        init(idle: [PGConnection], open: Int) {
            self.idle = idle
            self.open = open
        }
    }
}
