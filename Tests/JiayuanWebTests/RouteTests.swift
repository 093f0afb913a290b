import Foundation
import Hummingbird
import HummingbirdTesting
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Logging
import Testing

@testable import JiayuanStore
@testable import JiayuanWeb

/// A demo kiosk and its router, for route tests.
struct ServerHarness: @unchecked Sendable {
    let dir = TemporaryDirectory("server")
    let kiosk: Kiosk
    let demo: [(Member, IssuedCard)]
    let events = KioskEvents()
    let coordinator: ScanCoordinator
    let router: Router<AppRequestContext>

    /// A demo kiosk; `cups` points its printer at a queue of a CUPS server (`cups:QUEUE`, `HOST:PORT`).
    init(at now: Date = Fixtures.at("2026-11-28 10:00"), cups: (queue: String, server: String)? = nil) throws {
        var data = DataDirectory(path: dir.path)
        data.demoPINRounds = 1000
        var rng = SeededRandom(seed: 9)
        // The demo staff PIN with few rounds: a harness is built synchronously, and 600,000 PBKDF2 rounds per
        // harness would hold a thread of the cooperative pool for a second.
        demo = try data.initialize(kioskID: "route-test", demo: true, now: now, rng: &rng).demoMembers
        if let cups {
            let text = demoConfig(
                try String(contentsOfFile: data.configPath, encoding: .utf8), printerTarget: "cups:\(cups.queue)", cupsServer: cups.server)
            try text.write(toFile: data.configPath, atomically: true, encoding: .utf8)
        }
        kiosk = try Kiosk.open(data, clock: { now })
        coordinator = ScanCoordinator(
            kiosk: kiosk, service: try CheckInService(kiosk: kiosk), events: events, voice: nil, logger: Logger(label: "test"))
        router = buildRouter(
            kiosk: kiosk, options: ServeOptions(host: "127.0.0.1", port: 0, assetsPath: ServeOptions.defaultAssetsPath()),
            coordinator: coordinator, events: events, voice: nil, registry: ScannerRegistry())
    }

    var app: some ApplicationProtocol { Application(router: router) }

    func card(_ group: MemberGroup) -> IssuedCard { demo.first { $0.0.group == group }!.1 }
    func remove() { dir.remove() }
}

func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
}

@Suite("Kiosk HTTP routes", .blocking)
struct RouteTests {
    @Test("POST /api/checkin answers the decision object of DESIGN.md §3.3 and records it")
    func checkIn() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let code = h.card(.veteran).code
        try await h.app.test(.router) { client in
            let body = ByteBuffer(string: #"{"code":"\#(code)","venue":"veterans"}"#)
            do {
                let r = try await client.execute(
                    uri: "/api/checkin", method: .post, headers: [.contentType: "application/json"], body: body)
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                #expect(text.hasPrefix(#"{"outcome":"accepted","direction":"in","reason":null,"repeat":false,"member":{"id":"M000001""#))
                let object = try json(r.body)
                #expect(
                    Set(object.keys) == [
                        "outcome", "direction", "reason", "repeat", "member", "venue", "seq", "at", "occupancy", "message",
                    ])
                #expect(object["seq"] as? Int == 1)
            }
            do {
                let r = try await client.execute(uri: "/api/checkin", method: .post, body: ByteBuffer(string: "nonsense"))
                #expect(r.status == .badRequest)
                #expect(try json(r.body)["error"] != nil)
            }
            do {
                let r = try await client.execute(
                    uri: "/api/checkin", method: .post, body: ByteBuffer(string: #"{"code":"x","venue":"moon"}"#))
                #expect(r.status == .notFound)
            }
            do {
                let r = try await client.execute(
                    uri: "/api/checkin", method: .post, body: ByteBuffer(string: #"{"code":"garbage","venue":"gym"}"#))
                #expect(r.status == .ok)
                #expect(try json(r.body)["reason"] as? String == "invalid_code")
            }
        }
        #expect(try h.kiosk.database.verify().eventCount == 2)
    }

    @Test("GET /healthz reports the database, printer, scanners and backlog")
    func health() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(uri: "/healthz", method: .get)
                #expect(r.status == .ok)
                let object = try json(r.body)
                #expect(object["status"] as? String == "ok")
                #expect((object["database"] as? [String: Any])?["ok"] as? Bool == true)
                #expect((object["printer"] as? [String: Any])?["target"] as? String == "file:" + h.dir.path + "/prints")
                #expect((object["backlog"] as? [String: Any])?["print"] as? Int == 0)
                #expect(object["scanners"] is [Any])
            }
        }
    }

