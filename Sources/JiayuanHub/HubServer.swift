import Crypto
import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanGzip
import JiayuanSystemd
import JiayuanWire
import Logging

/// The hub's request context: per-request data only.
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Creates the context for one request.
    public init(source: Source) { coreContext = .init(source: source) }
}

/// How `jiayuan-hub serve` runs.
public struct HubOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8090
    /// The zone that turns UTC instants into the district's days.
    public var zone = TimeZone(identifier: "Asia/Shanghai")!
    /// Largest request body accepted as sent (gzip), and after decompression.
    public var maxBodyBytes = 8 << 20
    public var maxInflatedBytes = 64 << 20
    public var maxEvents = 10_000

    /// Default options.
    public init() {}
}

/// Blocking store work runs here, never on the cooperative pool.
let hubLane = DispatchQueue(label: "jiayuan.hub.store", attributes: .concurrent)

func onLane<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in hubLane.async { c.resume(with: Result { try work() }) } }
}

/// Kiosks by token hash, remembered for a few seconds so a backlog's batches do not each ask the store
/// (a replaced token stops working within `ttl`).
final class KioskCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (HubKiosk, ContinuousClock.Instant)] = [:]
    let ttl: Duration

    init(ttl: Duration = .seconds(10)) { self.ttl = ttl }

    func get(_ tokenHash: String) -> HubKiosk? {
        lock.withLock {
            guard let (kiosk, at) = entries[tokenHash], ContinuousClock.now - at < ttl else { return nil }
            return kiosk
        }
    }

    func put(_ tokenHash: String, _ kiosk: HubKiosk) {
        lock.withLock {
            if entries.count > 10_000 { entries.removeAll() }
            entries[tokenHash] = (kiosk, ContinuousClock.now)
        }
    }
}

/// `POST /v1/events`, `GET /v1/stats`, the dashboard and `/healthz`.
public struct HubController: Sendable {
    let store: any HubStore
    let options: HubOptions
    let logger: Logger
    let clock: @Sendable () -> Date
    let kiosks = KioskCache()

    /// A controller over `store`.
    public init(store: any HubStore, options: HubOptions, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.options = options
        self.logger = logger
        self.clock = clock
    }

    /// Adds the routes.
    public func addRoutes(to router: Router<HubRequestContext>) {
        router.post("/v1/events", use: events)
        router.get("/v1/stats", use: stats)
        router.get("/", use: dashboard)
        router.get("/healthz", use: health)
    }

