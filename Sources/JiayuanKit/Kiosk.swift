import Crypto
import Foundation
import JiayuanDomain
import JiayuanPrint
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

    /// A service for `kiosk` trusting `keys`.
    public init(kiosk: Kiosk, keys: CardKeyring) {
        self.kiosk = kiosk
        self.reader = ScanReader(keys: keys)
    }

    /// A service with the keys from the kiosk's data directory.
    public init(kiosk: Kiosk) throws {
        self.init(kiosk: kiosk, keys: try kiosk.data.loadKeyring())
    }

    /// Reads the code, decides and records durably; returns the decision object.
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

    public func checkIn(
        code: String, venue venueID: String, at: Date? = nil, guardianCode: String? = nil, via: Via = .scan,
        receipts: Receipts? = nil, audit: ((Decision) -> AuditNote)? = nil
    ) throws -> Decision {
        var rng = SystemRandomNumberGenerator()
        return try checkIn(code: code, venue: venueID, at: at, guardianCode: guardianCode, via: via, receipts: receipts, audit: audit, rng: &rng)
    }

    /// As `checkIn(code:venue:at:guardianCode:via:receipts:)` with an injected random source. The receipts
    /// are recorded in the check-in's own transaction (the spooler prints them later).
    public func checkIn(
        code: String, venue venueID: String, at: Date?, guardianCode: String?, via: Via, receipts: Receipts? = nil,
        audit: ((Decision) -> AuditNote)? = nil, rng: inout some RandomNumberGenerator
    ) throws -> Decision {
        let venue = try kiosk.venue(venueID)
        let reading = reader.read(code)
        let printing = receipts.map { _ in PrintService(kiosk: kiosk) }
        let target = try receipts.flatMap { r in try printing?.target(r.printer).description }
        // The debounce rule is for a scanner reading one card twice; a desk action is deliberate, so it gets
        // a digest no other event has (the same member checked out a moment after a refusal is not a repeat).
        let digest = via == .staff ? Kiosk.codeDigest("staff \(UUID().uuidString)") : Kiosk.codeDigest(code)
        return try kiosk.database.recordCheckIn(
            reading, codeDigest: digest, venue: venue, at: at ?? kiosk.clock(), guardianCode: guardianCode,
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
    }
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
