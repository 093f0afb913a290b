import Crypto
import Foundation
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// One opened kiosk: its settings, database and card keys, with an injected clock and random source.
/// The command line and the server both work through this.
public struct Kiosk: Sendable {
    public let data: DataDirectory
    public let config: KioskConfig
    public let database: AppDatabase
    /// The current time (injected so rules can be tested with a fixed clock).
    public let clock: @Sendable () -> Date

    /// Opens the kiosk in `data`: reads the config (refusing a broken one) and opens the database.
    public static func open(_ data: DataDirectory, clock: @escaping @Sendable () -> Date = { Date() }) throws -> Kiosk {
        let config = try data.loadConfig()
        return Kiosk(data: data, config: config, database: try data.openDatabase(), clock: clock)
    }

    /// The check-in engine with this kiosk's timing rules.
    public var engine: CheckInEngine { CheckInEngine(policy: config.policy) }

    /// The venue with this id, or an error listing the configured ones.
    public func venue(_ id: String) throws -> Venue {
        guard let venue = config.venue(id) else {
            throw KioskError("unknown venue \"\(id)\"; this kiosk has: \(config.venues.map(\.id).joined(separator: ", "))")
        }
        return venue
    }

    /// Today's date on the kiosk's wall calendar.
    public func today(at now: Date? = nil) -> CivilDate { LocalTime(now ?? clock(), in: config.timeZone).date }

    /// A digest of the scanned text for the debounce rule; the text itself is never stored.
    public static func codeDigest(_ code: String) -> String {
        Array(SHA256.hash(data: Array(code.trimmingWhitespace().utf8)).prefix(16)).hexString
    }
}

/// Reads scanned texts, remembering cards whose signature has already been verified, so a card scanned
/// again (check-out, tomorrow's visit) costs a dictionary lookup instead of an Ed25519 verification.
/// Only texts that verified are remembered; revocation and expiry are still checked on every scan.
public final class ScanReader: @unchecked Sendable {
    /// The trusted public keys.
    public let keys: CardKeyring
    private let lock = NSLock()
    private var verified: [String: CardPayload] = [:]
    private let capacity: Int

    /// A reader trusting `keys` that remembers up to `capacity` cards.
    public init(keys: CardKeyring, capacity: Int = 8192) {
        self.keys = keys
        self.capacity = capacity
    }

    /// What the text is (see `ScanReading.read`).
    public func read(_ text: String) -> ScanReading {
        lock.lock()
        let known = verified[text]
        lock.unlock()
        if let known { return .card(known) }
        let reading = ScanReading.read(text, keys: keys)
        if case .card(let payload) = reading {
            lock.lock()
            if verified.count >= capacity { verified.removeAll(keepingCapacity: true) }
            verified[text] = payload
            lock.unlock()
        }
        return reading
    }
}

/// Checks members in and out: the one path used by the CLI, the kiosk screen and staff.
public struct CheckInService: Sendable {
    public let kiosk: Kiosk
    public let reader: ScanReader
    /// Wrong pickup codes per venue and the locks they started (issue 13).
    public let pickupGuard: PickupGuard

    /// A service for `kiosk` trusting `keys`. Pickup locks begun within the lockout (their staff alerts) are
    /// put back, so a restart does not lift one.
    public init(kiosk: Kiosk, keys: CardKeyring, pickupRules: PickupGuessRules = .standard) {
        self.kiosk = kiosk
        self.reader = ScanReader(keys: keys)
        self.pickupGuard = PickupGuard(rules: pickupRules)
        let now = kiosk.clock()
        if let starts = try? kiosk.database.pickupLockStarts(since: now.addingTimeInterval(-pickupRules.lockout)) {
            for (venue, start) in starts { pickupGuard.restoreLock(venue: venue, startedAt: start) }
        }
    }

    /// A service with the keys from the kiosk's data directory.
    public init(kiosk: Kiosk) throws {
        self.init(kiosk: kiosk, keys: try kiosk.data.loadKeyring())
    }

    /// Receipts for check-ins: none, or the venue's policy (`requested` prints at venues that ask) to a target.
    public struct Receipts: Sendable {
        public var requested: Bool
        public var printer: String?
        /// Print by the venues' receipt settings; `requested` as if the member asked where the venue asks.
        public init(requested: Bool = false, printer: String? = nil) {
            self.requested = requested
            self.printer = printer
        }
    }

