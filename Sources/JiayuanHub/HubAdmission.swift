import Foundation

/// How many batches one hub instance works on at once, and how many may wait for a turn. A batch beyond
/// both is answered `503` with `Retry-After` at once, before its body is read: the hub's memory and its
/// database connections stay bounded however many kiosks come back together.
///
/// A waiting batch is a suspended task (no thread, its body still unread in the connection); a working one
/// holds one thread of ``HubWorkers`` while it is inflated, parsed, checked and stored.
public final class HubAdmission: @unchecked Sendable {
    /// What ``enter()`` decided.
    public enum Ticket: Sendable, Equatable {
        /// The batch may proceed; call ``leave()`` when done.
        case admitted
        /// Every slot is busy and the queue is full: answer 503.
        case refused
    }

    /// Batches worked on at once.
    public let limit: Int
    /// Batches that may wait for a slot.
    public let queueLimit: Int
    private let lock = NSLock()
    private var working = 0
    private var waiters: [CheckedContinuation<Bool, Never>] = []
    private var head = 0

    /// A gate of `limit` slots (at least 1) and a queue of `queueLimit` (0: refuse as soon as all slots are busy).
    public init(limit: Int, queueLimit: Int) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
    }

    /// Batches being worked on and waiting, now.
    public var load: (working: Int, waiting: Int) { lock.withLock { (working, waiters.count - head) } }

    /// Takes a slot, waiting in line for one if the queue has room; `.refused` at once otherwise.
    public func enter() async -> Ticket {
        let admitted = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            enum Now { case admitted, refused, waiting }
            let now = lock.withLock { () -> Now in
                if working < limit {
                    working += 1
                    return .admitted
                }
                guard waiters.count - head < queueLimit else { return .refused }
                waiters.append(c)
                return .waiting
            }
            switch now {
            case .admitted: c.resume(returning: true)
            case .refused: c.resume(returning: false)
            case .waiting: break
            }
        }
        return admitted ? .admitted : .refused
    }

    /// Gives the slot back (to the first in line, if any).
    public func leave() {
        let next = lock.withLock { () -> CheckedContinuation<Bool, Never>? in
            guard head < waiters.count else {
                working -= 1
                return nil
            }
            let c = waiters[head]
            head += 1
            if head > 64, head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
            return c
        }
        next?.resume(returning: true)
    }
}

/// A fixed set of threads of the hub's own for its blocking and CPU-heavy work (inflating and parsing a
/// batch, the store's synchronous SQLite and libpq calls), so none of it runs on Swift's cooperative pool or
/// on the event loops, and so the number of threads blocked in the database is bounded.
public final class HubWorkers: @unchecked Sendable {
    /// Threads.
    public let count: Int
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0

    /// Starts `count` threads (at least 1), named `name-N`. They live as long as the process.
    public init(count: Int, name: String = "jiayuan-hub-work") {
        self.count = max(1, count)
        for i in 0..<self.count {
            let thread = Thread { [self] in loop() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    /// Runs `work` on one of the threads and awaits its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            submit { c.resume(with: Result { try work() }) }
        }
    }

    private func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while head >= jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head > 64, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
