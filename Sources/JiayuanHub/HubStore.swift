import Crypto
import Foundation
import JiayuanDomain
import JiayuanWire

/// A kiosk the hub accepts uploads from.
public struct HubKiosk: Hashable, Sendable {
    public var id: String
    public var centre: String
    /// The newest seq held.
    public var lastSeq: Int64
    public var lastUploadAt: Date?
    public var createdAt: Date
    /// The events the kiosk said it still had to send (its `Jiayuan-Backlog` header), and when it said so.
    public var reportedBacklog: Int64?
    public var backlogReportedAt: Date?

    /// Creates a record.
    public init(
        id: String, centre: String, lastSeq: Int64, lastUploadAt: Date?, createdAt: Date, reportedBacklog: Int64? = nil,
        backlogReportedAt: Date? = nil
    ) {
        self.id = id
        self.centre = centre
        self.lastSeq = lastSeq
        self.lastUploadAt = lastUploadAt
        self.createdAt = createdAt
        self.reportedBacklog = reportedBacklog
        self.backlogReportedAt = backlogReportedAt
    }
}

/// What the store did with a batch: the answer, and how many of its events were new (stored now).
public struct HubReceipt: Hashable, Sendable {
    public var verdict: HubChain.Verdict
    public var stored: Int

    /// A receipt.
    public init(verdict: HubChain.Verdict, stored: Int) {
        self.verdict = verdict
        self.stored = stored
    }
}

/// A hub error in plain words.
public struct HubError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Where the hub keeps kiosks and their logs: a SQLite file or a PostgreSQL database, one protocol, one
/// test suite. Every method is blocking (call it off the cooperative pool) and each write is one transaction.
public protocol HubStore: Sendable {
    /// A short name for logs and `/healthz`: "sqlite" or "postgresql".
    var kind: String { get }

    /// Registers a kiosk with the hash of its token; `replace` gives an existing kiosk a new token.
    func addKiosk(id: String, centre: String, tokenHash: String, replace: Bool, at: Date) throws

    /// The kiosk whose token has this hash.
    func kiosk(tokenHash: String) throws -> HubKiosk?

    /// Every kiosk, by id.
    func kiosks() throws -> [HubKiosk]

    /// Checks a batch (ascending, consecutive seqs, each event validated) against what is held for `kiosk` and stores the new
    /// events in one transaction, answering per `HubChain.plan`. Resends are acknowledged again.
    func receive(kiosk: String, events: [WireEvent], idempotencyKey: String?, at: Date) throws -> HubReceipt

    /// Records the backlog a kiosk reported with a batch (for the dashboard and `/metrics`).
    func recordBacklog(kiosk: String, backlog: Int64, at: Date) throws

    /// Visits and distinct members per local day (in `zone`), centre, venue and group for days `from...to`,
    /// all centres added up when `centre` is nil; voided visits are not counted. PostgreSQL answers from its
    /// daily rollup (kept in the same transaction as each batch), SQLite from the events; both agree.
    func dailyVisits(from: CivilDate, to: CivilDate, centre: String?, zone: TimeZone) throws -> [DailyVisits]

    /// Events held, for one kiosk or all.
    func eventCount(kiosk: String?) throws -> Int64

    /// A trivial round trip to the database (`SELECT 1`), for `/healthz` and the watchdog: throws when it
    /// does not answer.
    func ping() throws

    /// Re-checks the whole stored chain of a kiosk; nil when sound.
    func verifyChain(kiosk: String) throws -> ChainCheck.Problem?

    /// Loads rows straight into the event table as fast as the store can (the benchmark's baseline):
    /// one transaction of prepared inserts on SQLite, COPY on PostgreSQL. No chain checks.
    func bulkLoad(kiosk: String, events: [WireEvent], at: Date) throws
}

/// Kiosk tokens: random, shown once, stored only as a SHA-256 hash (a 256-bit random token needs no slow
/// hash: there is nothing to guess).
public enum HubToken {
    /// A new token: `jyt_` and 64 hex digits.
    public static func generate(using rng: inout some RandomNumberGenerator) -> String {
        var bytes: [UInt8] = []
        for _ in 0..<32 { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
        return "jyt_" + bytes.hexString
    }

    /// The stored form of a token.
    public static func hash(_ token: String) -> String { SHA256.hash(data: Array(token.utf8)).hexString }
}

/// Opens the store a `--database` value names: nothing (the SQLite file `hub.sqlite` in `dataDirectory`),
/// `sqlite:PATH` or a path, or `postgres://…` / `postgresql://…`. `connections` bounds the database
/// connections: PostgreSQL's pool, or SQLite's readers (SQLite has one writer). `zone` is the district's zone
/// for the PostgreSQL rollup's days (a different zone than the rollup's rebuilds it); nil keeps the rollup's.
public func openHubStore(database: String?, dataDirectory: String, connections: Int = 4, zone: TimeZone? = nil) throws -> any HubStore {
    guard let database, !database.isEmpty else {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        return try SQLiteHubStore(path: dataDirectory + "/hub.sqlite", readers: connections)
    }
    if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
        return try PostgresHubStore(url: database, connections: connections, zone: zone)
    }
    let path = database.hasPrefix("sqlite:") ? String(database.dropFirst("sqlite:".count)) : database
    return try SQLiteHubStore(path: path, readers: connections)
}

/// Database addresses given to the hub.
public enum HubAddress {
    /// Whether a database address carries a password (`postgres://user:secret@host/db`, `password=` in a
    /// key/value string), which would show in `ps`.
    public static func hasPassword(_ address: String) -> Bool {
        if address.range(of: "password=", options: .caseInsensitive) != nil { return true }
        guard let schemeEnd = address.range(of: "://") else { return false }
        let rest = address[schemeEnd.upperBound...]
        guard let at = rest.firstIndex(of: "@") else { return false }
        let userInfo = rest[..<at]
        return !userInfo.contains("/") && userInfo.contains(":")
    }
}