    /// Reads the code, decides and records durably; returns the decision object. A pickup code (a `JYK:` slip,
    /// or a guardian code with a card) from a scanner or the API at a venue locked after repeated wrong codes
    /// throws `PickupLocked` and records nothing; a wrong one is counted, and the fifth within the window
    /// starts the lock and raises the staff alert. Staff (`via: .staff`) are neither counted nor locked.
    public func checkIn(
        code: String, venue venueID: String, at: Date? = nil, guardianCode: String? = nil, via: Via = .scan,
        receipts: Receipts? = nil, audit: ((Decision) -> AuditNote)? = nil
    ) throws -> Decision {
        var rng = SystemRandomNumberGenerator()
        return try checkIn(
            code: code, venue: venueID, at: at, guardianCode: guardianCode, via: via, receipts: receipts, audit: audit, rng: &rng)
    }

    /// As `checkIn(code:venue:at:guardianCode:via:receipts:)` with an injected random source. The receipts
    /// are recorded in the check-in's own transaction (the spooler prints them later).
    public func checkIn(
        code: String, venue venueID: String, at: Date?, guardianCode: String?, via: Via, receipts: Receipts? = nil,
        audit: ((Decision) -> AuditNote)? = nil, rng: inout some RandomNumberGenerator
    ) throws -> Decision {
        let venue = try kiosk.venue(venueID)
        let reading = reader.read(code)
        let now = at ?? kiosk.clock()
        // A pickup code tried while the venue is locked is refused before anything is read or recorded.
        let attempt = PickupAttempt.isAttempt(reading, guardianCode: guardianCode, via: via)
        if attempt, let until = pickupGuard.lockedUntil(venue: venue.id, at: now) { throw PickupLocked(venue: venue.id, until: until) }
        let printing = receipts.map { _ in PrintService(kiosk: kiosk) }
        let target = try receipts.flatMap { r in try printing?.target(r.printer).description }
        // The debounce rule is for a scanner reading one card twice; a desk action is deliberate, so it gets
        // a digest no other event has (the same member checked out a moment after a refusal is not a repeat).
        let digest = via == .staff ? Kiosk.codeDigest("staff \(UUID().uuidString)") : Kiosk.codeDigest(code)
        let decision = try kiosk.database.recordCheckIn(
            reading, codeDigest: digest, venue: venue, at: now, guardianCode: guardianCode,
            via: via, engine: kiosk.engine, rng: &rng,
            receipts: { decision in
                guard let printing, let receipts, let target else { return [] }
                let queuedAt = kiosk.clock()
                return try printing.documents(for: decision, requested: receipts.requested).map { doc, number in
                    NewPrintJob(
                        kind: doc.kind, documentNumber: number, target: target, bytes: try ESCPOS.encode(doc, paper: printing.paper),
                        queuedAt: queuedAt)
                }
            }, audit: audit)
        if attempt, PickupAttempt.isWrongGuess(reading, decision: decision),
            case .lockStarted = pickupGuard.recordWrongGuess(venue: venue.id, at: now)
        {
            try kiosk.database.raisePickupGuessingAlert(venue: venue.id, at: now)
        }
        return decision
    }
}

/// The kiosk's `PickupGuessLedger`, shared by every check-in path of one process. It lives in memory (an
/// attacker cannot restart the kiosk); a lock's start is also its staff alert in the database, from which
/// `CheckInService` puts locks back after a restart. Scan check-ins run one at a time on the database lane,
/// so the count is exact; from several threads at once a few more guesses could be counted before the lock.
public final class PickupGuard: @unchecked Sendable {
    private let lock = NSLock()
    private var ledger: PickupGuessLedger

    /// A guard keeping `rules`.
    public init(rules: PickupGuessRules = .standard) { ledger = PickupGuessLedger(rules: rules) }

    /// The end of the lock on `venue` at `now`, or nil when slip check-outs are open there.
    public func lockedUntil(venue: String, at now: Date) -> Date? { lock.withLock { ledger.lockedUntil(venue: venue, at: now) } }

    /// Counts a wrong guess (see `PickupGuessLedger.recordWrongGuess`).
    public func recordWrongGuess(venue: String, at now: Date) -> PickupGuessLedger.Verdict {
        lock.withLock { ledger.recordWrongGuess(venue: venue, at: now) }
    }

    /// Puts back a lock begun at `start`.
    public func restoreLock(venue: String, startedAt start: Date) { lock.withLock { ledger.restoreLock(venue: venue, startedAt: start) } }
}

extension Kiosk {
    /// The member a typed id names (`M000123`); nil for no text; a plain error for a malformed or unknown id.
    public func member(text: String?) throws -> Member? {
        guard let text else { return nil }
        guard let id = MemberID(text) else { throw KioskError("\"\(text)\" is not a member id like M000123") }
        guard let m = try database.member(id) else { throw KioskError("no member \(id)") }
        return m
    }
}
