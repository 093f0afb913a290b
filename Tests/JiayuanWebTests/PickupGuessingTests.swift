import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import JiayuanTestSupport
import Logging
import Testing

@testable import JiayuanWeb

/// A demo kiosk on a clock the test moves, two children in the children's club, and its routes.
struct GuessingHarness: @unchecked Sendable {
    let dir = TemporaryDirectory("guessing")
    let clock = MovableClock(Fixtures.at("2026-11-28 10:00"))
    let kiosk: Kiosk
    let demo: [(Member, IssuedCard)]
    let events = KioskEvents()
    let service: CheckInService
    let coordinator: ScanCoordinator
    let router: Router<AppRequestContext>

    init() throws {
        let data = DataDirectory(path: dir.path)
        var rng = SeededRandom(seed: 13)
        demo = try data.initialize(kioskID: "guess-test", demo: true, now: clock.read(), rng: &rng).demoMembers
        let clock = self.clock
        kiosk = try Kiosk.open(data, clock: { clock.read() })
        service = try CheckInService(kiosk: kiosk)
        coordinator = ScanCoordinator(
            kiosk: kiosk, service: service, events: events, voice: nil, logger: Logger(label: "test"))
        router = buildRouter(
            kiosk: kiosk, options: ServeOptions(host: "127.0.0.1", port: 0, assetsPath: ServeOptions.defaultAssetsPath()),
            coordinator: coordinator, events: events, voice: nil, registry: ScannerRegistry())
    }

    /// The routes on a real loopback server.
    var app: some ApplicationProtocol { Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))) }

    var children: [(Member, IssuedCard)] { demo.filter { $0.0.group == .child } }

    /// Checks the first `count` children into the club; returns each with today's pickup code.
    func checkInChildren(_ count: Int) async throws -> [(member: Member, code: String)] {
        var out: [(Member, String)] = []
        for (member, card) in children.prefix(count) {
            let d = try await coordinator.checkIn(code: card.code, venue: "kids", source: "test")
            #expect(d.accepted && d.direction == .in)
            out.append((member, try #require(try pickupCode(of: member))))
        }
        return out
    }

    /// The member's pickup code while inside the club, nil once gone.
    func pickupCode(of member: Member) throws -> String? {
        try kiosk.database.inside(venue: kiosk.venue("kids"), at: clock.read(), policy: kiosk.config.policy)
            .first { $0.member == member.id }?.pickupCode
    }

    func eventCount() throws -> Int64 { try kiosk.database.verify().eventCount }

    /// Well-formed codes of the code's length that are none of `avoiding`.
    static func wrongCodes(_ count: Int, length: Int, avoiding: Set<String>) -> [String] {
        var out: [String] = []
        var n = 0
        let k = PickupCode.alphabet.count
        while out.count < count {
            var digits: [Character] = []
            var rest = n
            for _ in 0..<length {
                digits.append(PickupCode.alphabet[rest % k])
                rest /= k
            }
            let code = String(digits)
            if !avoiding.contains(code) { out.append(code) }
            n += 7
        }
        return out
    }

    func remove() { dir.remove() }
}

/// `POST /api/checkin` with a code at a venue: status and JSON body.
func postCheckIn(_ client: some TestClientProtocol, code: String, venue: String = "kids") async throws -> (
    HTTPResponse.Status, [String: Any]
) {
    let body = ByteBuffer(string: #"{"code":"\#(code)","venue":"\#(venue)"}"#)
    let r = try await client.execute(uri: "/api/checkin", method: .post, headers: [.contentType: "application/json"], body: body)
    return (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]) ?? [:])
}

