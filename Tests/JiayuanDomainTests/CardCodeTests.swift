import Crypto
import Foundation
import JiayuanTestSupport
import PropertyBased
import Testing

@testable import JiayuanDomain

@Suite("JY1 card code (DESIGN.md §3.2)")
struct CardCodeTests {
    @Test("base32 follows RFC 4648 test vectors, upper case, no padding")
    func base32Vectors() {
        let vectors = [
            ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded.utf8) == Array(plain.utf8))
        }
        #expect(Base32.decode("MZXW6YQ=".utf8) == nil, "padding is not part of the format")
        #expect(Base32.decode("MZXW6YR".utf8) == nil, "non-zero trailing bits have one spelling only")
        #expect(Base32.decode("M".utf8) == nil, "impossible length")
        #expect(Base32.decode("mzxw6".utf8) == Array("foo".utf8), "lower case from a Caps-Lock scanner is read")
    }

    @Test("payload is 12 big-endian bytes: version, key id, member u32, serial u16, issued u16, valid_until u16")
    func payloadBytes() {
        let p = CardPayload(keyID: 3, member: 123, serial: 2, issued: 0x0102, validUntil: 0x0A0B)
        #expect(p.bytes == [1, 3, 0, 0, 0, 123, 0, 2, 0x01, 0x02, 0x0A, 0x0B])
        #expect(CardPayload(bytes: p.bytes) == p)
        #expect(p.signedMessage == [0x4A, 0x59, 0x31] + p.bytes, "the signature covers ASCII JY1 then the payload")
    }

    @Test("a code is JY1: + base32(payload ‖ Ed25519 signature), byte for byte")
    func codeLayout() throws {
        let key = Fixtures.signingKey
        let payload = CardPayload(
            keyID: 1, member: 42, serial: 1, issued: UInt16(CivilDate(year: 2026, month: 11, day: 28).cardDay),
            validUntil: UInt16(CivilDate(year: 2031, month: 11, day: 27).cardDay))
        let code = try CardCode.make(payload, signingKey: key.privateKey)
        #expect(code.hasPrefix("JY1:"))
        #expect(code.count == 126)
        let body = try #require(Base32.decode(code.dropFirst(4).utf8))
        #expect(body.count == 76)
        #expect(Array(body[0..<12]) == payload.bytes)
        let signature = Array(body[12...])
        #expect(key.privateKey.publicKey.isValidSignature(signature, for: Array("JY1".utf8) + payload.bytes))
        // Every character is in the QR alphanumeric set.
        let alnum = Set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
        #expect(code.allSatisfy { alnum.contains($0) })
        #expect(CivilDate(year: 2026, month: 11, day: 28).cardDay == 1062, "days since 2024-01-01")
    }

    @Test("verification accepts the signed card and names what is wrong with others")
    func verification() throws {
        let code = Fixtures.card(member: 7)
        let payload = try CardCode.verify(code, keys: Fixtures.keyring)
        #expect(payload.member == 7)
        #expect(throws: CardReadError.unknownKey(2)) {
            try CardCode.verify(Fixtures.card(member: 7, key: Fixtures.otherDeskKey), keys: Fixtures.keyring)
        }
        // Change the member number in the payload: the signature no longer matches.
        var body = Base32.decode(code.dropFirst(4).utf8)!
        body[5] ^= 1
        let forged = "JY1:" + Base32.encode(body)
        #expect(throws: CardReadError.badSignature) { try CardCode.verify(forged, keys: Fixtures.keyring) }
        // A signature from another key under our key id.
        var impostor = Fixtures.otherDeskKey
        impostor.keyID = 1
        #expect(throws: CardReadError.badSignature) { try CardCode.verify(Fixtures.card(member: 7, key: impostor), keys: Fixtures.keyring) }
    }

    @Test(
        "damaged texts are invalid_code",
        arguments: [
            "", "JY1:", "JY2:" + String(repeating: "A", count: 122), "JY1:" + String(repeating: "A", count: 121),
            "JY1:" + String(repeating: "A", count: 123), "JY1:" + String(repeating: "1", count: 122),
            "JY1:" + String(repeating: "A", count: 120) + "A=", "hello", "\u{0}\u{1}\u{7F}",
        ])
    func damaged(text: String) {
        #expect(throws: CardReadError.invalidCode) { try CardCode.verify(text, keys: Fixtures.keyring) }
    }

    @Test("a version byte other than 1 is invalid_code even when well-formed")
    func wrongVersion() {
        var bytes = CardPayload(keyID: 1, member: 1, serial: 1, issued: 1, validUntil: 2).bytes
        bytes[0] = 2
        #expect(throws: CardReadError.invalidCode) { try CardCode.parse("JY1:" + Base32.encode(bytes + Array(repeating: 0, count: 64))) }
    }

    @Test("white space around a scan and a lower-case body are tolerated")
    func tolerant() throws {
        let code = Fixtures.card(member: 9)
        #expect(try CardCode.verify("  " + code + "\r\n", keys: Fixtures.keyring).member == 9)
        #expect(try CardCode.verify(code.lowercased(), keys: Fixtures.keyring).member == 9)
    }

    @Test("property: any payload round-trips through make and verify")
    func roundTrip() async {
        await propertyCheck(
            count: 200, input: Gen.int(in: 1...999_999), Gen.int(in: 1...65535), Gen.int(in: 0...30000), Gen.int(in: 0...35000)
        ) { member, serial, issued, extra in
            let payload = CardPayload(
                keyID: 1, member: UInt32(member), serial: UInt16(serial), issued: UInt16(issued),
                validUntil: UInt16(min(65535, issued + extra)))
            let code = try! CardCode.make(payload, signingKey: Fixtures.signingKey.privateKey)
            #expect(code.count == 126)
            #expect((try? CardCode.verify(code, keys: Fixtures.keyring)) == payload)
        }
    }

    @Test("property: arbitrary scanner input never traps and is never accepted as a card")
    func fuzzArbitraryText() async {
        func check(_ s: String) {
            if case .card = ScanReading.read(s, keys: Fixtures.keyring) {
                Issue.record("random text \(s.debugDescription) was accepted as a card")
            }
        }
        await propertyCheck(count: 500, input: Gen.latin1.string(of: 0...200)) { check($0) }
        await propertyCheck(count: 300, input: Gen.character(in: "\u{0}"..."\u{D7FF}").string(of: 0...80)) { check($0) }
        let base32ish = Gen<Character?>.element(of: Array("ABCXYZ234567=a ") as [Character]).map { $0! }
        await propertyCheck(count: 500, input: base32ish.string(of: 118...126)) { check("JY1:" + $0) }
    }

    @Test("property: flipping any bit of a real card's body makes it unusable")
    func fuzzBitFlips() async {
        let code = Fixtures.card(member: 4321)
        let body = Base32.decode(code.dropFirst(4).utf8)!
        await propertyCheck(count: 600, input: Gen.int(in: 0..<(76 * 8))) { bit in
            var b = body
            b[bit / 8] ^= UInt8(1 << (bit % 8))
            let reading = ScanReading.read("JY1:" + Base32.encode(b), keys: Fixtures.keyring)
            #expect(reading != .card(try! CardCode.parse(code).payload))
            if case .card = reading { Issue.record("bit \(bit) flipped and still verified") }
        }
    }

    @Test("scanner texts over 512 bytes are refused before parsing")
    func overlong() {
        let huge = String(repeating: "JY1:", count: 2560)
        #expect(ScanReading.read(huge, keys: Fixtures.keyring) == .unreadable(.invalidCode))
    }
}
