import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

/// Card keys between desks: weak keys, fingerprints and confirmation, revocations (issue 13, item 2).
@Suite("jiayuan card trust: keys and revocations", .blocking)
struct CardTrustCLITests {
    /// Writes `text` as `name` in the kiosk's folder and returns the path.
    func write(_ text: String, _ name: String, in kiosk: TestKiosk) throws -> String {
        let path = kiosk.path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A card code for `member` signed with `key` (the desk key file of a kiosk), with any serial and dates.
    func sign(
        _ key: CardSigningKey, member: UInt32, serial: UInt16, issued: CivilDate,
        validUntil: CivilDate = CivilDate(year: 2030, month: 1, day: 1)
    ) throws -> String {
        try key.sign(
            CardPayload(
                keyID: key.keyID, member: member, serial: serial, issued: UInt16(issued.cardDay), validUntil: UInt16(validUntil.cardDay)))
    }

    func deskKey(_ kiosk: TestKiosk) throws -> CardSigningKey {
        try #require(CardSigningKey(fileText: try String(contentsOfFile: kiosk.signingKeyPath, encoding: .utf8)))
    }

    /// The first `count` elder members of a demo kiosk (all may use the library).
    func elders(_ kiosk: TestKiosk, _ count: Int) throws -> [String] {
        Array(try kiosk.memberLines(group: "elder").compactMap { $0.split(separator: " ").first.map(String.init) }.prefix(count))
    }

    @Test("card trust refuses the small-order key of the attack with a plain reason; a stored one verifies no forged card")
    func smallOrderKey() throws {
        let kiosk = try TestKiosk.demo()
        defer { kiosk.remove() }
        let before = try kiosk.run("card", "keys", "--json").stdout
        let identity = Data([1] + [UInt8](repeating: 0, count: 31)).base64EncodedString()
        let file = try write("{\"keys\":[{\"id\":9,\"public\":\"\(identity)\"}]}", "attack.json", in: kiosk)
        let refused = try kiosk.run("card", "trust", file, "--yes")
        #expect(isOneLineError(refused), "exit \(refused.status), stderr: \(refused.stderr)")
        #expect(refused.stderr.contains("small-order"), "\(refused.stderr)")
        #expect(try kiosk.run("card", "keys", "--json").stdout == before, "nothing was imported")
        // Other weak keys: a point of order 8, and a non-canonical spelling (y ≥ p).
        let order8 = Data(Ed25519Checks.smallOrderEncodings[4]).base64EncodedString()
        let r8 = try kiosk.run(
            "card", "trust", try write("{\"keys\":[{\"id\":9,\"public\":\"\(order8)\"}]}", "o8.json", in: kiosk), "--yes")
        #expect(isOneLineError(r8) && r8.stderr.contains("small-order"), "\(r8.stderr)")
        var nonCanonical = [UInt8](repeating: 0xFF, count: 32)
        nonCanonical[0] = 0xF0
        nonCanonical[31] = 0x7F
        let nc = Data(nonCanonical).base64EncodedString()
        let rnc = try kiosk.run("card", "trust", try write("{\"keys\":[{\"id\":9,\"public\":\"\(nc)\"}]}", "nc.json", in: kiosk), "--yes")
        #expect(isOneLineError(rnc) && rnc.stderr.contains("canonical"), "\(rnc.stderr)")

        // The attack end to end, with the key planted in trusted-keys.json as the old `card trust` stored it:
        // R = identity, S = 0 for M000001 under key 9.
        try Data("{\"keys\":[{\"id\":9,\"public\":\"\(identity)\"}]}\n".utf8).write(
            to: URL(fileURLWithPath: kiosk.path + "/keys/trusted-keys.json"))
        let payload = CardPayload(keyID: 9, member: 1, serial: 1, issued: 1062, validUntil: 3000)
        let forged = CardCode.prefix + Base32.encode(payload.bytes + [1] + [UInt8](repeating: 0, count: 63))
        let result = try kiosk.checkin(forged, venue: "library", at: at("10:00"))
        #expect(result.status == 3, "\(result.summary)")
        #expect(result.reason == "bad_signature", "\(result.summary)")
    }

    @Test("new keys show their fingerprints and need a terminal's yes or --yes; without either it is a usage error")
    func confirmation() throws {
        let desk1 = try TestKiosk.demo()
        defer { desk1.remove() }
        let desk2 = try TestKiosk.plain("--key-id", "2")
        defer { desk2.remove() }
        let keys1 = try desk1.run("card", "keys")
        #expect(keys1.status == 0)
        let fingerprint = try #require(keys1.stdout.firstMatch(of: /fingerprint ((?:[0-9a-f]{4} ){7}[0-9a-f]{4})/)).1
        let file = try write(try desk1.run("card", "keys", "--json").stdout, "desk1.json", in: desk2)
        let before = try desk2.run("card", "keys", "--json").stdout

        let noTerminal = try desk2.run(["card", "trust", file], stdin: Data("y\n".utf8))
        #expect(noTerminal.status == 64, "a pipe is not a terminal: \(noTerminal.stderr)")
        #expect(noTerminal.stderr.contains("--yes"), "\(noTerminal.stderr)")
        #expect(try desk2.run("card", "keys", "--json").stdout == before, "nothing was imported")

        let yes = try desk2.run("card", "trust", file, "--yes")
        #expect(yes.status == 0, "\(yes.stderr)")
        #expect(yes.stdout.contains("new key 1: fingerprint \(fingerprint)"), "\(yes.stdout)")
        #expect(try desk2.run("card", "keys").stdout.contains("key 1: ") && desk2.run("card", "keys").stdout.contains(String(fingerprint)))
        // Nothing new: no question, no --yes needed.
        #expect(try desk2.run(["card", "trust", file], stdin: Data()).status == 0)
    }

    @Test("a peer desk's card issued before this desk's own issue is void whatever its serial; the same day's is not")
    func peerCardAboveLocalSerial() throws {
        let desk1 = try TestKiosk.demo()
        defer { desk1.remove() }
        let desk2 = try TestKiosk.plain("--demo", "--key-id", "2")
        defer { desk2.remove() }
        #expect(
            try desk2.run("card", "trust", try write(try desk1.run("card", "keys", "--json").stdout, "d1.json", in: desk2), "--yes").status
                == 0)
        let key1 = try deskKey(desk1)
        let members = try elders(desk2, 2)
        let number = { (id: String) in UInt32(id.dropFirst())! }
        // Desk 1's card for the first member, serial 5, issued a month ago: desk 2 re-issued the member's card
        // since (at init, today), serial 1 there. The old rule compared serials across desks and let it in.
        let old = try sign(key1, member: number(members[0]), serial: 5, issued: CivilDate(year: 2026, month: 11, day: 1))
        let refused = try desk2.checkin(old, venue: "library", at: at("10:00"))
        #expect(refused.status == 3 && refused.reason == "revoked", "\(refused.summary)")
        // Desk 1's card issued today (the same day as desk 2's) is not voided by it.
        let today = try desk1.card(members[1])
        let accepted = try desk2.checkin(today, venue: "library", at: at("10:01"))
        #expect(accepted.status == 0 && accepted.outcome == "accepted", "\(accepted.summary)")
    }

