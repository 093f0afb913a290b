import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanDomain
import JiayuanGzip
import JiayuanHub
import JiayuanTestSupport
import JiayuanWire
import Logging
import Testing

/// A chain of `n` events after `head`.
func chain(_ n: Int, after head: HubChain.Head = .empty, venue: String = "gym", at start: Date = Date(timeIntervalSince1970: 1_795_000_000))
    -> [AttendanceEvent]
{
    var prev = head.hash
    return (1...n).map { i in
        let seq = head.seq + Int64(i)
        let e = AttendanceEvent(
            seq: seq, id: UUID().uuidString.lowercased(), at: start.addingTimeInterval(Double(seq) * 60), venue: venue,
            member: MemberID(number: UInt32(seq % 50 + 1)), group: .elder, direction: .in, outcome: .accepted, reason: nil, via: .scan,
            prevHash: prev)
        prev = e.hash
        return e
    }
}

func body(kiosk: String = "kiosk-a", centre: String = "centre-1", _ events: [AttendanceEvent]) -> ByteBuffer {
    ByteBuffer(bytes: Gzip.compress(UploadBatch(kiosk: kiosk, centre: centre, events: events.map(WireEvent.init)).json()))
}

/// A hub router over a fresh store of the given backend, with kiosk-a (centre-1) and kiosk-b (centre-2).
func withHub(_ backend: Backend, _ name: String, _ test: @Sendable (any TestClientProtocol, any HubStore) async throws -> Void) async throws
{
    let dir = TemporaryDirectory("hub-routes")
    defer { dir.remove() }
    let url = backend == .postgresql ? try TestPostgres.freshDatabase("jy_routes_\(name)") : nil
    let store = try openHubStore(database: url, dataDirectory: dir.path)
    try store.addKiosk(id: "kiosk-a", centre: "centre-1", tokenHash: HubToken.hash("token-a"), replace: false, at: Date())
    try store.addKiosk(id: "kiosk-b", centre: "centre-2", tokenHash: HubToken.hash("token-b"), replace: false, at: Date())
    var options = HubOptions()
    options.maxBodyBytes = 256 << 10
    options.maxEvents = 2000
    let router = Router(context: HubRequestContext.self)
    HubController(store: store, options: options, logger: Logger(label: "test"), clock: { Date(timeIntervalSince1970: 1_795_100_000) })
        .addRoutes(to: router)
    let app = Application(router: router)
    try await app.test(.router) { client in try await test(client, store) }
}

let gzipHeaders: HTTPFields = [.authorization: "Bearer token-a", .contentEncoding: "gzip", .contentType: "application/json"]

func json(_ response: TestResponse) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
}

