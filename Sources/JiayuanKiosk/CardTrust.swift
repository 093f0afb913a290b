import Crypto
import Foundation
import JiayuanDomain

/// Why `card trust` refuses a key file. Nothing is imported when any of these is thrown.
public enum CardTrustError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file is not a key list (`{"keys":[...], "revocations":[...]}`).
    case notAKeyList(file: String)
    /// A key id outside 0…255.
    case keyIDOutOfRange(file: String, id: Int)
    /// A key that is not 32 bytes of base64.
    case notAKey(file: String, id: Int)
    /// A key that must never be trusted: small-order or non-canonically encoded.
    case weakKey(file: String, id: Int, problem: Ed25519Checks.Problem)
    /// A key id already bound to a different key here.
    case conflictingKey(id: UInt8)
    /// A revocation that does not parse, or one made by a key the file does not carry.
    case badRevocation(file: String, index: Int)
    /// New keys and no terminal to confirm them on, and no `--yes`.
    case confirmationNeeded
    /// The person at the terminal did not confirm.
    case notConfirmed

    public var description: String {
        switch self {
        case .notAKeyList(let f): "\(f) is not a key list like {\"keys\":[{\"id\":1,\"public\":\"...\"}]}"
        case .keyIDOutOfRange(let f, let id): "\(f): key id \(id) is not between 0 and 255"
        case .notAKey(let f, let id): "\(f): key \(id) is not a base64 Ed25519 public key of 32 bytes"
        case .weakKey(let f, let id, let problem): "\(f): key \(id) is refused: \(problem.reason); nothing was imported"
        case .conflictingKey(let id): "key id \(id) already belongs to a different key here; nothing was imported"
        case .badRevocation(let f, let i):
            "\(f): revocation \(i + 1) is not {\"member\":\"M000123\",\"key\":N} with one of below, serial or others_issued_through, by a key in the file"
        case .confirmationNeeded:
            "new card keys must be confirmed: run this on a terminal, or add --yes after comparing the fingerprints"
        case .notConfirmed: "nothing was imported"
        }
    }
}

extension PublicKeyEntry {
    /// The key's fingerprint to compare by phone or on paper: the first 16 bytes of SHA-256 over the 32 raw
    /// key bytes, in groups of four hex digits (`card keys` prints it at the issuing desk).
    public var fingerprint: String {
        let hex = Array(SHA256.hash(data: key.rawRepresentation).prefix(16)).map { String(format: "%02x", $0) }.joined()
        return stride(from: 0, to: hex.count, by: 4).map { i in
            String(hex[hex.index(hex.startIndex, offsetBy: i)..<hex.index(hex.startIndex, offsetBy: i + 4)])
        }.joined(separator: " ")
    }
}

/// A `card keys --json` file: a desk's public keys and the revocations it made.
public struct CardTrustFile: Sendable {
    public var keys: [PublicKeyEntry]
    public var revocations: [CardRevocation]

    /// Creates a file's contents.
    public init(keys: [PublicKeyEntry], revocations: [CardRevocation]) {
        self.keys = keys
        self.revocations = revocations
    }

    /// `{"keys":[{"id":1,"public":"..."}],"revocations":[{"member":"M000001","key":1,"below":3}, ...]}`.
    public var json: String {
        let keyItems = keys.sorted { $0.id < $1.id }.map {
            "{\"id\":\($0.id),\"public\":\"\($0.key.rawRepresentation.base64EncodedString())\"}"
        }
        let revocationItems = revocations.map { r -> String in
            let scope: String
            switch r.scope {
            case .below(let n): scope = "\"below\":\(n)"
            case .serial(let n): scope = "\"serial\":\(n)"
            case .othersIssuedThrough(let day): scope = "\"others_issued_through\":\"\(day)\""
            }
            return "{\"member\":\"\(r.member)\",\"key\":\(r.keyID),\(scope)}"
        }
        return "{\"keys\":[" + keyItems.joined(separator: ",") + "],\n\"revocations\":[" + revocationItems.joined(separator: ",\n")
            + "]}\n"
    }

    /// Parses a file (a plain key list without revocations too), refusing weak keys and stray revocations.
    public static func parse(_ data: Data, source: String) throws(CardTrustError) -> CardTrustFile {
        struct File: Decodable {
            struct Key: Decodable {
                var id: Int
                var `public`: String
            }
            struct Revocation: Decodable {
                var member: String
                var key: Int
                var below: Int?
                var serial: Int?
                var others_issued_through: String?
            }
            var keys: [Key]
            var revocations: [Revocation]?
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw .notAKeyList(file: source)
        }
        var keys: [PublicKeyEntry] = []
        for k in file.keys {
            guard (0...255).contains(k.id) else { throw .keyIDOutOfRange(file: source, id: k.id) }
            guard let raw = Data(base64Encoded: k.public), raw.count == 32 else { throw .notAKey(file: source, id: k.id) }
            if let problem = Ed25519Checks.keyProblem(raw) { throw .weakKey(file: source, id: k.id, problem: problem) }
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { throw .notAKey(file: source, id: k.id) }
            keys.append(PublicKeyEntry(id: UInt8(k.id), key: key))
        }
        let ids = Set(keys.map(\.id))
        var revocations: [CardRevocation] = []
        for (i, r) in (file.revocations ?? []).enumerated() {
            let scopes = [
                r.below.map { ("below", $0) }, r.serial.map { ("serial", $0) },
                r.others_issued_through.map { ("others_through", CivilDate(iso: $0)?.cardDay ?? -1) },
            ].compactMap { $0 }
            guard let member = MemberID(r.member), (0...255).contains(r.key), ids.contains(UInt8(r.key)), scopes.count == 1,
                let revocation = CardRevocation(member: member, keyID: UInt8(r.key), kind: scopes[0].0, value: scopes[0].1)
            else { throw .badRevocation(file: source, index: i) }
            revocations.append(revocation)
        }
        return CardTrustFile(keys: keys, revocations: revocations)
    }
}

extension DataDirectory {
    /// The keys in `entries` this kiosk does not hold yet; throws when an id is bound to another key here,
    /// so a card can never verify under the wrong desk's key.
    public func newKeys(_ entries: [PublicKeyEntry]) throws -> [PublicKeyEntry] {
        let own = FileManager.default.fileExists(atPath: signingKeyPath) ? try loadSigningKey().publicEntry : nil
        var known = (own.map { [$0] } ?? []) + (try trustedKeys())
        var fresh: [PublicKeyEntry] = []
        for e in entries {
            if let same = known.first(where: { $0.id == e.id }) {
                guard same.key.rawRepresentation == e.key.rawRepresentation else { throw CardTrustError.conflictingKey(id: e.id) }
                continue
            }
            known.append(e)
            fresh.append(e)
        }
        return fresh
    }
}
