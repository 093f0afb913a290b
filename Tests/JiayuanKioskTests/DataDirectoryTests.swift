import Crypto
import Foundation
import JiayuanDomain
import JiayuanStore
import JiayuanTestSupport
import Testing

@testable import JiayuanKiosk

@Suite("Data directory and demo", .blocking)
struct DataDirectoryTests {
    @Test("init --demo: config, WAL database, a 0600 key, ~200 members of every group each with a working card")
    func demo() throws {
        let dir = TemporaryDirectory("kit")
        defer { dir.remove() }
        let data = DataDirectory(path: dir.path)
        var rng = SeededRandom(seed: 1)
        let now = Fixtures.at("2026-11-28 10:00")
        let result = try data.initialize(kioskID: "desk-1", demo: true, now: now, rng: &rng)
        #expect(result.demoMembers.count == 200)
        #expect(Set(result.demoMembers.map(\.0.group)) == Set(MemberGroup.allCases))
        #expect(result.demoMembers.allSatisfy { m, _ in m.name.unicodeScalars.first!.value >= 0x4E00 })
        #expect(result.demoMembers.filter { $0.0.group == .child }.allSatisfy { !$0.0.guardians.isEmpty })
        let attributes = try FileManager.default.attributesOfItem(atPath: data.signingKeyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let kiosk = try Kiosk.open(data, clock: { now })
        let service = try CheckInService(kiosk: kiosk)
        // Every demo card verifies; each member checks in where their group is welcome.
        for (member, card) in result.demoMembers {
            let venue: String =
                switch member.group {
                case .elder: "daycare"
                case .child: "kids"
                case .veteran, .serviceman, .militaryFamily: "veterans"
                case .resident: "library"
                }
            let d = try service.checkIn(code: card.code, venue: venue, at: now)
            if venue == "veterans" || venue == "library" || venue == "daycare" || venue == "kids" {
                #expect(d.reason == nil || d.reason == .full, "\(member.id) at \(venue): \(d.reason?.rawValue ?? "")")
            }
        }
        // The first five veterans' legacy cards work at the veterans' corner only.
        #expect(try service.checkIn(code: "20190002", venue: "veterans", at: now.addingTimeInterval(3600)).accepted)
        #expect(try service.checkIn(code: "20190003", venue: "library", at: now).reason == .invalidCode)
        #expect(throws: KioskError.self) { try data.initialize(kioskID: "again", demo: false, now: now, rng: &rng) }
    }

    @Test("a broken or missing config stops with the file and line")
    func brokenConfig() throws {
        let dir = TemporaryDirectory("kit")
        defer { dir.remove() }
        let data = DataDirectory(path: dir.path)
        #expect(throws: KioskError.self) { try Kiosk.open(data) }
        var rng = SeededRandom(seed: 1)
        _ = try data.initialize(kioskID: "desk-1", demo: false, now: Date(), rng: &rng)
        let text = try String(contentsOfFile: data.configPath, encoding: .utf8).replacingOccurrences(
            of: "capacity = 50", with: "capacity = fifty")
        try text.write(toFile: data.configPath, atomically: true, encoding: .utf8)
        do {
            _ = try Kiosk.open(data)
            Issue.record("opened with a broken config")
        } catch let error as ConfigError {
            let line = text.components(separatedBy: "\n").firstIndex { $0.contains("capacity = fifty") }! + 1
            #expect(error.file == data.configPath && error.line == line)
        }
        try Data([0xFF, 0xFE, 0x00]).write(to: URL(fileURLWithPath: data.configPath))
        #expect(throws: ConfigError.self) { try Kiosk.open(data) }
    }

    @Test("card keys: a second desk verifies cards only after trusting the first desk's key")
    func trust() throws {
        let a = TemporaryDirectory("deskA"), b = TemporaryDirectory("deskB")
        defer { a.remove(); b.remove() }
        var rng = SeededRandom(seed: 1)
        let now = Fixtures.at("2026-11-28 10:00")
        let deskA = DataDirectory(path: a.path), deskB = DataDirectory(path: b.path)
        let demo = try deskA.initialize(kioskID: "a", keyID: 1, demo: true, now: now, rng: &rng)
        _ = try deskB.initialize(kioskID: "b", keyID: 2, demo: false, now: now, rng: &rng)
        let code = demo.demoMembers[0].1.code
        let kioskB = try Kiosk.open(deskB, clock: { now })
        #expect(try CheckInService(kiosk: kioskB).checkIn(code: code, venue: "main", at: now).reason == .unknownKey)
        let exported = PublicKeyEntry.listJSON([try deskA.loadSigningKey().publicEntry])
        #expect(try deskB.trust(PublicKeyEntry.parseList(Data(exported.utf8), source: "a.json")) == 1)
        #expect(try CheckInService(kiosk: kioskB).checkIn(code: code, venue: "main", at: now + 10).reason == .unknownMember)
        // The same id bound to another key is refused.
        let clash = PublicKeyEntry.listJSON([PublicKeyEntry(id: 1, key: Fixtures.otherDeskKey.privateKey.publicKey)])
        #expect(throws: CardTrustError.conflictingKey(id: 1)) {
            try deskB.trust(PublicKeyEntry.parseList(Data(clash.utf8), source: "x.json"))
        }
        // A small-order key is refused by trust itself, whatever parsed it.
        let weak = PublicKeyEntry(id: 9, key: try Curve25519.Signing.PublicKey(rawRepresentation: [1] + [UInt8](repeating: 0, count: 31)))
        #expect(throws: CardTrustError.weakKey(file: "the key list", id: 9, problem: .smallOrder)) { try deskB.trust([weak]) }
    }
}
