import Foundation
import GRDB
import JiayuanDomain

/// The kiosk's database: owns the `DatabaseWriter` and runs the migrations when opened.
/// Every write is one named method, one transaction.
public struct AppDatabase: Sendable {
    /// The underlying GRDB writer (a `DatabasePool` in production, a queue in unit tests).
    public let writer: any DatabaseWriter

    /// Wraps a writer and migrates it to the current schema.
    public init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try AppDatabase.migrator.migrate(writer)
    }

    /// The connection settings: foreign keys, WAL (for pools) and `synchronous=FULL`, so a commit
    /// (and so an accepted check-in) is on disk before it is reported.
    public static func configuration() -> Configuration {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        // A kiosk serves one screen and a desk: two readers are plenty, and each costs memory.
        config.maximumReaderCount = 2
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return config
    }

    /// Opens (creating if needed) the database file in WAL mode.
    public static func open(path: String) throws -> AppDatabase {
        let pool = try DatabasePool(path: path, configuration: configuration())
        return try AppDatabase(pool)
    }

    /// An empty in-memory database, for unit tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }
}

/// Errors from the store in plain words.
public struct StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The UTC text form stored for instants.
enum Stamp {
    static func text(_ d: Date) -> String { ISOTime.format(d) }
    static func date(_ s: String) -> Date {
        ISOTime.parse(s, defaultZone: ISOTime.utc) ?? Date(timeIntervalSince1970: 0)
    }
}

extension Row {
    func memberID(_ column: String) -> MemberID? {
        (self[column] as Int64?).flatMap { MemberID(number: UInt32(truncatingIfNeeded: $0)) }
    }
}
