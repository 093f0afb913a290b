import Crypto
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// Shared fixtures for the test targets: a fixed time zone, the demo venues, a deterministic key.
public enum Fixtures {
    /// Asia/Shanghai (UTC+8, no daylight saving).
    public static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    /// The instant at local Shanghai wall time `"2026-11-28 08:05"` (seconds optional).
    public static func at(_ local: String) -> Date {
        guard let d = ISOTime.parse(local.replacingOccurrences(of: " ", with: "T"), defaultZone: shanghai) else {
            fatalError("bad fixture time \(local)")
        }
        return d
    }

    /// The demo config (the five venues of DESIGN.md §1).
    public static let config: KioskConfig = try! KioskConfig.parse(DefaultConfig.text(kioskID: "test-1", demo: true), file: "demo.toml")

    /// The timing rules of the demo config.
    public static var policy: CheckInPolicy { config.policy }

    /// A demo venue by id.
    public static func venue(_ id: String) -> Venue { config.venue(id)! }

    /// A signing key that is the same in every run.
    public static let signingKey: CardSigningKey = {
        var k = CardSigningKey(keyID: 1)
        k.privateKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(repeating: UInt8(7), count: 32))
        return k
    }()

    /// A second desk's key (key id 2).
    public static let otherDeskKey: CardSigningKey = {
        var k = CardSigningKey(keyID: 2)
        k.privateKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Array(repeating: UInt8(9), count: 32))
        return k
    }()

    /// A keyring holding `signingKey`.
    public static var keyring: CardKeyring {
        var ring = CardKeyring()
        ring[signingKey.keyID] = signingKey.privateKey.publicKey
        return ring
    }

    /// A card-sized QR payload: "JY1:" + 122 upper-case base32 characters (A–Z, 2–7), irregular but the same
    /// in every run (xorshift32), so a symbol made from it is not a toy pattern.
    public static let cardLikeText: String = {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var state: UInt32 = 0x2545_F491
        var body = ""
        for _ in 0..<122 {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            body.append(alphabet[Int(state % 32)])
        }
        return "JY1:" + body
    }()

    /// A card code for member `number` signed with `key`.
    public static func card(
        member number: UInt32, serial: UInt16 = 1, issued: CivilDate = CivilDate(year: 2026, month: 1, day: 1),
        validUntil: CivilDate = CivilDate(year: 2030, month: 12, day: 31), key: CardSigningKey = signingKey
    ) -> String {
        try! key.sign(
            CardPayload(
                keyID: key.keyID, member: number, serial: serial, issued: UInt16(issued.cardDay), validUntil: UInt16(validUntil.cardDay)))
    }
}

/// A directory under the system temp folder, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// Creates a new empty directory.
    public init(_ label: String = "jiayuan-test") {
        path = NSTemporaryDirectory() + "/\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Deletes the directory and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
