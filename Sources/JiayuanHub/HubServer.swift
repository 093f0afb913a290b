import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JiayuanDomain
import JiayuanGzip
import JiayuanSystemd
import JiayuanWire
import Logging
import NIOCore

/// The hub's request context: per-request data only.
public struct HubRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who sent the request (`/metrics` answers loopback, unless a metrics token is set).
    public let remoteAddress: SocketAddress?
    /// Creates the context for one request.
    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
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
    /// Database connections: PostgreSQL's pool, SQLite's readers (`--db-connections`).
    public var databaseConnections = 4
    /// Batches this instance works on at once, each on one of its worker threads (`--max-in-flight`).
    public var maxInFlight = 8
    /// Batches that may wait for a turn, their bodies unread (`--max-waiting`); more are answered 503.
    public var maxWaiting = 512
    /// The `Retry-After` of a 503, in seconds (`--retry-after`); kiosks add their own jitter.
    public var retryAfterSeconds = 5
    /// A token that lets a scraper read `/metrics` from any address (`$JIAYUAN_HUB_METRICS_TOKEN`); without
    /// it `/metrics` answers only direct requests from loopback.
    public var metricsToken: String?

    /// Default options.
    public init() {}
}

/// Blocking store work of the reading routes (figures, dashboard, health) runs here, never on the
/// cooperative pool; batches run on the controller's ``HubWorkers``.
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
    /// The gate every batch passes (`503` beyond it).
    public let admission: HubAdmission
    /// The threads batches are inflated, parsed and stored on.
    let workers: HubWorkers
    /// The counters `/metrics` and the dashboard show.
    public let metrics: HubMetrics
    let backlogs = BacklogThrottle()

    /// A controller over `store`.
    public init(store: any HubStore, options: HubOptions, logger: Logger, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.options = options
        self.logger = logger
        self.clock = clock
        admission = HubAdmission(limit: options.maxInFlight, queueLimit: options.maxWaiting)
        workers = HubWorkers(count: options.maxInFlight)
        metrics = HubMetrics(now: clock())
    }

    /// Adds the routes.
    public func addRoutes(to router: Router<HubRequestContext>) {
        router.add(middleware: HubMetricsMiddleware(metrics: metrics))
        router.post("/v1/events", use: events)
        router.get("/v1/stats", use: stats)
        router.get("/", use: dashboard)
        router.get("/healthz", use: health)
        router.get("/metrics", use: metricsPage)
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
            metrics.refused(.unauthorized)
            return Self.refuse(.unauthorized, "unauthorized", "send the kiosk token as Authorization: Bearer …")
        }
        // A turn, or 503 at once: the body is not read (the connection drops it unread).
        guard await admission.enter() == .admitted else {
            metrics.refused(.busy)
            return busy()
        }
        defer { admission.leave() }
        let tokenHash = HubToken.hash(String(auth.dropFirst(7)))
        let store = self.store
        var known = kiosks.get(tokenHash)
        if known == nil, let found = try await workers.run({ try store.kiosk(tokenHash: tokenHash) }) {
            kiosks.put(tokenHash, found)
            known = found
        }
        guard let kiosk = known else {
            metrics.refused(.unauthorized)
            return Self.refuse(.unauthorized, "unauthorized", "this token is not known to the hub (issue one with jiayuan-hub token add)")
        }
        // The body: gzip or plain JSON, bounded before and after decompression.
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: options.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            metrics.refused(.tooLarge)
            return Self.refuse(.contentTooLarge, "too_large", "the body is larger than \(options.maxBodyBytes) bytes: send smaller batches")
        }
        let batch = BatchRequest(
            kiosk: kiosk, body: buffer, encoding: request.headers[.contentEncoding]?.lowercased(),
            idempotencyKey: request.headers.first(where: { $0.name.canonicalName == "idempotency-key" }).map {
                String($0.value.prefix(200))
            },
            backlog: request.headers[Self.backlogHeader].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }, at: clock())
        // Inflating, parsing and storing block or compute: on the hub's own threads.
        return try await workers.run { [self] in try receive(batch) }
    }

    static let backlogHeader = HTTPField.Name("Jiayuan-Backlog")!

    /// The `503` of a saturated hub.
    func busy() -> Response {
        var response = Self.refuse(
            .serviceUnavailable, "busy", "the hub is busy: send this batch again in \(options.retryAfterSeconds) s (nothing was stored)")
        response.headers[.retryAfter] = String(options.retryAfterSeconds)
        return response
    }

    /// One batch as it arrived, for the worker threads.
    struct BatchRequest: Sendable {
        var kiosk: HubKiosk
        var body: ByteBuffer
        var encoding: String?
        var idempotencyKey: String?
        var backlog: Int64?
        var at: Date
    }

    /// Inflates, parses, checks and stores a batch. Blocking: runs on ``workers``.
    func receive(_ request: BatchRequest) throws -> Response {
        let kiosk = request.kiosk
        func refuse(_ why: HubRefusal, _ status: HTTPResponse.Status, _ error: String, _ reason: String, extra: String = "") -> Response {
            metrics.refused(why)
            return Self.refuse(status, error, reason, extra: extra)
        }
        var bytes = Array(request.body.readableBytesView)
        switch request.encoding {
        case nil, "identity": break
        case "gzip":
            do {
                bytes = try Gzip.decompress(bytes, limit: options.maxInflatedBytes)
            } catch .tooLarge {
                return refuse(.tooLarge, .contentTooLarge, "too_large", "the body inflates to more than \(options.maxInflatedBytes) bytes")
            } catch {
                return refuse(.badRequest, .badRequest, "bad_request", "the gzip body is damaged: \(error)")
            }
        case let other?:
            return refuse(
                .badRequest, .unsupportedMediaType, "unsupported_encoding", "Content-Encoding \(other) is not supported (use gzip)")
        }
        let batch: UploadBatch
        do {
            batch = try UploadBatch(json: bytes, maxEvents: options.maxEvents)
        } catch {
            switch error.kind {
            case .tooManyEvents: return refuse(.tooLarge, .contentTooLarge, "bad_request", error.message)
            case .malformed: return refuse(.badRequest, .badRequest, "bad_request", error.message)
            }
        }
        guard batch.kiosk == kiosk.id else {
            return refuse(
                .forbidden, .forbidden, "forbidden", "this token belongs to kiosk \(kiosk.id); it cannot write the log of \(batch.kiosk)")
        }
        guard batch.centre == kiosk.centre else {
            return refuse(
                .forbidden, .forbidden, "forbidden", "kiosk \(kiosk.id) is registered to centre \(kiosk.centre), not \(batch.centre)")
        }
        if let problem = HubChain.shapeProblem(batch.events) { return refuse(.badRequest, .badRequest, "bad_request", problem) }
        for wire in batch.events {
            do {
                try wire.validate()
            } catch {
                return refuse(.badRequest, .badRequest, "bad_request", error.message)
            }
        }
        let events = batch.events
        let receipt = try store.receive(kiosk: kiosk.id, events: events, idempotencyKey: request.idempotencyKey, at: request.at)
        switch receipt.verdict {
        case .acknowledged(let through):
            metrics.stored(receipt.stored, at: request.at)
            if let backlog = request.backlog, backlogs.due(kiosk: kiosk.id, backlog: backlog, at: request.at) {
                do {
                    try store.recordBacklog(kiosk: kiosk.id, backlog: backlog, at: request.at)
                } catch {
                    logger.notice("the kiosk's backlog was not recorded", metadata: ["hub.kiosk": "\(kiosk.id)", "error": "\(error)"])
                }
            }
            logger.debug("batch stored", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.through": "\(through)"])
            return Self.json("{\"acknowledged_through\":\(through)}", .ok)
        case .gap(let expected):
            logger.notice("batch after a gap", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.expected_seq": "\(expected)"])
            return refuse(
                .gap, .conflict, "gap", "events are missing before seq \(events.first!.seq): resend from seq \(expected)",
                extra: ",\"expected_seq\":\(expected)")
        case .conflict(let seq, let reason, let through):
            logger.warning("chain conflict", metadata: ["hub.kiosk": "\(kiosk.id)", "hub.seq": "\(seq)"])
            return refuse(.conflict, .conflict, "conflict", reason, extra: ",\"seq\":\(seq),\"acknowledged_through\":\(through)")
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
        let now = clock()
        let page = HubDashboard.page(stats: stats, kiosks: kiosks, now: now, operations: HubLagView.section(metrics: metrics, now: now))
        return Response(status: .ok, headers: HubDashboard.headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    /// `GET /metrics`: Prometheus' text format. Only for a direct request from loopback (not one a front such
    /// as nginx passed on), or with the metrics token; anyone else gets 404, as if there were none.
    @Sendable func metricsPage(_ request: Request, context: HubRequestContext) async throws -> Response {
        guard Self.mayReadMetrics(request.headers, peer: context.remoteAddress?.ipAddress, token: options.metricsToken) else {
            return Self.refuse(.notFound, "not_found", "no such page")
        }
        let store = self.store
        let kiosks = try await onLane { try store.kiosks() }
        let text = metrics.exposition(kiosks: kiosks, admission: admission.load, now: clock())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Whether a request may read `/metrics`: the metrics token as a bearer token, or a peer on loopback
    /// with no forwarding header (a request through the TLS front comes from loopback too, but says whom for).
    static func mayReadMetrics(_ headers: HTTPFields, peer: String?, token: String?) -> Bool {
        if let token, !token.isEmpty, let auth = headers[.authorization], auth.hasPrefix("Bearer ") {
            let given = Array(auth.dropFirst(7).utf8)
            let wanted = Array(token.utf8)
            guard given.count == wanted.count else { return false }
            return zip(given, wanted).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
        let forwarded = ["x-forwarded-for", "x-real-ip", "forwarded"]
        if headers.contains(where: { forwarded.contains($0.name.canonicalName) }) { return false }
        guard let peer else { return false }
        return peer.hasPrefix("127.") || peer == "::1" || peer.hasPrefix("::ffff:127.")
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

/// Records every request's duration by route and status.
struct HubMetricsMiddleware: RouterMiddleware {
    typealias Context = HubRequestContext
    let metrics: HubMetrics
    static let routes: Set<String> = ["/v1/events", "/v1/stats", "/", "/healthz", "/metrics"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        // Known routes only: an unknown path must not make a new series.
        let route = Self.routes.contains(request.uri.path) ? request.uri.path : "other"
        do {
            let response = try await next(request, context)
            metrics.observe(route: route, status: Int(response.status.code), duration: ContinuousClock.now - started)
            return response
        } catch let error as any HTTPResponseError {
            metrics.observe(route: route, status: Int(error.status.code), duration: ContinuousClock.now - started)
            throw error
        } catch {
            metrics.observe(route: route, status: 500, duration: ContinuousClock.now - started)
            throw error
        }
    }
}

/// When to write a kiosk's reported backlog: the first time, when it reaches 0, and otherwise at most every
/// 15 s per kiosk and instance (a draining kiosk reports with every batch; the database needs not hear each).
final class BacklogThrottle: @unchecked Sendable {
    private let lock = NSLock()
    private var last: [String: (Int64, Date)] = [:]

    func due(kiosk: String, backlog: Int64, at now: Date) -> Bool {
        lock.withLock {
            if let (value, at) = last[kiosk], value == backlog || (backlog != 0 && now.timeIntervalSince(at) < 15) { return false }
            if last.count > 100_000 { last.removeAll() }
            last[kiosk] = (backlog, now)
            return true
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
