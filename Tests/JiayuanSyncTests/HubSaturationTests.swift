import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanBench
import JiayuanDomain
import JiayuanHTTP
import JiayuanStore
import JiayuanSync
import JiayuanTestSupport
import JiayuanWire
import Logging
import Testing

@testable import JiayuanHub

/// A live hub (a real loopback port) over a fresh SQLite store with kiosk-a (centre-1), whose controller the
/// test holds, so it can take the admission slots itself.
func withLiveHub(
    _ name: String, configure: (inout HubOptions) -> Void = { _ in },
    _ test: @Sendable (any TestClientProtocol, HubController, any HubStore, String) async throws -> Void
) async throws {
    let dir = TemporaryDirectory("hub-\(name)")
    defer { dir.remove() }
    let store = try openHubStore(database: nil, dataDirectory: dir.path)
    try store.addKiosk(id: "kiosk-a", centre: "centre-1", tokenHash: HubToken.hash("token-a"), replace: false, at: Date())
    var options = HubOptions()
    configure(&options)
    let router = Router(context: HubRequestContext.self)
    let controller = HubController(store: store, options: options, logger: Logger(label: "test"))
    controller.addRoutes(to: router)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    try await app.test(.live) { client in try await test(client, controller, store, dir.path) }
}

/// A kiosk's log of `events` events in `dir`, and an uploader to `port` with token-a.
func kioskUploader(dir: String, port: Int, events: Int, batch: Int = 10) throws -> Uploader {
    let database = try AppDatabase.open(path: dir + "/kiosk-a.sqlite")
    try SyntheticLog.append(to: database, count: events, venues: ["gym"], seed: 11)
    var config = UploadConfig()
    config.batchSize = batch
    config.retryMaxSeconds = 60
    return Uploader(
        database: database, kioskID: "kiosk-a", centreID: "centre-1",
        settings: try UploadSettings(config: config, hub: "http://127.0.0.1:\(port)", token: "token-a"), clock: { Date() })
}

/// Runs blocking `work` on a thread of its own (never on the cooperative pool).
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        DispatchQueue(label: "jiayuan.test.offpool").async { c.resume(with: Result { try work() }) }
    }
}

let eventsHeaders: HTTPFields = [.authorization: "Bearer token-a", .contentEncoding: "gzip", .contentType: "application/json"]

@Suite("Hub saturation, Retry-After and metrics")
struct HubSaturationTests {
    @Test("the admission gate admits its limit, queues its queue, refuses the rest, and hands slots on in order")
    func admissionGate() async throws {
        let gate = HubAdmission(limit: 2, queueLimit: 1)
        #expect(await gate.enter() == .admitted)
        #expect(await gate.enter() == .admitted)
        let waiter = Task { await gate.enter() }
        while gate.load.waiting < 1 { await Task.yield() }
        #expect(await gate.enter() == .refused)
        #expect(gate.load.working == 2 && gate.load.waiting == 1)
        gate.leave()
        #expect(await waiter.value == .admitted)
        #expect(gate.load.working == 2 && gate.load.waiting == 0)
        gate.leave()
        gate.leave()
        #expect(gate.load.working == 0 && gate.load.waiting == 0)
    }

