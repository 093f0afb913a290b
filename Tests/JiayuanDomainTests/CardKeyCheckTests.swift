import Crypto
import Foundation
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain

/// Hex text to bytes (test helper).
private func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        out.append(UInt8(s[i..<j], radix: 16)!)
        i = j
    }
    return out
}

/// A card code for `payload` with an arbitrary 64-byte signature (no signing key needed).
private func forgedCode(_ payload: CardPayload, signature: [UInt8]) -> String {
    CardCode.prefix + Base32.encode(payload.bytes + signature)
}

@Suite("Ed25519 key and signature checks (issue 13, item 2)")
struct CardKeyCheckTests {
    let identity = hex("0100000000000000000000000000000000000000000000000000000000000000")
    let payload = CardPayload(keyID: 9, member: 1, serial: 1, issued: 1062, validUntil: 2000)

    @Test("a small-order key (the identity) with R = identity, S = 0 does not verify any card")
    func identityKeyForgery() throws {
        // The attack of issue 13: key id 9 = 01 00…00, signature R = identity, S = 0. Cofactorless
        // verification computes [S]B − [h]A = O − O = O, whose encoding is R, so BoringSSL accepts it.
        var ring = CardKeyring()
        ring[9] = try Curve25519.Signing.PublicKey(rawRepresentation: identity)
        let code = forgedCode(payload, signature: identity + [UInt8](repeating: 0, count: 32))
        // The library alone accepts it (this is what the old code relied on) ...
        #expect(ring[9]!.isValidSignature(identity + [UInt8](repeating: 0, count: 32), for: payload.signedMessage))
        // ... the checks refuse it.
        #expect(throws: CardReadError.badSignature) { try CardCode.verify(code, keys: ring) }
        // The same forgery under every other small-order key encoding.
        for encoding in Ed25519Checks.smallOrderEncodings {
            var ring = CardKeyring()
            ring[9] = try Curve25519.Signing.PublicKey(rawRepresentation: encoding)
            let forged = forgedCode(payload, signature: identity + [UInt8](repeating: 0, count: 32))
            #expect(throws: CardReadError.badSignature) { try CardCode.verify(forged, keys: ring) }
        }
    }

    @Test("the list holds the 8 small-order points and their non-canonical spellings; honest keys pass")
    func smallOrderList() {
        #expect(Ed25519Checks.smallOrderEncodings.count == 14)
        #expect(Set(Ed25519Checks.smallOrderEncodings.map { $0 }).count == 14)
        for e in Ed25519Checks.smallOrderEncodings {
            #expect(Ed25519Checks.keyProblem(e) != nil, "\(e)")
        }
        #expect(Ed25519Checks.keyProblem(identity) == .smallOrder)
        #expect(Ed25519Checks.keyProblem(Array(Fixtures.signingKey.privateKey.publicKey.rawRepresentation)) == nil)
        for _ in 0..<50 {
            #expect(Ed25519Checks.keyProblem(Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)) == nil)
        }
        #expect(Ed25519Checks.keyProblem([1, 2, 3]) == .wrongLength)
    }

    @Test("an encoding with y ≥ p is non-canonical, whatever the sign bit")
    func canonicalY() {
        // p = 2^255 − 19 little-endian is ed ff … ff 7f; p + 5 and 2^255 − 1 are above it.
        var pPlus5 = [UInt8](repeating: 0xFF, count: 32)
        pPlus5[0] = 0xF2
        pPlus5[31] = 0x7F
        #expect(Ed25519Checks.isCanonical(pPlus5) == false)
        var withSign = pPlus5
        withSign[31] = 0xFF
        #expect(Ed25519Checks.isCanonical(withSign) == false)
        var max = [UInt8](repeating: 0xFF, count: 32)
        max[31] = 0x7F
        #expect(Ed25519Checks.isCanonical(max) == false)
        var pMinus1 = [UInt8](repeating: 0xFF, count: 32)
        pMinus1[0] = 0xEC
        pMinus1[31] = 0x7F
        #expect(Ed25519Checks.isCanonical(pMinus1), "p − 1 is a canonical y (it is small-order, refused by the list)")
        #expect(Ed25519Checks.keyProblem(pPlus5) == .nonCanonical)
    }