    @Test("a card under this desk's key with a serial it never issued is refused (restored database, stolen key)")
    func ownKeyAboveHighestSerial() throws {
        let desk = try TestKiosk.demo()
        defer { desk.remove() }
        let member = try #require(try elders(desk, 1).first)
        let current = try desk.checkin(try desk.card(member), venue: "library", at: at("10:00"))
        #expect(current.status == 0, "\(current.summary)")
        let never = try sign(
            try deskKey(desk), member: UInt32(member.dropFirst())!, serial: 7, issued: CivilDate(year: 2026, month: 11, day: 20))
        let refused = try desk.checkin(never, venue: "library", at: at("11:00"))
        #expect(refused.status == 3 && refused.reason == "revoked", "\(refused.summary)")
    }

    @Test("card revoke and re-issues at one desk travel in card keys --json and withdraw the cards at the other")
    func revocationsTravel() throws {
        let desk1 = try TestKiosk.demo()
        defer { desk1.remove() }
        let desk2 = try TestKiosk.plain("--demo", "--key-id", "2")
        defer { desk2.remove() }
        let members = try elders(desk1, 3)
        let withdrawn = try desk1.card(members[0])
        let reissuedOld = try desk1.card(members[1])
        let untouched = try desk1.card(members[2])
        let desk2Own = try desk2.card(members[0])
        #expect(
            try desk2.run("card", "trust", try write(try desk1.run("card", "keys", "--json").stdout, "d1.json", in: desk2), "--yes").status
                == 0)

        let revoke = try desk1.run("card", "revoke", members[0])
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(try desk1.run("card", "issue", members[1]).status == 0)
        let exported = try desk1.run("card", "keys", "--json").stdout
        #expect(exported.contains("{\"member\":\"\(members[0])\",\"key\":1,\"serial\":1}"), "\(exported.prefix(400))")
        #expect(exported.contains("{\"member\":\"\(members[1])\",\"key\":1,\"below\":2}"))
        // Trusting the same keys again imports the new revocations without asking.
        let again = try desk2.run(["card", "trust", try write(exported, "d1-later.json", in: desk2)], stdin: Data())
        #expect(again.status == 0, "\(again.stderr)")

        for (code, what) in [(withdrawn, "withdrawn"), (reissuedOld, "re-issued"), (desk2Own, "desk 2's own card of the withdrawn member")]
        {
            let r = try desk2.checkin(code, venue: "library", at: at("10:00"))
            #expect(r.status == 3 && r.reason == "revoked", "\(what): \(r.summary)")
        }
        let fine = try desk2.checkin(untouched, venue: "library", at: at("10:05"))
        #expect(fine.status == 0, "\(fine.summary)")
        // A revocation by a key the file does not carry is refused, and nothing is imported.
        let stray = "{\"keys\":[],\"revocations\":[{\"member\":\"\(members[2])\",\"key\":7,\"serial\":1}]}"
        let r = try desk2.run(["card", "trust", try write(stray, "stray.json", in: desk2)], stdin: Data())
        #expect(isOneLineError(r), "\(r.stderr)")
        #expect(try desk2.checkin(untouched, venue: "library", at: at("10:30")).status == 0)
    }
}
