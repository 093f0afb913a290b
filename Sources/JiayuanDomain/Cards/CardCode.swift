import Crypto
import Foundation

/// The 12-byte signed content of a `JY1` card (DESIGN.md §3.2), big-endian on the wire.
public struct CardPayload: Hashable, Sendable {
    /// Format version; always 1 for `JY1`.
    public var version: UInt8 = 1
    /// Which signing key made the card.
    public var keyID: UInt8
    /// The digits of the member id (`M000123` → 123).
    public var member: UInt32
    /// The card serial; a re-issue increments it.
    public var serial: UInt16
    /// Issue date in days since 2024-01-01.
    public var issued: UInt16
    /// Last valid date in days since 2024-01-01.
    public var validUntil: UInt16

    /// Creates a payload.
    public init(keyID: UInt8, member: UInt32, serial: UInt16, issued: UInt16, validUntil: UInt16) {
        self.keyID = keyID
        self.member = member
        self.serial = serial
        self.issued = issued
        self.validUntil = validUntil
    }

    /// The 12 wire bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = [version, keyID]
        out += withUnsafeBytes(of: member.bigEndian, Array.init)
        out += withUnsafeBytes(of: serial.bigEndian, Array.init)
        out += withUnsafeBytes(of: issued.bigEndian, Array.init)
        out += withUnsafeBytes(of: validUntil.bigEndian, Array.init)
        return out
    }

    /// Reads 12 wire bytes (the version byte is kept as read; the caller checks it).
    public init?(bytes b: some Collection<UInt8>) {
        let a = Array(b)
        guard a.count == 12 else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(a[i]) << 8 | UInt16(a[i + 1]) }
        version = a[0]
        keyID = a[1]
        member = UInt32(a[2]) << 24 | UInt32(a[3]) << 16 | UInt32(a[4]) << 8 | UInt32(a[5])
        serial = u16(6)
        issued = u16(8)
        validUntil = u16(10)
    }

    /// The bytes the Ed25519 signature covers: ASCII `JY1` then the payload.
    public var signedMessage: [UInt8] { Array("JY1".utf8) + bytes }
}

/// Why a scanned text is not a usable card before any member is looked up.
public enum CardReadError: Error, Hashable, Sendable {
    /// Not a `JY1` code at all, or damaged (wrong length, bad characters, unknown version).
    case invalidCode
    /// Signed by a key id this kiosk does not hold.
    case unknownKey(UInt8)
    /// The signature does not match the payload (forged or altered).
    case badSignature

    /// The denial reason code of DESIGN.md §3.3.
    public var reason: DenialReason {
        switch self {
        case .invalidCode: .invalidCode
        case .unknownKey: .unknownKey
        case .badSignature: .badSignature
        }
    }
}

/// The `JY1` card code: `JY1:` + base32(payload ‖ Ed25519 signature).
public enum CardCode {
    /// The prefix of every card code.
    public static let prefix = "JY1:"
    /// Length of the base32 part: 76 bytes → 122 characters.
    public static let bodyLength = 122
    /// The longest text worth looking at; scanners can type anything.
    public static let maximumScanLength = 512

    /// Signs `payload` with `key` and returns the card code.
    public static func make(_ payload: CardPayload, signingKey key: Curve25519.Signing.PrivateKey) throws -> String {
        let signature = try key.signature(for: payload.signedMessage)
        return prefix + Base32.encode(payload.bytes + Array(signature))
    }

    /// Splits a code into payload and signature without checking the signature.
    /// Accepts surrounding white space and a lower-case body; anything else is `invalidCode`.
    public static func parse(_ text: String) throws(CardReadError) -> (payload: CardPayload, signature: [UInt8]) {
        var utf8 = Substring(text).utf8[...]
        while let f = utf8.first, f == 0x20 || f == 0x09 || f == 0x0A || f == 0x0D { utf8 = utf8.dropFirst() }
        while let l = utf8.last, l == 0x20 || l == 0x09 || l == 0x0A || l == 0x0D { utf8 = utf8.dropLast() }
        guard utf8.count == prefix.utf8.count + bodyLength else { throw .invalidCode }
        let head = utf8.prefix(4)
        guard head.elementsEqual("JY1:".utf8) || head.elementsEqual("jy1:".utf8) else { throw .invalidCode }
        guard let raw = Base32.decode(utf8.dropFirst(4)), raw.count == 76,
            let payload = CardPayload(bytes: raw[0..<12]), payload.version == 1
        else { throw .invalidCode }
        return (payload, Array(raw[12...]))
    }

    /// Parses and verifies a code against the trusted public keys. Small-order or non-canonical keys and
    /// signatures (S ≥ L, small-order or non-canonical R) are `badSignature` (see `Ed25519Checks`).
    public static func verify(_ text: String, keys: CardKeyring) throws(CardReadError) -> CardPayload {
        let (payload, signature) = try parse(text)
        guard let key = keys[payload.keyID] else { throw .unknownKey(payload.keyID) }
        // The library accepts small-order keys and R values (see Ed25519Checks): refuse them first. A key
        // trusted before these checks existed is caught here too.
        guard Ed25519Checks.keyProblem(key.rawRepresentation) == nil, Ed25519Checks.signatureProblem(signature) == nil,
            key.isValidSignature(signature, for: payload.signedMessage)
        else { throw .badSignature }
        return payload
    }
}

/// The public keys a kiosk trusts, by key id.
public struct CardKeyring: Sendable {
    private var keys: [UInt8: Curve25519.Signing.PublicKey] = [:]

    /// An empty keyring.
    public init() {}

    /// The key with this id.
    public subscript(id: UInt8) -> Curve25519.Signing.PublicKey? {
        get { keys[id] }
        set { keys[id] = newValue }
    }

    /// All key ids, ascending.
    public var ids: [UInt8] { keys.keys.sorted() }
}
