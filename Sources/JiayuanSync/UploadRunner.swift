import Foundation
import JiayuanDomain
import JiayuanWire

/// The one upload loop, behind both `jiayuan upload` and the kiosk's upload service: steps the uploader
/// (off Swift's cooperative pool), backs off with jitter after a failure, and stops or waits as its mode says.
public struct UploadRunner: Sendable {
    /// When the loop ends.
    public enum Mode: Sendable, Equatable {
        /// The command: until nothing is left. `retry`: a failure waits and tries again (else it ends the run).
        case drain(retry: Bool)
        /// The service: forever (until cancelled). Looks every `interval` when there is no backlog; a refused
        /// chain or kiosk is looked at again every `stoppedPause`.
        case continuous(interval: Duration, stoppedPause: Duration)
    }

    /// What happened, as it happens (for a progress bar or the log).
    public enum Progress: Sendable, Equatable {
        /// A batch was acknowledged.
        case sent(count: Int, through: Int64)
        /// The hub asked for the log again from `expectedSeq`.
        case rewound(expectedSeq: Int64)
        /// Uploads are stopped: the hub refused the chain at `seq` (reported once per stop).
        case stopped(seq: Int64)
        /// A failure; the next try is in `retryIn` seconds.
        case failed(message: String, retryIn: Double)
        /// The hub is busy (`503`); the next try is in `retryIn` seconds (its `Retry-After` with jitter).
        case busy(retryIn: Double)
    }

    /// How a drain ended.
    public enum Outcome: Sendable, Equatable {
        /// Nothing is left: `sent` events were acknowledged by this run.
        case drained(sent: Int64)
        /// The hub refused event `seq` of the chain (now or before this run); nothing is sent until staff clear it.
        case conflict(seq: Int64, reason: String?)
        /// The hub refused the kiosk or a batch (token, centre, a malformed batch): retrying will not help.
        case refused(String)
        /// No answer, or an error of the hub's (only when failures are not retried).
        case failed(String)
    }

    public let uploader: Uploader
    /// The longest wait between retries, in seconds.
    public var maxRetryWait: Double
    private let sleep: @Sendable (Duration) async throws -> Void
    private let lane: DispatchQueue
    private static let lane = DispatchQueue(label: "jiayuan.upload")

    /// A runner for `uploader`; `sleep` is injected so tests need no real waiting. The uploader's blocking
    /// steps run on `lane` (one shared serial queue unless given: a kiosk has one uploader).
    public init(
        uploader: Uploader, maxRetryWait: Double? = nil, lane: DispatchQueue? = nil,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.uploader = uploader
        self.maxRetryWait = maxRetryWait ?? uploader.settings.retryMax
        self.lane = lane ?? Self.lane
        self.sleep = sleep
    }

    /// Runs the loop. A drain returns its outcome; a continuous run returns only when cancelled (`.drained`).
    public func run(_ mode: Mode, progress: @Sendable (Progress) -> Void = { _ in }) async throws -> Outcome {
        var backoff = Backoff(base: min(1, maxRetryWait), cap: maxRetryWait)
        var rng = SystemRandomNumberGenerator()
        var sent: Int64 = 0
        var reportedStop = false
        while !Task.isCancelled {
            let step: Uploader.Step
            do {
                step = try await Self.offload(on: lane) { [uploader] in try uploader.step() }
            } catch {
                step = .failed(KioskError.describe(error))
            }
            switch step {
            case .sent(let count, let through):
                sent += Int64(count)
                backoff.reset()
                reportedStop = false
                progress(.sent(count: count, through: through))
            case .rewound(let expected):
                progress(.rewound(expectedSeq: expected))
            case .idle:
                backoff.reset()
                reportedStop = false
                guard case .continuous(let interval, _) = mode else { return .drained(sent: sent) }
                try await sleep(interval)
            case .conflict(let seq, let reason):
                guard case .continuous(_, let pause) = mode else { return .conflict(seq: seq, reason: reason) }
                try await stopped(seq, pause: pause, reported: &reportedStop, progress: progress)
            case .stopped(let seq):
                guard case .continuous(_, let pause) = mode else { return .conflict(seq: seq, reason: nil) }
                try await stopped(seq, pause: pause, reported: &reportedStop, progress: progress)
            case .refused(let message):
                if case .drain = mode { return .refused(message) }
                let wait = backoff.next(using: &rng)
                progress(.failed(message: message, retryIn: wait))
                try await sleep(.milliseconds(Int64(wait * 1000)))
            case .busy(let retryAfter):
                // Asked to come back later: every mode waits (it is no failure), longer each time in a row.
                let wait = backoff.next(retryAfter: retryAfter, using: &rng)
                progress(.busy(retryIn: wait))
                try await sleep(.milliseconds(Int64(wait * 1000)))
            case .failed(let message):
                if case .drain(retry: false) = mode { return .failed(message) }
                let wait = backoff.next(using: &rng)
                progress(.failed(message: message, retryIn: wait))
                try await sleep(.milliseconds(Int64(wait * 1000)))
            }
        }
        return .drained(sent: sent)
    }

    /// A stopped chain: said once, then looked at again after `pause`.
    private func stopped(
        _ seq: Int64, pause: Duration, reported: inout Bool, progress: @Sendable (Progress) -> Void
    ) async throws {
        if !reported {
            progress(.stopped(seq: seq))
            reported = true
        }
        try await sleep(pause)
    }

    /// Runs the uploader's blocking step on the upload lane, never on the cooperative pool.
    private static func offload<T: Sendable>(on lane: DispatchQueue, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            lane.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