/// Issue 13, item 1: children's pickup codes cannot be guessed.
@Suite("Pickup codes cannot be guessed", .blocking)
struct PickupGuessingTests {
    @Test(
        "five wrong pickup codes through POST /api/checkin lock slip check-outs: 429, no event, one alert; staff still check out; after 15 minutes the slip works"
    )
    func guessingThroughTheAPI() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let inside = try await h.checkInChildren(2)
        h.clock.advance(5 * 60)
        let before = try h.eventCount()
        let codes = Set(inside.map(\.code))
        let wrong = GuessingHarness.wrongCodes(30, length: inside[0].code.count, avoiding: codes)
        try await h.app.test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            for code in wrong {
                let (status, body) = try await postCheckIn(client, code: "JYK:" + code)
                statuses.append(status)
                if status == .ok {
                    #expect(body["reason"] as? String == "invalid_code")
                    #expect(body["member"] is NSNull)
                } else {
                    #expect(status == .tooManyRequests)
                    #expect(body["error"] is String && body.count == 1, "a plain JSON error: \(body)")
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .ok }, "the first five wrong codes are answered as wrong codes")
            #expect(statuses.dropFirst(5).allSatisfy { $0 == .tooManyRequests }, "then the venue is locked: \(statuses)")
            // During the lock even the right code is refused, and nothing is recorded.
            let (status, _) = try await postCheckIn(client, code: "JYK:" + inside[0].code)
            #expect(status == .tooManyRequests)
        }
        #expect(try h.pickupCode(of: inside[0].member) != nil, "the right code during the lock took no child out")
        #expect(try h.eventCount() == before + 5, "only the five counted guesses are in the log")
        let alerts = try h.kiosk.database.openAlerts().filter { $0.kind == "pickup_locked" }
        #expect(alerts.count == 1 && alerts.first?.venue == "kids", "one alert for staff")

        // Staff on the floor still check a child out with the guardian's code.
        var rng = SystemRandomNumberGenerator()
        let staff = try h.kiosk.database.addStaff(
            name: "王芳", role: .desk, pinHash: try PINHash.make("204719", using: &rng), by: nil, at: h.clock.read())
        let desk = StaffDesk(service: h.service)
        let out = try desk.checkInOnBehalf(member: inside[1].member.id, venue: "kids", guardianCode: inside[1].code, staff: staff)
        #expect(out.accepted && out.direction == .out)

        // Fifteen minutes later the slip works again.
        h.clock.advance(15 * 60)
        try await h.app.test(.live) { client in
            let (status, body) = try await postCheckIn(client, code: "JYK:" + inside[0].code)
            #expect(status == .ok)
            #expect(body["outcome"] as? String == "accepted" && body["direction"] as? String == "out")
        }
        #expect(try h.pickupCode(of: inside[0].member) == nil)
    }

    @Test("a pickup slip read during the minimum stay answers exactly like a wrong code")
    func minimumStayConfirmsNothing() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let inside = try await h.checkInChildren(1)
        h.clock.advance(20)
        let wrong = GuessingHarness.wrongCodes(1, length: inside[0].code.count, avoiding: [inside[0].code])[0]
        try await h.app.test(.live) { client in
            let (s1, right) = try await postCheckIn(client, code: "JYK:" + inside[0].code)
            let (s2, other) = try await postCheckIn(client, code: "JYK:" + wrong)
            #expect(s1 == .ok && s2 == .ok)
            for key in ["outcome", "direction", "reason", "repeat", "venue"] {
                #expect("\(right[key] ?? "")" == "\(other[key] ?? "")", "\(key): \(right[key] ?? "") vs \(other[key] ?? "")")
            }
            #expect(right["member"] is NSNull, "no name for a code read during the minimum stay")
            #expect((right["message"] as? [String: String]) == (other["message"] as? [String: String]))
            #expect(right["reason"] as? String == "invalid_code")
        }
        #expect(try h.pickupCode(of: inside[0].member) != nil, "the child is still inside")
    }

    @Test("wrong pickup codes count whatever their source: a bound scanner, an unbound scanner and the API share one count")
    func everySourceCounts() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let inside = try await h.checkInChildren(1)
        h.clock.advance(5 * 60)
        let wrong = GuessingHarness.wrongCodes(6, length: inside[0].code.count, avoiding: [inside[0].code])
        let screen = await h.events.subscribe()
        await h.coordinator.scan("JYK:" + wrong[0], scanner: "club door", venue: "kids")
        await h.coordinator.scan("JYK:" + wrong[1], scanner: "club door", venue: "kids")
        await h.coordinator.scan("JYK:" + wrong[2], scanner: "lobby", venue: nil)
        await h.coordinator.scan("jyk:" + wrong[3].lowercased(), scanner: "lobby", venue: nil)
        try await h.app.test(.live) { client in
            let (status, _) = try await postCheckIn(client, code: "JYK:" + wrong[4])
            #expect(status == .ok, "the fifth wrong code is still answered")
            let (locked, _) = try await postCheckIn(client, code: "JYK:" + inside[0].code)
            #expect(locked == .tooManyRequests, "five wrong codes from three sources lock the club")
        }
        // A scanner during the lock: nothing recorded, the screen says to ask staff.
        let before = try h.eventCount()
        await h.coordinator.scan("JYK:" + inside[0].code, scanner: "club door", venue: "kids")
        #expect(try h.eventCount() == before)
        #expect(try h.pickupCode(of: inside[0].member) != nil)
        // Everything published so far is buffered in the subscription; ending it lets the loop finish.
        await h.events.finishAll()
        var sawLock = false
        for await event in screen where event.name == "invalid" && event.data.contains("\"reason\":\"pickup_locked\"") {
            sawLock = event.data.contains("工作人员") && event.data.contains("staff")
        }
        #expect(sawLock, "the screen tells the guardian to ask staff")
    }
}
