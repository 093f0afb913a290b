import Foundation
import JiayuanDomain
import JiayuanGzip
import JiayuanHTTP
import JiayuanStore
import JiayuanWire

/// Where and how this kiosk uploads (from `[upload]` of jiayuan.toml, or `--hub`, `--token-file`, `$JIAYUAN_UPLOAD_TOKEN`).
public struct UploadSettings: Sendable {
    /// The hub's base address, without a trailing slash.
    public var hub: String
    /// This kiosk's token (never logged).
    public var token: String
    public var batchSize: Int
    public var timeout: Duration
    public var interval: Duration
    /// The longest wait between retries, in seconds.
    public var retryMax: Double
    /// The PEM file of authorities the hub's certificate is checked against (nil: the system's).
    public var caFile: String?

    /// The token from `--token-file FILE` (its first line), else `$JIAYUAN_UPLOAD_TOKEN`, else nil (the
    /// config's). Tokens never travel as arguments: they would show in `ps`.
    public static func token(file: String?, environment: [String: String]) throws -> String? {
        if let file {
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw KioskError("cannot read the token file \(file)")
            }
            let token = text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingWhitespace() } ?? ""
            guard !token.isEmpty else { throw KioskError("the token file \(file) is empty") }
            return token
        }
        if let token = environment["JIAYUAN_UPLOAD_TOKEN"], !token.isEmpty { return token }
        return nil
    }

    /// Settings from the config, each overridable; an error in plain words when no hub or token is set.
    public init(config: UploadConfig, hub: String? = nil, token: String? = nil) throws {
        guard let hub = hub ?? config.hub else {
            throw KioskError(
                "no hub is configured: set hub and token under [upload] in jiayuan.toml, or pass --hub URL with --token-file FILE")
        }
        guard UploadConfig.isHubURL(hub) else { throw KioskError("\"\(hub)\" is not a hub address like https://hub.example.org") }
        if let problem = UploadConfig.cleartextProblem(hub, allowHTTP: config.allowHTTP) { throw KioskError(problem) }
        guard let token = token ?? config.token, !token.isEmpty else {
            throw KioskError(
                "no kiosk token is configured: set token under [upload] (issued by `jiayuan-hub token add`), or give --token-file FILE or JIAYUAN_UPLOAD_TOKEN"
            )
        }
        self.hub = hub.hasSuffix("/") ? String(hub.dropLast()) : hub
        self.token = token
        batchSize = config.batchSize
        timeout = .seconds(config.timeoutSeconds)
        interval = .seconds(config.intervalSeconds)
        retryMax = Double(config.retryMaxSeconds)
        if let caFile = config.caFile {
            if let problem = UploadConfig.caFileProblem(caFile, hub: self.hub) { throw KioskError(problem) }
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw KioskError("cannot read the hub's certificate authority file \(caFile) (ca_file under [upload])")
            }
            self.caFile = caFile
        }
    }
}

/// Sends the attendance log to the hub in seq order, one batch per call, and records the hub's answer.
/// Events are only marked as uploaded after the hub's acknowledgement; local events are never changed.
public final class Uploader: Sendable {
    /// What one step did.
    public enum Step: Hashable, Sendable {
        /// A batch was acknowledged.
        case sent(count: Int, through: Int64)
        /// Nothing new to send.
        case idle
        /// The hub asked for a resend from an earlier seq.
        case rewound(expectedSeq: Int64)
        /// The hub refused the chain: uploading stops until staff clear it.
        case conflict(seq: Int64, reason: String)
        /// A conflict is recorded: nothing is sent.
        case stopped(seq: Int64)
        /// No answer, or an error of the hub's; try again later.
        case failed(String)
        /// The hub refused the kiosk (token, centre, a malformed batch): retrying will not help until
        /// someone fixes the configuration.
        case refused(String)
        /// The hub is saturated (`503`): nothing is wrong, come back after `retryAfter` seconds (its
        /// `Retry-After`, nil when it gave none). Not recorded as a failure: staff are not alarmed.
        case busy(retryAfter: Double?)
    }

    public let database: AppDatabase
    public let kioskID: String
    public let centreID: String
    public let settings: UploadSettings
    private let client: HTTPClient
    private let clock: @Sendable () -> Date

    /// An uploader for a log.
    public init(database: AppDatabase, kioskID: String, centreID: String, settings: UploadSettings, clock: @escaping @Sendable () -> Date) {
        self.database = database
        self.kioskID = kioskID
        self.centreID = centreID
        self.settings = settings
        self.clock = clock
        client = HTTPClient(timeout: settings.timeout, connectTimeout: min(settings.timeout, .seconds(10)), caFile: settings.caFile)
    }

    /// A batch read and compressed, ready to send.
    struct Prepared: Sendable {
        /// The acknowledged seq it follows.
        var after: Int64
        var first: Int64
        var last: Int64
        var body: [UInt8]
        var key: String
    }

    /// The next batch, read and compressed on another thread while the current one is on the wire, so
    /// the kiosk's work and the hub's overlap.
    private final class Prefetch: @unchecked Sendable {
        let after: Int64
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<Prepared?, any Error> = .success(nil)

