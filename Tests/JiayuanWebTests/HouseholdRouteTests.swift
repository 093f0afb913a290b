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

/// `POST /api/checkin` with a guardian's card (issue 16), on a real loopback server.
@Suite("Household check-in through the API", .blocking, .timeLimit(.minutes(2)))
struct HouseholdRouteTests {
    /// A demo guardian with two or more children, and their cards.
    static func family(_ h: GuessingHarness) throws -> (guardian: IssuedCard, children: [MemberID]) {
        for (member, card) in h.demo where member.group != .child && member.active {
            let wards = h.demo.filter { $0.0.guardians.contains(member.id) && $0.0.active }.map(\.0.id)
            if wards.count >= 2 { return (card, wards.sorted { $0.number < $1.number }) }
        }
        let (member, card) = try #require(h.demo.first { m in h.demo.contains { $0.0.guardians.contains(m.0.id) } })
        return (card, h.demo.filter { $0.0.guardians.contains(member.id) }.map(\.0.id).sorted { $0.number < $1.number })
    }

    static func post(_ client: some TestClientProtocol, _ json: String, uri: String = "/api/checkin") async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        let r = try await client.execute(
            uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
        return (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any]) ?? [:])
    }

    static func field(_ o: [String: Any], _ key: String) -> [String?] {
        (o["decisions"] as? [[String: Any]] ?? []).map { $0[key] as? String }
    }

    @Test(
        "a guardian's card without children answers choose_children and checks nobody in; with children it answers {pickup_code, decisions}"
    )
    func dropOffAndSlip() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let (guardian, children) = try Self.family(h)
        let before = try h.eventCount()
        try await h.app.test(.live) { client in
            let (s1, choose) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"kids"}"#)
            #expect(s1 == .ok)
            let list = try #require(choose["choose_children"] as? [[String: Any]], "\(choose)")
            #expect(Set(list.compactMap { $0["id"] as? String }) == Set(children.map(\.description)))
            #expect(try h.eventCount() == before, "nobody checked in")

            let (s2, dropped) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"kids","children":"all"}"#)
            #expect(s2 == .ok)
            let code = try #require(dropped["pickup_code"] as? String, "\(dropped)")
            #expect(Self.field(dropped, "outcome") == children.map { _ in "accepted" })
            #expect(try h.eventCount() == before + Int64(children.count))

            h.clock.advance(3 * 3600)
            let (s3, out) = try await Self.post(client, #"{"code":"JYK:\#(code)","venue":"kids"}"#)
            #expect(s3 == .ok)
            #expect(Self.field(out, "direction") == children.map { _ in "out" })
            #expect(Self.field(out, "outcome") == children.map { _ in "accepted" })
        }
    }

    @Test("named children as a list; someone else's child is refused by a not_eligible decision without a name")
    func namedChildren() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let (guardian, children) = try Self.family(h)
        let notMine = try #require(h.children.first { !children.contains($0.0.id) }).0.id
        try await h.app.test(.live) { client in
            let (status, o) = try await Self.post(
                client, #"{"code":"\#(guardian.code)","venue":"kids","children":["\#(children[0])","\#(notMine)"]}"#)
            #expect(status == .ok)
            #expect(Self.field(o, "reason") == [nil, "not_eligible"])
            let member = (o["decisions"] as? [[String: Any]])?[1]["member"] as? [String: Any]
            #expect(member?["id"] as? String == notMine.description && member?["display_name"] as? String == "—")
            let (bad, _) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"kids","children":["bob"]}"#)
            #expect(bad == .badRequest)
            let (gym, _) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"gym","children":"all"}"#)
            #expect(gym == .badRequest, "household check-in is only for guardian-code venues")
        }
    }

    @Test("wrong codes typed with a guardian's card count toward the pickup lock: the sixth is refused with 429")
    func wrongCodesLock() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let (guardian, _) = try Self.family(h)
        let wrong = GuessingHarness.wrongCodes(6, length: 6, avoiding: [])
        try await h.app.test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            for code in wrong {
                let (status, o) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"kids","guardian_code":"\#(code)"}"#)
                statuses.append(status)
                if status == .ok { #expect(Self.field(o, "reason") == ["guardian_code_required"]) }
            }
            #expect(statuses == [.ok, .ok, .ok, .ok, .ok, .tooManyRequests])
        }
        #expect(try h.kiosk.database.openAlerts().contains { $0.kind == "pickup_locked" })
    }

    @Test(
        "the screen's path: the guardian's scan offers the club, the choice lists the children, /api/children drops them off, /api/pickup with the typed code collects them"
    )
    func screenPath() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let (guardian, children) = try Self.family(h)
        let reader = ScreenEventReader(await h.events.subscribe())
        let next = reader.next
        await h.coordinator.scan(guardian.code, scanner: "lobby", venue: nil)
        let scan = try await next("scan")
        let kids = try #require((scan["venues"] as? [[String: Any]])?.first { $0["id"] as? String == "kids" })
        #expect(kids["allowed"] as? Bool == true && kids["household"] as? Bool == true)
        let scanToken = try #require(scan["token"] as? String)
        try await h.app.test(.live) { client in
            let (s1, chose) = try await Self.post(client, #"{"token":"\#(scanToken)","venue":"kids"}"#, uri: "/api/choose")
            #expect(s1 == .ok && chose["choose_children"] != nil, "\(chose)")
            let offer = try await next("children")
            let token = try #require(offer["token"] as? String)
            let offered = (offer["children"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(Set(offered) == Set(children.map(\.description)))
            let ids = children.map { "\"\($0)\"" }.joined(separator: ",")
            let (s2, dropped) = try await Self.post(client, #"{"token":"\#(token)","children":[\#(ids)]}"#, uri: "/api/children")
            #expect(s2 == .ok)
            let code = try #require(dropped["pickup_code"] as? String)
            let broadcast = try await next("household")
            #expect(broadcast["pickup_code"] as? String == code)
            let (again, _) = try await Self.post(client, #"{"token":"\#(token)","children":[\#(ids)]}"#, uri: "/api/children")
            #expect(again == .gone, "a token is used once")

            h.clock.advance(3 * 3600)
            await h.coordinator.scan(guardian.code, scanner: "lobby", venue: nil)
            // The club now lists the children as inside; the pad sends the code typed.
            let scan2 = try await next("scan")
            let token2 = try #require(scan2["token"] as? String)
            _ = try await Self.post(client, #"{"token":"\#(token2)","venue":"kids"}"#, uri: "/api/choose")
            let offer2 = try await next("children")
            #expect((offer2["children"] as? [[String: Any]] ?? []).allSatisfy { $0["inside"] as? Bool == true })
            let padToken = try #require(offer2["token"] as? String)
            let (s3, out) = try await Self.post(
                client, #"{"token":"\#(padToken)","code":"\#(code.lowercased())"}"#, uri: "/api/pickup")
            #expect(s3 == .ok)
            #expect(Self.field(out, "direction") == children.map { _ in "out" })
            #expect(Self.field(out, "outcome") == children.map { _ in "accepted" })
        }
    }

    @Test("a guardian whose card was revoked is not offered the club: the scan says revoked, and the API refuses each child")
    func revokedGuardian() async throws {
        let h = try GuessingHarness()
        defer { h.remove() }
        let (guardian, children) = try Self.family(h)
        let holder = try #require(h.demo.first { $0.1.code == guardian.code }).0.id
        _ = try h.kiosk.database.revokeCards(member: holder, keyID: 1, today: h.kiosk.today(), at: h.clock.read())
        let reader = ScreenEventReader(await h.events.subscribe())
        await h.coordinator.scan(guardian.code, scanner: "lobby", venue: nil)
        let invalid = try await reader.next("invalid")
        #expect(invalid["reason"] as? String == "revoked")
        try await h.app.test(.live) { client in
            let (status, o) = try await Self.post(client, #"{"code":"\#(guardian.code)","venue":"kids","children":"all"}"#)
            #expect(status == .ok)
            #expect(Self.field(o, "reason") == children.map { _ in "revoked" })
            #expect(o["pickup_code"] is NSNull)
        }
    }
}

/// The screen's event stream read one named event at a time (only one reader at a time uses it).
final class ScreenEventReader: @unchecked Sendable {
    private var iterator: AsyncStream<ScreenEvent>.Iterator

    init(_ stream: AsyncStream<ScreenEvent>) { iterator = stream.makeAsyncIterator() }

    /// The next event named `name` (others skipped), as a JSON object.
    @Sendable func next(_ name: String) async throws -> [String: Any] {
        while let e = await iterator.next() {
            if e.name == name { return try #require(try JSONSerialization.jsonObject(with: Data(e.data.utf8)) as? [String: Any]) }
        }
        throw KioskError("the stream ended before a \(name) event")
    }
}
