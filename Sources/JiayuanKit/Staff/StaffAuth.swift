import Crypto
import CryptoExtras
import Foundation
import JiayuanDomain
import JiayuanStore

/// Staff PIN hashing: PBKDF2-HMAC-SHA256 (swift-crypto's CryptoExtras) with a random 16-byte salt, stored
/// as `pbkdf2-sha256$ROUNDS$SALT$HASH` (base64), so the rounds can be raised later without breaking old PINs.
public enum PINHash {
    /// OWASP's figure for PBKDF2-HMAC-SHA256.
    public static let defaultRounds = 600_000

    /// The stored form of `pin`.
    public static func make(_ pin: String, rounds: Int = defaultRounds, using rng: inout some RandomNumberGenerator) throws -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255, using: &rng) }
        let key = try derive(pin, salt: salt, rounds: rounds)
        return "pbkdf2-sha256$\(rounds)$\(Data(salt).base64EncodedString())$\(Data(key).base64EncodedString())"
    }

    /// Whether `pin` matches `stored` (compared in constant time); false for anything malformed.
    public static func verify(_ pin: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$")
        guard parts.count == 4, parts[0] == "pbkdf2-sha256", let rounds = Int(parts[1]), rounds >= 1000,
            let salt = Data(base64Encoded: String(parts[2])), let expected = Data(base64Encoded: String(parts[3])), expected.count == 32,
            let key = try? derive(pin, salt: Array(salt), rounds: rounds)
        else { return false }
        return constantTimeEquals(key, Array(expected))
    }

    static func derive(_ pin: String, salt: [UInt8], rounds: Int) throws -> [UInt8] {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(pin.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: rounds)
        return key.withUnsafeBytes { Array($0) }
    }
}

/// Whether two byte strings are equal, taking the same time wherever they differ (for secrets).
func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

/// Staff log-in and sessions over the kiosk's database: lockout after wrong PINs, idle expiry, a CSRF
/// token per session, every step audited. Tokens are random 256-bit values stored only as SHA-256 hashes.
public struct StaffAuth: Sendable {
    public let database: AppDatabase
    public let policy: StaffPolicy
    public let clock: @Sendable () -> Date

    /// Auth over `database`.
    public init(database: AppDatabase, policy: StaffPolicy = StaffPolicy(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.policy = policy
        self.clock = clock
    }

    /// A started session: the cookie value and the form token.
    public struct Session: Sendable, Equatable {
        public var token: String
        public var csrf: String
        public var staff: StaffAccount
    }

    /// Why a log-in failed, in plain words (the same words whether the name or the PIN was wrong).
    public struct LoginRefused: Error, Equatable, CustomStringConvertible {
        public var message: String
        public var lockedUntil: Date?
        /// The account this very attempt locked (for the server log), nil otherwise.
        public var lockedAccount: Int64? = nil
        public var description: String { message }
    }

    /// Checks a name and PIN; a locked account is refused without checking the PIN.
    public func login(name: String, pin: String) throws -> Session {
        let now = clock()
        guard let (account, hash) = try database.staffCredentials(name: name), account.active else {
            // Spend the same time as a real check so a wrong name cannot be told from a wrong PIN.
            _ = PINHash.verify(pin, against: Self.decoy)
            throw LoginRefused(message: "wrong name or PIN", lockedUntil: nil)
        }
        let locked = policy.isLocked(account.standing, at: now)
        let correct = locked == nil && PINHash.verify(pin, against: hash)
        switch try database.recordLoginAttempt(staff: account.id, pinCorrect: correct, policy: policy, at: now) {
        case .accepted:
            var rng = SystemRandomNumberGenerator()
            let token = Self.randomToken(using: &rng)
            let csrf = Self.randomToken(using: &rng)
            try database.createSession(staff: account.id, tokenHash: Self.hash(token), csrf: csrf, at: now)
            return Session(token: token, csrf: csrf, staff: account)
        case .wrongPIN(let remaining):
            throw LoginRefused(message: "wrong name or PIN (\(remaining) tries left before the account is locked for \(Int(policy.lockout / 60)) minutes)", lockedUntil: nil)
        case .lockedNow(let until):
            throw LoginRefused(message: Self.lockedMessage(policy), lockedUntil: until, lockedAccount: account.id)
        case .locked(let until):
            throw LoginRefused(message: Self.lockedMessage(policy), lockedUntil: until)
        }
    }

    static func lockedMessage(_ policy: StaffPolicy) -> String {
        "this account is locked after \(policy.maxFailures) wrong PINs; try again after \(Int(policy.lockout / 60)) minutes or ask an admin"
    }

    /// The account behind a session cookie and the session's CSRF token, or nil (unknown, expired, forged).
    public func session(token: String) throws -> (StaffAccount, csrf: String)? {
        guard token.utf8.count == 64 else { return nil }
        return try database.session(tokenHash: Self.hash(token), policy: policy, at: clock())
    }

    /// Whether a form's token is the session's (constant time).
    public static func csrfMatches(_ sent: String?, _ expected: String) -> Bool {
        guard let sent else { return false }
        return constantTimeEquals(Array(sent.utf8), Array(expected.utf8))
    }

    /// Ends a session.
    public func logout(token: String) throws {
        try database.endSession(tokenHash: Self.hash(token), at: clock())
    }

    /// 64 hex digits of randomness (cookies and form tokens).
    public static func randomToken(using rng: inout some RandomNumberGenerator) -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
        return bytes.hexString
    }

    static func hash(_ token: String) -> String { SHA256.hash(data: Array(token.utf8)).hexString }

    /// A well-formed hash no PIN matches, for timing-equal refusals of unknown names.
    static let decoy = "pbkdf2-sha256$\(PINHash.defaultRounds)$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
}
