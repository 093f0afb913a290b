import Crypto
import Foundation
import JiayuanDomain
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The kiosk's data directory: `jiayuan.toml`, `jiayuan.sqlite` and `keys/`.
public struct DataDirectory: Sendable {
    /// The directory.
    public let path: String
    /// PBKDF2 rounds for the demo staff account `initialize(demo: true)` adds (tests use fewer: a harness
    /// built synchronously must not hold a cooperative thread for a second).
    public var demoPINRounds = PINHash.defaultRounds

    /// A data directory at `path`.
    public init(path: String) { self.path = path }

    /// `--data DIR`, else `$JIAYUAN_DATA`, else `/var/lib/jiayuan`.
    public static func resolve(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DataDirectory {
        DataDirectory(path: option ?? environment["JIAYUAN_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/jiayuan")
    }

    public var configPath: String { path + "/jiayuan.toml" }
    public var databasePath: String { path + "/jiayuan.sqlite" }
    public var keysPath: String { path + "/keys" }
    /// The private card-signing key (mode 0600).
    public var signingKeyPath: String { keysPath + "/card-signing.key" }
    /// Public keys of other desks, imported with `card trust`.
    public var trustedKeysPath: String { keysPath + "/trusted-keys.json" }

    /// Free bytes for an unprivileged writer on the file system holding `path`, nil when it cannot be read.
    public static func freeBytes(_ path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Reads and checks `jiayuan.toml`.
    public func loadConfig() throws -> KioskConfig {
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw KioskError("no kiosk data in \(path) (missing jiayuan.toml): run `jiayuan init --data \(path)` first")
        }
        guard let data = FileManager.default.contents(atPath: configPath) else {
            throw KioskError("cannot read \(configPath): check its permissions")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(file: configPath, line: 1, message: "the file is not valid UTF-8 text")
        }
        return try KioskConfig.parse(text, file: configPath, zones: .system)
    }

    /// Opens the database (WAL, migrations applied).
    public func openDatabase() throws -> AppDatabase {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw KioskError("no database in \(path) (missing jiayuan.sqlite): run `jiayuan init --data \(path)` first")
        }
        // SQLite in WAL mode writes beside the database file: an unwritable folder is the usual cause.
        guard access(path, W_OK) == 0, access(databasePath, R_OK | W_OK) == 0 else {
            throw KioskError(
                "cannot write in \(path): the kiosk must be able to write its data directory and jiayuan.sqlite (check their owner and permissions, e.g. chown -R jiayuan: \(path))"
            )
        }
        do {
            return try AppDatabase.open(path: databasePath)
        } catch {
            throw KioskError("cannot open \(databasePath): \(error)")
        }
    }

    /// The desk's signing key.
    public func loadSigningKey() throws -> CardSigningKey {
        guard let data = FileManager.default.contents(atPath: signingKeyPath), let text = String(data: data, encoding: .utf8) else {
            throw KioskError("no card-signing key at \(signingKeyPath): this kiosk cannot issue cards")
        }
        guard let key = CardSigningKey(fileText: text) else {
            throw KioskError("the card-signing key \(signingKeyPath) is damaged")
        }
        return key
    }

    /// All public keys this kiosk trusts: its own (when it has a signing key) and imported ones.
    public func loadKeyring() throws -> CardKeyring {
        var ring = CardKeyring()
        for entry in try trustedKeys() { ring[entry.id] = entry.key }
        if FileManager.default.fileExists(atPath: signingKeyPath) {
            let own = try loadSigningKey()
            ring[own.keyID] = own.privateKey.publicKey
        }
        if ring.ids.isEmpty {
            throw KioskError("no card keys in \(keysPath): run `jiayuan init` or import a desk's keys with `jiayuan card trust FILE`")
        }
        return ring
    }

    /// Imported public keys.
    public func trustedKeys() throws -> [PublicKeyEntry] {
        guard let data = FileManager.default.contents(atPath: trustedKeysPath) else { return [] }
        return try PublicKeyEntry.parseList(data, source: trustedKeysPath)
    }

    /// Stores imported public keys (replacing the file atomically).
    func saveTrustedKeys(_ entries: [PublicKeyEntry]) throws {
        try Data(PublicKeyEntry.listJSON(entries).utf8).write(to: URL(fileURLWithPath: trustedKeysPath), options: .atomic)
    }

    /// Writes `contents` to a new file readable only by its owner (mode 0600 from the start).
    public static func writePrivateFile(_ path: String, contents: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw KioskError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw KioskError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}

/// The desk's Ed25519 card-signing key and its key id.
public struct CardSigningKey: Sendable {
    public var keyID: UInt8
    public var privateKey: Curve25519.Signing.PrivateKey

    /// A new random key.
    public init(keyID: UInt8) {
        self.keyID = keyID
        privateKey = Curve25519.Signing.PrivateKey()
    }

    /// Reads the key file text.
    public init?(fileText: String) {
        var id: UInt8?
        var raw: Data?
        for line in fileText.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard parts.count == 2 else { continue }
            if parts[0] == "key_id" { id = UInt8(parts[1]) }
            if parts[0] == "private" { raw = Data(base64Encoded: parts[1]) }
        }
        guard let id, let raw, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else { return nil }
        keyID = id
        privateKey = key
    }

    /// The key file text.
    public var fileText: String {
        """
        # Jiayuan card-signing key. Keep this file secret: whoever has it can make membership cards.
        key_id = \(keyID)
        private = \(privateKey.rawRepresentation.base64EncodedString())

        """
    }

    /// Signs a card payload into a `JY1:` code.
    public func sign(_ payload: CardPayload) throws -> String { try CardCode.make(payload, signingKey: privateKey) }

    /// This key's public half as a key-list entry.
    public var publicEntry: PublicKeyEntry { PublicKeyEntry(id: keyID, key: privateKey.publicKey) }
}

/// One public key in `card keys --json` / `card trust` files: `{"id":N,"public":"<base64 raw 32 bytes>"}`.
public struct PublicKeyEntry: Sendable {
    public var id: UInt8
    public var key: Curve25519.Signing.PublicKey