@Suite("Hub routes", .blocking)
struct HubRouteTests {
    @Test("a batch is acknowledged; the same batch again is acknowledged again and stored once", arguments: Backend.available)
    func resendIsIdempotent(backend: Backend) async throws {
        try await withHub(backend, "resend") { client, store in
            let events = chain(20)
            for _ in 0..<2 {
                let r = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(events))
                #expect(r.status == .ok)
                #expect(json(r)["acknowledged_through"] as? Int == 20)
            }
            #expect(try store.eventCount(kiosk: "kiosk-a") == 20)
            // A batch overlapping what is held and going on: only the new part is stored.
            let more = events.suffix(5) + chain(10, after: HubChain.Head(seq: 20, hash: events.last!.hash))
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(Array(more)))
            #expect(json(r)["acknowledged_through"] as? Int == 30)
            #expect(try store.eventCount(kiosk: "kiosk-a") == 30)
            #expect(try store.verifyChain(kiosk: "kiosk-a") == nil)
        }
    }

    @Test("a gap is 409 with expected_seq; a different event under a held seq is 409 conflict", arguments: Backend.available)
    func gapAndConflict(backend: Backend) async throws {
        try await withHub(backend, "gap") { client, store in
            let events = chain(10)
            _ = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(events))
            let later = chain(5, after: HubChain.Head(seq: 12, hash: String(repeating: "a", count: 64)))
            let gap = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(later))
            #expect(gap.status == .conflict)
            #expect(json(gap)["expected_seq"] as? Int == 11)
            // A forked log: seq 6 onwards rewritten.
            let fork = chain(5, after: HubChain.Head(seq: 5, hash: events[4].hash), venue: "library")
            let conflict = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(fork))
            #expect(conflict.status == .conflict)
            #expect(json(conflict)["error"] as? String == "conflict")
            #expect(json(conflict)["seq"] as? Int == 6)
            // A new event that does not continue the chain.
            let broken = chain(3, after: HubChain.Head(seq: 10, hash: String(repeating: "b", count: 64)))
            let r = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(broken))
            #expect(r.status == .conflict && json(r)["seq"] as? Int == 11)
            #expect(try store.eventCount(kiosk: "kiosk-a") == 10)
        }
    }

    @Test("refusals: no token, unknown token, another kiosk's log, wrong centre, damaged bodies, too large", arguments: Backend.available)
    func refusals(backend: Backend) async throws {
        try await withHub(backend, "refusals") { client, store in
            let events = chain(3)
            var h = gzipHeaders
            h[.authorization] = nil
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: h, body: body(events)).status == .unauthorized)
            h[.authorization] = "Bearer nope"
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: h, body: body(events)).status == .unauthorized)
            h[.authorization] = "Bearer token-b"
            let other = try await client.execute(uri: "/v1/events", method: .post, headers: h, body: body(kiosk: "kiosk-a", events))
            #expect(other.status == .forbidden)
            let centre = try await client.execute(
                uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(centre: "centre-2", events))
            #expect(centre.status == .forbidden)
            let notGzip = try await client.execute(
                uri: "/v1/events", method: .post, headers: gzipHeaders, body: ByteBuffer(string: "{\"kiosk\":1}"))
            #expect(notGzip.status == .badRequest)
            #expect((json(notGzip)["reason"] as? String)?.contains("gzip") == true)
            var plain = gzipHeaders
            plain[.contentEncoding] = nil
            let malformed = try await client.execute(
                uri: "/v1/events", method: .post, headers: plain, body: ByteBuffer(string: "{\"kiosk\":\"kiosk-a\""))
            #expect(malformed.status == .badRequest)
            plain[.contentEncoding] = "br"
            #expect(
                try await client.execute(uri: "/v1/events", method: .post, headers: plain, body: body(events)).status
                    == .unsupportedMediaType)
            let tooMany = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(chain(2001)))
            #expect(tooMany.status == .contentTooLarge)
            let huge = ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 300 << 10))
            #expect(try await client.execute(uri: "/v1/events", method: .post, headers: plain, body: huge).status == .contentTooLarge)
            var badAt = events
            badAt[0] = AttendanceEvent(
                seq: 1, id: "x", at: badAt[0].at, venue: "gym", member: nil, group: nil, direction: .in, outcome: .accepted, reason: nil,
                via: .scan, prevHash: AttendanceEvent.genesisHash)
            var wire = UploadBatch(kiosk: "kiosk-a", centre: "centre-1", events: badAt.map(WireEvent.init))
            wire.events[0].at = "2026-11-29 10:00"
            let r = try await client.execute(
                uri: "/v1/events", method: .post, headers: gzipHeaders, body: ByteBuffer(bytes: Gzip.compress(wire.json())))
            #expect(r.status == .badRequest && (json(r)["reason"] as? String)?.contains("\"at\"") == true)
            #expect(try store.eventCount(kiosk: nil) == 0)
        }
    }

    @Test("stats count accepted check-ins per local day, venue and group; the dashboard shows them", arguments: Backend.available)
    func stats(backend: Backend) async throws {
        try await withHub(backend, "stats") { client, _ in
            // 2026-11-20 23:30 UTC is 2026-11-21 07:30 in Shanghai.
            let start = ISOTime.parse("2026-11-20T23:00:00Z", defaultZone: ISOTime.utc)!.addingTimeInterval(-60)
            let events = chain(40, at: start)  // one a minute from 23:00 UTC
            _ = try await client.execute(uri: "/v1/events", method: .post, headers: gzipHeaders, body: body(events))
            let r = try await client.execute(uri: "/v1/stats?from=2026-11-21&to=2026-11-21", method: .get)
            #expect(r.status == .ok)
            let s = json(r)
            #expect(s["total"] as? Int == 40)
            let days = try #require(s["days"] as? [[String: Any]])
            #expect(days.count == 1 && days[0]["day"] as? String == "2026-11-21" && days[0]["venue"] as? String == "gym")
            #expect(days[0]["group"] as? String == "elder")
            let before = json(try await client.execute(uri: "/v1/stats?from=2026-11-20&to=2026-11-20", method: .get))
            #expect(before["total"] as? Int == 0)
            let other = json(try await client.execute(uri: "/v1/stats?from=2026-11-21&to=2026-11-21&centre=centre-2", method: .get))
            #expect(other["total"] as? Int == 0)
            #expect(try await client.execute(uri: "/v1/stats?from=yesterday", method: .get).status == .badRequest)
            let page = try await client.execute(uri: "/?from=2026-11-15&to=2026-11-21", method: .get)
            let html = String(buffer: page.body)
            #expect(page.status == .ok && html.contains("<svg") && html.contains("kiosk-a") && html.contains("2026-11-21: 40"))
        }
    }
}

@Suite("Hub dashboard: injections", .blocking)
struct HubDashboardInjectionTests {
    @Test("a hostile ?centre= adds no element or attribute to the dashboard, which sends a CSP without scripts")
    func centreParameter() async throws {
        let hostile = "\"\u{301} autofocus onfocus=alert(1) x=\"><script>alert(1)</script>"
        let twin = String(String.UnicodeScalarView(hostile.unicodeScalars.map { "\"'<>&".unicodeScalars.contains($0) ? "q" : $0 }))
        try await withHub(.sqlite, "dashboard") { client, _ in
            func page(_ centre: String) async throws -> (TestResponse, PageStructure) {
                var allowed = CharacterSet.alphanumerics
                allowed.insert(charactersIn: "-._~")
                let r = try await client.execute(
                    uri: "/?centre=" + centre.addingPercentEncoding(withAllowedCharacters: allowed)!, method: .get)
                return (r, try await PageStructure.of(String(buffer: r.body)))
            }
            let (bad, badPage) = try await page(hostile)
            let (_, twinPage) = try await page(twin)
            #expect(bad.status == .ok)
            #expect(badPage.elements == twinPage.elements, "the hostile centre changed the dashboard's markup")
            #expect(!badPage.attributes.contains("onfocus") && !badPage.elements.contains { $0 == ["script"] })
            let csp = bad.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(csp.contains("default-src 'none'") && !csp.contains("script-src"), "\(csp)")
        }
    }
}