    @Test("a saturated hub answers 503 with Retry-After at once, stores nothing, and takes the batch once it has room")
    func busyAnswer() async throws {
        try await withLiveHub(
            "busy",
            configure: {
                $0.maxInFlight = 1; $0.maxWaiting = 0; $0.retryAfterSeconds = 7
            }
        ) {
            client, controller, store, _ in
            // The one slot is taken (as by a slow batch).
            #expect(await controller.admission.enter() == .admitted)
            let events = chain(5, venue: "gym")
            let busy = try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(events))
            #expect(busy.status == .serviceUnavailable)
            #expect(busy.headers[.retryAfter] == "7")
            #expect(json(busy)["error"] as? String == "busy")
            #expect(try store.eventCount(kiosk: nil) == 0)
            controller.admission.leave()
            let ok = try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(events))
            #expect(ok.status == .ok)
            #expect(try store.eventCount(kiosk: "kiosk-a") == 5)
            #expect(controller.metrics.refusedCounts().first { $0.0 == .busy }?.1 == 1)
        }
    }

    @Test("a batch waits in line while the hub has queue room, instead of being refused")
    func queuedNotRefused() async throws {
        try await withLiveHub(
            "queued",
            configure: {
                $0.maxInFlight = 1; $0.maxWaiting = 4
            }
        ) { client, controller, store, _ in
            #expect(await controller.admission.enter() == .admitted)
            let events = chain(5, venue: "gym")
            async let reply = client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(events))
            while controller.admission.load.waiting < 1 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(try store.eventCount(kiosk: nil) == 0)
            controller.admission.leave()
            #expect(try await reply.status == .ok)
            #expect(try store.eventCount(kiosk: "kiosk-a") == 5)
        }
    }

    @Test("the uploader takes a 503 as 'hub busy': no failure recorded, and the runner waits Retry-After plus jitter, then sends")
    func uploaderHonoursRetryAfter() async throws {
        try await withLiveHub(
            "uploader",
            configure: {
                $0.maxInFlight = 1; $0.maxWaiting = 0; $0.retryAfterSeconds = 9
            }
        ) {
            client, controller, store, dir in
            let port = try #require(client.port)
            let uploader = try kioskUploader(dir: dir, port: port, events: 30)
            #expect(await controller.admission.enter() == .admitted)
            // One step over real HTTP: busy, with the hub's Retry-After, and nothing for staff to see.
            let step = try await offPool { try uploader.step() }
            #expect(step == .busy(retryAfter: 9))
            let state = try uploader.database.uploadState()
            #expect(state.lastError == nil)
            #expect(state.acknowledgedThrough == 0)
            // The runner: its first wait is at least Retry-After (and at most half again); the slot comes free
            // during that "wait" and the drain finishes.
            let waits = LockedList<Duration>()
            let runner = UploadRunner(uploader: uploader) { wait in
                waits.append(wait)
                if waits.items.count == 1 { controller.admission.leave() }
            }
            let progress = LockedList<UploadRunner.Progress>()
            let outcome = try await runner.run(.drain(retry: false)) { progress.append($0) }
            #expect(outcome == .drained(sent: 30))
            let first = try #require(waits.items.first)
            #expect(first >= .seconds(9) && first <= .seconds(13.5))
            #expect(progress.items.contains { if case .busy = $0 { true } else { false } })
            #expect(try store.eventCount(kiosk: "kiosk-a") == 30)
            #expect(try store.verifyChain(kiosk: "kiosk-a") == nil)
        }
    }

    @Test("the kiosk's reported backlog is stored and shown; the dashboard flags a kiosk quiet for over an hour")
    func backlogAndLag() async throws {
        try await withLiveHub("backlog") { client, _, store, dir in
            try store.addKiosk(id: "kiosk-q", centre: "centre-1", tokenHash: HubToken.hash("token-q"), replace: false, at: Date())
            let port = try #require(client.port)
            // Batches of 10 out of 25: after the first the kiosk says 15 are left (recorded the first time).
            let uploader = try kioskUploader(dir: dir, port: port, events: 25)
            #expect(try await offPool { try uploader.step() } == .sent(count: 10, through: 10))
            #expect(try store.kiosks().first { $0.id == "kiosk-a" }?.reportedBacklog == 15)
            // Drained: the last batch says 0, which is always recorded.
            while case .sent = try await offPool({ try uploader.step() }) {}
            let kiosk = try #require(try store.kiosks().first { $0.id == "kiosk-a" })
            #expect(kiosk.reportedBacklog == 0)
            #expect(kiosk.backlogReportedAt != nil)
            let page = try await client.execute(uri: "/", method: .get)
            let html = String(decoding: page.body.readableBytesView, as: UTF8.self)
            #expect(html.contains("待传 Backlog"))
            // kiosk-q never uploaded: flagged; kiosk-a just did: not.
            let rows = html.split(separator: "\n").filter { $0.hasPrefix("<tr><td>kiosk-") }
            #expect(rows.first { $0.contains("kiosk-q") }?.contains("class=\"warn\"") == true)
            #expect(rows.first { $0.contains("kiosk-a") }?.contains("class=\"warn\"") == false)
            #expect(html.contains("每分钟存入 Events per minute"))
            #expect(html.contains("拒收批次 Refused batches"))
        }
    }

    @Test("/metrics is Prometheus text with refusals by reason, kiosks' lag, durations; no token; loopback only")
    func metrics() async throws {
        try await withLiveHub("metrics", configure: { $0.maxBodyBytes = 4096 }) { client, _, _, _ in
            let events = chain(10, venue: "gym")
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(events)).status == .ok)
            var h = eventsHeaders
            h[.authorization] = "Bearer wrong-token"
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: h, body: body(events)).status == .unauthorized)
            let gap = chain(3, after: HubChain.Head(seq: 12, hash: String(repeating: "a", count: 64)))
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(gap)).status == .conflict)
            let fork = chain(3, after: HubChain.Head(seq: 5, hash: events[4].hash), venue: "library")
            #expect(
                try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: body(fork)).status == .conflict)
            var big = ByteBuffer()
            big.writeRepeatingByte(0x41, count: 10_000)
            #expect(
                try await client.execute(uri: "/v1/events", method: .post, headers: eventsHeaders, body: big).status == .contentTooLarge)

            let page = try await client.execute(uri: "/metrics", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: page.body.readableBytesView, as: UTF8.self)
            let lines = Set(text.split(separator: "\n").map(String.init))
            #expect(lines.contains("jiayuan_hub_events_stored_total 10"))
            #expect(lines.contains("jiayuan_hub_batches_accepted_total 1"))
            for (reason, n) in [("unauthorized", 1), ("gap", 1), ("conflict", 1), ("too_large", 1), ("busy", 0)] {
                #expect(lines.contains("jiayuan_hub_batches_refused_total{reason=\"\(reason)\"} \(n)"), "\(reason)")
            }
            #expect(lines.contains("jiayuan_hub_kiosk_last_seq{kiosk=\"kiosk-a\",centre=\"centre-1\"} 10.0"))
            #expect(
                lines.contains { $0.hasPrefix("jiayuan_hub_kiosk_last_upload_timestamp_seconds{kiosk=\"kiosk-a\",centre=\"centre-1\"} ") })
            #expect(lines.contains { $0.hasPrefix("jiayuan_hub_request_duration_seconds_count{route=\"/v1/events\",status=\"200\"} ") })
            #expect(lines.contains("# TYPE jiayuan_hub_batches_refused_total counter"))
            // Nothing secret: no token, its hash, a member or an event id.
            for secret in ["token-a", "wrong-token", HubToken.hash("token-a"), "M0000", events[0].id] {
                #expect(!text.contains(secret), "\(secret)")
            }
            // Passed on by a front (it says whom for): as if there were no such page.
            let forwarded = try await client.execute(
                uri: "/metrics", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"])
            #expect(forwarded.status == .notFound)
        }
    }

    @Test("/metrics from elsewhere needs the metrics token, compared in full")
    func metricsAccess() {
        let token = "m-secret-123"
        #expect(HubController.mayReadMetrics([:], peer: "127.0.0.1", token: nil))
        #expect(HubController.mayReadMetrics([:], peer: "::1", token: nil))
        #expect(!HubController.mayReadMetrics([:], peer: "192.0.2.7", token: nil))
        #expect(!HubController.mayReadMetrics([:], peer: nil, token: nil))
        #expect(!HubController.mayReadMetrics([HTTPField.Name("X-Real-IP")!: "192.0.2.7"], peer: "127.0.0.1", token: nil))
        #expect(HubController.mayReadMetrics([.authorization: "Bearer m-secret-123"], peer: "192.0.2.7", token: token))
        #expect(!HubController.mayReadMetrics([.authorization: "Bearer m-secret-12"], peer: "192.0.2.7", token: token))
        #expect(!HubController.mayReadMetrics([.authorization: "Bearer m-secret-124"], peer: "127.0.0.1", token: token))
    }
}

/// A list appended to from any thread.
final class LockedList<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [T] = []
    func append(_ item: T) { lock.withLock { list.append(item) } }
    var items: [T] { lock.withLock { list } }
}