    static func json(_ text: String, _ status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func refuse(_ status: HTTPResponse.Status, _ error: String, _ reason: String, extra: String = "") -> Response {
        var out = "{\"error\":"
        JSONWriter.appendString(error, to: &out)
        out += ",\"reason\":"
        JSONWriter.appendString(reason, to: &out)
        return json(out + extra + "}", status)
    }

    @Sendable func events(_ request: Request, context: HubRequestContext) async throws -> Response {
        // Who is it? A kiosk may only write its own log.
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "), auth.count > 7 else {
            return Self.refuse(.unauthorized, "unauthorized", "send the kiosk token as Authorization: Bearer …")
        }
        let tokenHash = HubToken.hash(String(auth.dropFirst(7)))
        let store = self.store
        var known = kiosks.get(tokenHash)
        if known == nil, let found = try await onLane({ try store.kiosk(tokenHash: tokenHash) }) {
            kiosks.put(tokenHash, found)
            known = found
        }
        guard let kiosk = known else {
            return Self.refuse(.unauthorized, "unauthorized", "this token is not known to the hub (issue one with jiayuan-hub token add)")
        }
        // The body: gzip or plain JSON, bounded before and after decompression.
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: options.maxBodyBytes)
        } catch {
            return Self.refuse(.contentTooLarge, "too_large", "the body is larger than \(options.maxBodyBytes) bytes: send smaller batches")
        }
        var bytes = Array(buffer.readableBytesView)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do {
                bytes = try Gzip.decompress(bytes, limit: options.maxInflatedBytes)
            } catch .tooLarge {
                return Self.refuse(.contentTooLarge, "too_large", "the body inflates to more than \(options.maxInflatedBytes) bytes")
            } catch {
                return Self.refuse(.badRequest, "bad_request", "the gzip body is damaged: \(error)")
            }
        case let other?:
            return Self.refuse(.unsupportedMediaType, "unsupported_encoding", "Content-Encoding \(other) is not supported (use gzip)")
        }
        let batch: UploadBatch
        do {
            batch = try UploadBatch(json: bytes, maxEvents: options.maxEvents)
        } catch {
            let status: HTTPResponse.Status =
                switch error.kind {
                case .tooManyEvents: .contentTooLarge
                case .malformed: .badRequest
                }
            return Self.refuse(status, "bad_request", error.message)
        }
        guard batch.kiosk == kiosk.id else {
            return Self.refuse(
                .forbidden, "forbidden", "this token belongs to kiosk \(kiosk.id); it cannot write the log of \(batch.kiosk)")
        }
        guard batch.centre == kiosk.centre else {
            return Self.refuse(.forbidden, "forbidden", "kiosk \(kiosk.id) is registered to centre \(kiosk.centre), not \(batch.centre)")
        }
        if let problem = HubChain.shapeProblem(batch.events) { return Self.refuse(.badRequest, "bad_request", problem) }
        for wire in batch.events {
            do {
                try wire.validate()
            } catch {
                return Self.refuse(.badRequest, "bad_request", error.message)
            }
        }
        let events = batch.events
        let key = request.headers.first(where: { $0.name.canonicalName == "idempotency-key" }).map { String($0.value.prefix(200)) }
        let now = clock()
        let received = events
        let verdict = try await onLane { try store.receive(kiosk: kiosk.id, events: received, idempotencyKey: key, at: now) }
        switch verdict {
        case .acknowledged(let through):
            logger.debug("batch stored", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.through": "\(through)"])
            return Self.json("{\"acknowledged_through\":\(through)}", .ok)
        case .gap(let expected):
            logger.notice("batch after a gap", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.expected_seq": "\(expected)"])
            return Self.refuse(
                .conflict, "gap", "events are missing before seq \(events.first!.seq): resend from seq \(expected)",
                extra: ",\"expected_seq\":\(expected)")
        case .conflict(let seq, let reason, let through):
            logger.warning("chain conflict", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.seq": "\(seq)"])
            return Self.refuse(.conflict, "conflict", reason, extra: ",\"seq\":\(seq),\"acknowledged_through\":\(through)")
        }
    }

    func period(_ request: Request) -> (CivilDate, CivilDate, String?)? {
        let today = LocalTime(clock(), in: options.zone).date
        let q = request.uri.queryParameters
        let to = q.get("to").flatMap { $0.isEmpty ? nil : CivilDate(iso: $0) } ?? today
        let from = q.get("from").flatMap { $0.isEmpty ? nil : CivilDate(iso: $0) } ?? to.adding(days: -29)
        if let t = q.get("to"), !t.isEmpty, CivilDate(iso: t) == nil { return nil }
        if let f = q.get("from"), !f.isEmpty, CivilDate(iso: f) == nil { return nil }
        guard from <= to, to.daysSinceEpoch - from.daysSinceEpoch <= 366 else { return nil }
        let centre = q.get("centre").flatMap { $0.isEmpty ? nil : $0 }
        return (from, to, centre)
    }

    func loadStats(from: CivilDate, to: CivilDate, centre: String?) async throws -> HubStats {
        let store = self.store
        let zone = options.zone
        let daily = try await onLane { try store.dailyVisits(from: from, to: to, centre: centre, zone: zone) }
        return HubStats(from: from, to: to, centre: centre, daily: daily)
    }

    @Sendable func stats(_ request: Request, context: HubRequestContext) async throws -> Response {
        guard let (from, to, centre) = period(request) else {
            return Self.refuse(
                .badRequest, "bad_request", "from and to are days like 2026-11-29, from not after to, at most 366 days apart")
        }
        return Self.json(try await loadStats(from: from, to: to, centre: centre).json, .ok)
    }

    @Sendable func dashboard(_ request: Request, context: HubRequestContext) async throws -> Response {
        guard let (from, to, centre) = period(request) else {
            return Self.refuse(
                .badRequest, "bad_request", "from and to are days like 2026-11-29, from not after to, at most 366 days apart")
        }
        let stats = try await loadStats(from: from, to: to, centre: centre)
        let store = self.store
        let kiosks = try await onLane { try store.kiosks() }
        return Response(
            status: .ok, headers: HubDashboard.headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: HubDashboard.page(stats: stats, kiosks: kiosks, now: clock()))))
    }

    @Sendable func health(_ request: Request, context: HubRequestContext) async throws -> Response {
        let store = self.store
        // A trivial query, not a count: a load balancer asks often and a count scans the events.
        do {
            try await onLane { try store.ping() }
            return Self.json("{\"database\":\"ok\",\"store\":\"\(store.kind)\"}", .ok)
        } catch {
            return Self.refuse(.serviceUnavailable, "unavailable", "the hub database does not answer: \(error)")
        }
    }
}

/// Builds the hub: one Hummingbird application over a store.
public func buildHubApplication(store: any HubStore, options: HubOptions, logger: Logger) -> some ApplicationProtocol {
    let router = Router(context: HubRequestContext.self)
    HubController(store: store, options: options, logger: logger).addRoutes(to: router)
    return Application(
        router: router, configuration: .init(address: .hostname(options.host, port: options.port), serverName: "jiayuan-hub"),
        onServerRunning: { channel in
            logger.notice(
                "hub ready", metadata: ["http.address": "\(channel.localAddress?.description ?? "?")", "hub.store": "\(store.kind)"])
            SystemdNotify.send(SystemdNotify.socketPath(), "READY=1\nSTATUS=serving")
        },
        logger: logger)
}
