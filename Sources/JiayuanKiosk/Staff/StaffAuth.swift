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

    /// Why a log-in failed, in plain words: the same words whether the name, the PIN or the computer's lock
    /// was the reason, so a refusal tells nobody which names exist.
    public struct LoginRefused: Error, Equatable, CustomStringConvertible {
        public var message: String
        /// Until when this computer may not try this name again (for the server log), nil otherwise.
        public var lockedUntil: Date?
        /// True for the attempt that locked this computer out of the name (logged once, by address).
        public var lockedNow: Bool = false
        public var description: String { message }
    }

    /// The words of every refused log-in.
    public static func refusalMessage(_ policy: StaffPolicy) -> String {
        "姓名或密码不对；连续输错 \(policy.maxFailures) 次后，这台电脑要等 \(Int(policy.lockout / 60)) 分钟才能再试。"
            + "Wrong name or PIN; after \(policy.maxFailures) wrong tries this computer must wait \(Int(policy.lockout / 60)) minutes."
    }

    /// Checks a name and PIN sent from `source` (the computer's address). Every attempt does the same work —
    /// one PIN hash and one write — whether the name exists, the PIN is wrong or the computer is locked out
    /// of the name; wrong PINs lock only the computer they came from.
    public func login(name: String, pin: String, source: String) throws -> Session {
        let now = clock()
        let found = try database.staffCredentials(name: name).flatMap { $0.0.active ? $0 : nil }
        // Spend the same time as a real check so a wrong name cannot be told from a wrong PIN.
        let correct = PINHash.verify(pin, against: found?.1 ?? Self.decoy)
        let outcome = try database.recordSignIn(
            source: source, name: name, account: found?.0.id, pinCorrect: correct && found != nil, policy: policy, at: now)
        switch outcome {
        case .accepted:
            guard let account = found?.0 else { throw LoginRefused(message: Self.refusalMessage(policy)) }
            var rng = SystemRandomNumberGenerator()
            let token = Self.randomToken(using: &rng)
            let csrf = Self.randomToken(using: &rng)
            try database.createSession(staff: account.id, tokenHash: Self.hash(token), csrf: csrf, at: now)
            return Session(token: token, csrf: csrf, staff: account)
        case .wrongPIN:
            throw LoginRefused(message: Self.refusalMessage(policy))
        case .lockedNow(let until):
            throw LoginRefused(message: Self.refusalMessage(policy), lockedUntil: until, lockedNow: true)
        case .locked(let until):
            throw LoginRefused(message: Self.refusalMessage(policy), lockedUntil: until)
        }
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