        init(after: Int64, _ work: @escaping @Sendable () throws -> Prepared?) {
            self.after = after
            DispatchQueue.global().async {
                self.result = Result { try work() }
                self.done.signal()
            }
        }

        func wait() throws -> Prepared? {
            done.wait()
            done.signal()
            return try result.get()
        }
    }

    private let prefetchLock = NSLock()
    nonisolated(unsafe) private var prefetch: Prefetch?

    func prepare(after: Int64) throws -> Prepared? {
        let events = try database.wireEvents(after: after, limit: settings.batchSize)
        guard let first = events.first, let last = events.last else { return nil }
        let body = Gzip.compress(UploadBatch(kiosk: kioskID, centre: centreID, events: events).json())
        return Prepared(
            after: after, first: first.seq, last: last.seq, body: body,
            key: idempotencyKey(kiosk: kioskID, firstSeq: first.seq, lastSeq: last.seq, lastHash: last.hash))
    }

    /// Sends the next batch, if any, and records the answer. Blocking: call it off the cooperative pool.
    public func step() throws -> Step {
        let state = try database.uploadState()
        if let seq = state.conflictSeq { return .stopped(seq: seq) }
        let ready = prefetchLock.withLock { () -> Prefetch? in
            defer { prefetch = nil }
            return prefetch
        }
        // A prefetched batch is used only when it follows what the hub acknowledged; an empty one is
        // never trusted (events may have been recorded since).
        let batch: Prepared?
        if let ready, ready.after == state.acknowledgedThrough, let prepared = try? ready.wait() {
            batch = prepared
        } else {
            batch = try prepare(after: state.acknowledgedThrough)
        }
        guard let batch else { return .idle }
        let next = Prefetch(after: batch.last) { [self] in try prepare(after: batch.last) }
        prefetchLock.withLock { prefetch = next }
        let reply: HTTPReply
        do {
            reply = try client.post(
                settings.hub + "/v1/events",
                headers: [
                    ("Authorization", "Bearer \(settings.token)"), ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"), ("Idempotency-Key", batch.key),
                    // What is left after this batch, for the district's view of each kiosk's lag.
                    (Self.backlogHeader, String(max(0, state.lastSeq - batch.last))),
                ],
                body: batch.body)
        } catch {
            if error.kind == .untrusted {
                let advice = "set ca_file under [upload] to the district's certificate authority"
                return try failed("the hub's certificate is not trusted (\(error.message)): \(advice)")
            }
            return try failed("the hub did not answer (\(error.message))")
        }
        let answer = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
        let reason = (answer["reason"] as? String) ?? (answer["error"] as? String) ?? String(reply.text.prefix(200))
        switch reply.status {
        case 200:
            guard let answered = (answer["acknowledged_through"] as? NSNumber)?.int64Value else {
                return try failed("the hub's answer had no acknowledged_through")
            }
            // Only what this batch carried counts as delivered, whatever else the hub says it holds.
            let through = min(max(answered, state.acknowledgedThrough), batch.last)
            try database.recordUploadAcknowledged(through: through, at: clock())
            return .sent(count: Int(max(0, through - state.acknowledgedThrough)), through: through)
        case 409:
            if let expected = (answer["expected_seq"] as? NSNumber)?.int64Value {
                guard expected >= 1, expected <= batch.first else {
                    return try failed("the hub asked to resend from seq \(expected), which does not fit this batch")
                }
                try database.recordUploadRewound(to: expected - 1, at: clock())
                return .rewound(expectedSeq: expected)
            }
            let seq = max(1, min((answer["seq"] as? NSNumber)?.int64Value ?? batch.first, batch.last))
            let answered = (answer["acknowledged_through"] as? NSNumber)?.int64Value ?? state.acknowledgedThrough
            // Never past the refused event, never past what was sent.
            let through = max(state.acknowledgedThrough, min(answered, seq - 1, batch.last))
            try database.recordUploadConflict(seq: seq, reason: reason, acknowledgedThrough: through, at: clock())
            return .conflict(seq: seq, reason: reason)
        case 503:
            return .busy(retryAfter: reply.headers["retry-after"].flatMap { RetryAfter.seconds($0, now: clock()) })
        case 401, 403:
            try database.recordUploadFailure("the hub refused this kiosk (HTTP \(reply.status): \(reason))", at: clock())
            return .refused("the hub refused this kiosk (HTTP \(reply.status): \(reason))")
        case 400, 413, 415:
            try database.recordUploadFailure("the hub refused the batch (HTTP \(reply.status): \(reason))", at: clock())
            return .refused("the hub refused the batch (HTTP \(reply.status): \(reason))")
        default:
            return try failed("the hub answered HTTP \(reply.status): \(reason)")
        }
    }

    /// The request header that carries the events not yet acknowledged after the batch it comes with.
    public static let backlogHeader = "Jiayuan-Backlog"

    private func failed(_ message: String) throws -> Step {
        try database.recordUploadFailure(message, at: clock())
        return .failed(message)
    }
}
