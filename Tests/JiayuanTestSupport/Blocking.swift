import Dispatch
import Testing

/// Runs a suite's (or one test's) body on threads of its own instead of Swift's cooperative pool.
///
/// **The rule.** Swift Testing runs every test, synchronous or `async`, as a task on the cooperative pool,
/// which has one thread per core (two on the kiosk's build machines) and never adds one when a thread
/// blocks. A test that waits synchronously — `Run.program` / `Run.jiayuan` and other process waits,
/// `Thread.sleep`, semaphores and dispatch groups, blocking sockets or pipes, libpq or libcups calls — or
/// computes for long (PIN hashing, big logs, property loops) holds a pool thread all that time; two such
/// tests at once stop every other test's timers and continuations, so unrelated tests fail their bounds.
/// So:
///
/// - A suite whose tests block or compute for long is marked `@Suite(.blocking)` (a single test:
///   `@Test(.blocking)`). Its bodies then run on libdispatch's overcommit threads, which grow when one
///   blocks, and the pool stays free for the tests that wait asynchronously.
/// - An `async` test that only awaits (HTTP through the test client, `Task.sleep`, async streams) needs no
///   trait. It must not block either: wrap a blocking call in `RawHTTP.offPool` (or mark the test
///   `.blocking`), and sleep with `Task.sleep`, never `Thread.sleep`.
/// - Product code never relies on this: its blocking work goes through `offload(on: Lane…)`.
///
/// Work a `.blocking` test starts as an unstructured `Task { }` (or `Task.detached`) does not inherit the
/// preference and runs on the pool again, so such work must not block. Child tasks (`async let`, task
/// groups) and default actors the test calls do inherit it.
public struct BlockingTrait: TestTrait, SuiteTrait, TestScoping {
    /// Applies to every test of a suite and of its nested suites.
    public var isRecursive: Bool { true }

    /// Runs each test case's body with a preference for ``BlockingExecutor``.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        if #available(macOS 15.0, iOS 18.0, *) {
            try await withTaskExecutorPreference(BlockingExecutor.shared) { try await function() }
        } else {
            try await function()
        }
    }
}

extension Trait where Self == BlockingTrait {
    /// The tests block a thread (process waits, sleeps, semaphores, blocking I/O) or compute for long: run them
    /// on threads of their own, never on the cooperative pool. See ``BlockingTrait`` for the rule.
    public static var blocking: Self { BlockingTrait() }
}

/// A task executor whose every job runs on a libdispatch overcommit thread: each job is sent to a new serial
/// queue, and serial queues target the overcommit root queue, which starts another thread whenever all of its
/// threads are busy (unlike the cooperative pool, or a shared concurrent queue, which stay as wide as the core
/// count). A job that blocks therefore holds only its own thread.
@available(macOS 15.0, iOS 18.0, *)
public final class BlockingExecutor: TaskExecutor {
    /// The one executor the `.blocking` trait prefers.
    public static let shared = BlockingExecutor()

    /// Runs `job` on an overcommit thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        DispatchQueue(label: "jiayuan.test.blocking").async { job.runSynchronously(on: executor) }
    }
}
