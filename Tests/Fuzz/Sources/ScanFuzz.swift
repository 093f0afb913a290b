import Crypto
import JiayuanDomain

/// Scan text and card codes: `ScanReading.read`, `CardCode.parse`/`verify` and `Base32`.
///
/// Invariants: reading never traps and says what it read only when that is true (a card only with a valid signature
/// of the trusted key, a pickup slip only for `JYK:` text, its code upper-cased without spaces or dashes, a legacy
/// number only of 4–20 digits); base32 has
/// exactly one spelling per byte string (decode then encode gives back the upper-cased text; encode then decode gives
/// back the bytes); a parsed card re-encodes to the text scanned; a card signed here reads back as itself (with white
/// space and in lower case too), and any one changed character makes it unreadable.
enum ScanFuzz {
    static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))
    static let keys: CardKeyring = {
        var k = CardKeyring()
        k[1] = key.publicKey
        return k
    }()

    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        checkReading(text)
        checkBase32(data)
        checkParse(text)
        checkSigned(data)
    }

    static func checkReading(_ text: String) {
        switch ScanReading.read(text, keys: keys) {
        case .card(let payload):
            invariant(payload.version == 1 && payload.keyID == 1, "card read with version \(payload.version) key \(payload.keyID)")
            invariant((try? CardCode.verify(text.trimmingWhitespace(), keys: keys)) == payload, "card read but does not verify")
        case .pickupSlip(let code):
            let trimmed = text.trimmingWhitespace()
            invariant(trimmed.uppercased().hasPrefix(ScanReading.pickupPrefix), "pickup slip from \(text.debugDescription)")
            invariant(
                code == PickupCode.normalized(String(trimmed.dropFirst(ScanReading.pickupPrefix.count))),
                "pickup slip \(code.debugDescription) is not the normalized code")
            invariant(
                !code.contains { $0.isWhitespace || $0 == "-" } && code == code.uppercased(),
                "pickup code \(code.debugDescription) not normalized")
        case .legacyNumber(let number):
            invariant(
                (4...20).contains(number.utf8.count) && number.utf8.allSatisfy { (0x30...0x39).contains($0) },
                "legacy number \(number.debugDescription)")
        case .unreadable:
            break
        }
    }

    static func checkBase32(_ data: [UInt8]) {
        if let decoded = Base32.decode(data) {
            let upper = String(decoding: data, as: UTF8.self).uppercased()
            invariant(Base32.encode(decoded) == upper, "base32 \(upper) has a second spelling")
        }
        invariant(Base32.decode(Array(Base32.encode(data).utf8)) == data, "base32 round trip lost bytes")
    }

    static func checkParse(_ text: String) {
        guard let (payload, signature) = try? CardCode.parse(text) else { return }
        invariant(
            payload.version == 1 && signature.count == 64, "parsed card version \(payload.version), signature \(signature.count) bytes")
        let trimmed = text.utf8.drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        let body = String(decoding: trimmed.reversed().drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }.reversed(), as: UTF8.self)
        invariant(
            CardCode.prefix + Base32.encode(payload.bytes + signature) == body.uppercased(), "parsed card does not re-encode to its text")
    }

    static func checkSigned(_ data: [UInt8]) {
        var input = FuzzBytes(data)
        let head = input.take(12)
        guard head.count == 12, var payload = CardPayload(bytes: head) else { return }
        payload.version = 1
        payload.keyID = 1
        guard let code = try? CardCode.make(payload, signingKey: key) else {
            invariant(false, "signing failed")
            return
        }
        invariant(ScanReading.read(code, keys: keys) == .card(payload), "signed card does not read back")
        invariant(
            ScanReading.read(" \(code.lowercased())\r\n", keys: keys) == .card(payload),
            "lower-case card with white space does not read back")
        var chars = Array(code.utf8)
        let position = 4 + Int(input.byte()) % (chars.count - 4)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        let replacement = alphabet[(alphabet.firstIndex(of: chars[position])! + 1 + Int(input.byte()) % 31) % 32]
        chars[position] = replacement
        let altered = String(decoding: chars, as: UTF8.self)
        if case .card = ScanReading.read(altered, keys: keys) {
            invariant(false, "a card with character \(position) changed still reads as a card")
        }
    }
}