    /// Creates an entry.
    public init(id: UInt8, key: Curve25519.Signing.PublicKey) {
        self.id = id
        self.key = key
    }

    /// `{"keys":[{"id":1,"public":"..."}]}`.
    public static func listJSON(_ entries: [PublicKeyEntry]) -> String {
        let items = entries.sorted { $0.id < $1.id }.map {
            "{\"id\":\($0.id),\"public\":\"\($0.key.rawRepresentation.base64EncodedString())\"}"
        }
        return "{\"keys\":[" + items.joined(separator: ",") + "]}\n"
    }

    /// Parses a key list, naming `source` in errors.
    public static func parseList(_ data: Data, source: String) throws -> [PublicKeyEntry] {
        struct File: Decodable {
            struct Key: Decodable {
                var id: Int
                var `public`: String
            }
            var keys: [Key]
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw KioskError("\(source) is not a key list like {\"keys\":[{\"id\":1,\"public\":\"...\"}]}")
        }
        return try file.keys.map { k in
            guard (0...255).contains(k.id) else { throw KioskError("\(source): key id \(k.id) is not between 0 and 255") }
            guard let raw = Data(base64Encoded: k.public), raw.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw)
            else { throw KioskError("\(source): key \(k.id) is not a base64 Ed25519 public key of 32 bytes") }
            return PublicKeyEntry(id: UInt8(k.id), key: key)
        }
    }
}

extension DataDirectory {
    /// Adds public keys to the trusted list (after `newKeys` checked them); returns how many were new.
    /// Weak keys (small-order, non-canonical) and an id bound to a different key are refused.
    public func trust(_ entries: [PublicKeyEntry]) throws -> Int {
        for e in entries {
            if let problem = Ed25519Checks.keyProblem(e.key.rawRepresentation) {
                throw CardTrustError.weakKey(file: "the key list", id: Int(e.id), problem: problem)
            }
        }
        let fresh = try newKeys(entries)
        try FileManager.default.createDirectory(atPath: keysPath, withIntermediateDirectories: true)
        try saveTrustedKeys(try trustedKeys() + fresh)
        return fresh.count
    }
}