    @Test("GET /healthz is 503 when the database cannot be used")
    func unhealthy() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try h.kiosk.database.close()
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(uri: "/healthz", method: .get)
                #expect(r.status == .serviceUnavailable)
                #expect(try json(r.body)["status"] as? String == "out_of_service")
            }
        }
        #expect(await h.coordinator.outOfService?.code == "DB-1")
    }

    @Test("GET /api/state and /api/occupancy list the venues with live occupancy")
    func state() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        _ = try await h.coordinator.checkIn(code: h.card(.veteran).code, venue: "veterans", source: "test")
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(uri: "/api/state", method: .get)
                let object = try json(r.body)
                #expect(object["demo"] as? Bool == true)
                // The configured name, which the screen's Intl.DateTimeFormat accepts (never "GMT+0800").
                #expect(object["time_zone"] as? String == "Asia/Shanghai")
                let venues = try #require(object["venues"] as? [[String: Any]])
                #expect(venues.map { $0["id"] as? String } == ["gym", "library", "daycare", "kids", "veterans"])
                #expect(venues.last?["inside"] as? Int == 1)
                #expect(venues.last?["open"] as? Bool == true)
            }
            do {
                let r = try await client.execute(uri: "/api/occupancy", method: .get)
                #expect(((try json(r.body))["venues"] as? [Any])?.count == 5)
            }
        }
    }

    @Test("a scan at an unbound scanner offers the venues; choosing one checks in and is broadcast")
    func chooseFlow() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let stream = await h.events.subscribe()
        var iterator = stream.makeAsyncIterator()
        // A resident may use the gym and the library at 10:00: two choices. (A guardian would also be offered the
        // children's club, to bring their children: HouseholdRouteTests.)
        let resident = h.demo.first { m in
            m.0.group == .resident && (m.0.born ?? 2000) <= 2010 && !h.demo.contains { $0.0.guardians.contains(m.0.id) }
        }!
        await h.coordinator.scan(resident.1.code, scanner: "lobby", venue: nil)
        let scan = try #require(await iterator.next())
        #expect(scan.name == "scan")
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(scan.data.utf8)) as? [String: Any])
        let token = try #require(payload["token"] as? String)
        let venues = try #require(payload["venues"] as? [[String: Any]])
        #expect(venues.filter { $0["allowed"] as? Bool == true }.compactMap { $0["id"] as? String } == ["gym", "library"])
        #expect((payload["member"] as? [String: Any])?["display_name"] as? String == resident.0.displayName)
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(
                    uri: "/api/choose", method: .post, body: ByteBuffer(string: #"{"token":"\#(token)","venue":"library"}"#))
                #expect(r.status == .ok)
                #expect(try json(r.body)["venue"] as? String == "library")
            }
            do {
                let r = try await client.execute(
                    uri: "/api/choose", method: .post, body: ByteBuffer(string: #"{"token":"\#(token)","venue":"library"}"#))
                #expect(r.status == .gone, "a token works once")
            }
        }
        let decision = try #require(await iterator.next())
        #expect(decision.name == "decision")
        #expect(decision.data.contains("\"venue\":\"library\""))
        #expect(decision.data.contains("\"voice\":null"))
    }

    @Test("junk from a scanner shows invalid_code on screen and records nothing")
    func junk() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let stream = await h.events.subscribe()
        var iterator = stream.makeAsyncIterator()
        await h.coordinator.junk(reason: "control characters", scanner: "lobby")
        let event = try #require(await iterator.next())
        #expect(event.name == "invalid" && event.data.contains("invalid_code"))
        #expect(try h.kiosk.database.verify().eventCount == 0)
    }

    @Test("the screen and its files are served; a missing file is 404")
    func assets() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(uri: "/", method: .get)
                #expect(r.status == .ok)
                #expect(String(buffer: r.body).contains("<html"))
            }
            do {
                let r = try await client.execute(uri: "/assets/app.js", method: .get)
                #expect(r.status == .ok)
            }
            do {
                let r = try await client.execute(uri: "/assets/nope.js", method: .get)
                #expect(r.status == .notFound)
            }
        }
    }

    @Test("demo routes work only in demo mode and go through the scan path")
    func demo() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let stream = await h.events.subscribe()
        var iterator = stream.makeAsyncIterator()
        try await h.app.test(.router) { client in
            do {
                let r = try await client.execute(uri: "/api/demo/code", method: .get)
                #expect(((try json(r.body))["code"] as? String)?.hasPrefix("JY1:") == true)
            }
            do {
                let r = try await client.execute(uri: "/api/demo/scan", method: .post)
                #expect(r.status == .ok)
            }
        }
        let event = try #require(await iterator.next())
        #expect(["scan", "decision", "invalid"].contains(event.name))
    }
}

@Suite("Voice prompts", .blocking)
struct VoiceTests {
    @Test("a sentence is synthesised once with espeak-ng (Mandarin) and served as WAV; unknown prompts are 404")
    func voice() async throws {
        let dir = TemporaryDirectory("voice")
        defer { dir.remove() }
        let cache = VoiceCache(directory: dir.path)
        let url = cache.url(for: "欢迎来到健身房")
        #expect(url.hasPrefix("/api/voice/") && url.hasSuffix(".wav"))
        #expect(cache.url(for: "欢迎来到健身房") == url, "one file per distinct sentence")
        let key = String(url.dropFirst("/api/voice/".count).dropLast(4))
        let wav = try #require(try cache.wav(key: key))
        #expect(wav.count > 1000)
        #expect(Array(wav.prefix(4)) == Array("RIFF".utf8) && Array(wav[8..<12]) == Array("WAVE".utf8))
        let file = dir.path + "/\(key).wav"
        let created = try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date
        _ = try cache.wav(key: key)
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date == created, "served from the cache")
        #expect(try cache.wav(key: String(repeating: "0", count: 24)) == nil)
        #expect(try cache.wav(key: "../../etc/passwd") == nil)
    }
}