    @Test("a signature with S ≥ L, or a small-order R, is refused before any curve arithmetic")
    func signatureChecks() throws {
        let key = Fixtures.signingKey
        let real = CardPayload(keyID: 1, member: 7, serial: 1, issued: 1062, validUntil: 2000)
        let code = try CardCode.make(real, signingKey: key.privateKey)
        let (_, signature) = try CardCode.parse(code)
        #expect(Ed25519Checks.signatureProblem(signature) == nil)
        // S + L is the classic malleated signature: same point equation, different bytes.
        let malleated = Array(signature[0..<32]) + Ed25519Checks.addOrder(Array(signature[32...]))
        #expect(Ed25519Checks.signatureProblem(malleated) == .scalarOutOfRange)
        #expect(throws: CardReadError.badSignature) {
            try CardCode.verify(forgedCode(real, signature: malleated), keys: Fixtures.keyring)
        }
        let smallR = identity + Array(signature[32...])
        #expect(Ed25519Checks.signatureProblem(smallR) == .smallOrder)
        #expect(Ed25519Checks.signatureProblem(Array(signature.prefix(63))) == .wrongLength)
        // L itself is out of range; L − 1 is in range.
        #expect(Ed25519Checks.isScalarInRange(Ed25519Checks.order) == false)
        var lMinus1 = Ed25519Checks.order
        lMinus1[0] -= 1
        #expect(Ed25519Checks.isScalarInRange(lMinus1))
    }
}

@Suite("Card revocations (issue 13, item 2)")
struct CardRevocationTests {
    let member = MemberID(number: 42)!

    func card(key: UInt8, serial: UInt16, issued: CivilDate, member: UInt32 = 42) -> CardPayload {
        CardPayload(keyID: key, member: member, serial: serial, issued: UInt16(issued.cardDay), validUntil: 4000)
    }

    @Test("below and serial void cards of the revoking key only; others_through voids other keys' cards by issue date")
    func rule() {
        let day = CivilDate(year: 2026, month: 12, day: 1)
        let below = CardRevocation(member: member, keyID: 1, scope: .below(3))
        #expect(below.voids(card(key: 1, serial: 2, issued: day)))
        #expect(!below.voids(card(key: 1, serial: 3, issued: day)))
        #expect(!below.voids(card(key: 2, serial: 1, issued: day)), "another desk's serials are its own")
        #expect(!below.voids(card(key: 1, serial: 1, issued: day, member: 43)))
        let single = CardRevocation(member: member, keyID: 1, scope: .serial(4))
        #expect(single.voids(card(key: 1, serial: 4, issued: day)) && !single.voids(card(key: 1, serial: 5, issued: day)))
        let others = CardRevocation(member: member, keyID: 1, scope: .othersIssuedThrough(day))
        #expect(others.voids(card(key: 2, serial: 900, issued: day)), "whatever the serial")
        #expect(others.voids(card(key: 2, serial: 1, issued: day.adding(days: -30))))
        #expect(!others.voids(card(key: 2, serial: 1, issued: day.adding(days: 1))), "a newer card of another desk stands")
        #expect(!others.voids(card(key: 1, serial: 1, issued: day)), "the revoking desk's own cards are not others'")
    }

    @Test("the store's spelling round-trips and refuses unknown kinds and values out of range")
    func spelling() {
        for scope in [CardRevocation.Scope.below(7), .serial(1), .othersIssuedThrough(CivilDate(year: 2026, month: 1, day: 2))] {
            let r = CardRevocation(member: member, keyID: 5, scope: scope)
            let (kind, value) = r.kindAndValue
            #expect(CardRevocation(member: member, keyID: 5, kind: kind, value: value) == r)
        }
        #expect(CardRevocation(member: member, keyID: 5, kind: "all", value: 1) == nil)
        #expect(CardRevocation(member: member, keyID: 5, kind: "below", value: 70000) == nil)
        #expect(CardRevocation(member: member, keyID: 5, kind: "below", value: -1) == nil)
    }
}
