import Foundation
import GRDB
import JiayuanDomain

/// The kiosk's database: owns the `DatabaseWriter` (no other target sees it) and runs the migrations when
/// opened. Every write is one named method, one transaction; SQLite's errors leave it as `StorageFailure`.
public struct AppDatabase: Sendable {
    /// The GRDB writer (a `DatabasePool` in production, a queue in unit tests). Internal: other targets use
    /// the named methods; tests of this target may read it with `@testable import`.
    let writer: any DatabaseWriter

    /// Wraps a writer and migrates it to the current schema.
    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.mapping { try AppDatabase.migrator.migrate(writer) }
    }

    /// The connection settings (public for the benchmarks' bare-SQLite baseline): foreign keys, WAL (for pools) and `synchronous=FULL`, so a commit
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
        try mapping { try AppDatabase(DatabasePool(path: path, configuration: configuration())) }
    }

    /// An empty in-memory database, for unit tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(configuration: configuration()))
    }

    /// One write transaction; SQLite's errors come out as `StorageFailure`.
    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try Self.mapping { try writer.write(updates) }
    }

    /// One read; SQLite's errors come out as `StorageFailure`.
    func read<T>(_ value: (Database) throws -> T) throws -> T {
        try Self.mapping { try writer.read(value) }
    }

    /// Whether the database answers a trivial read (the health check).
    public func ping() throws {
        try read { db in _ = try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Folds the WAL into the main file and closes every connection (before the file is moved aside).
    public func checkpointAndClose() throws {
        try Self.mapping {
            _ = try writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
            try writer.close()
        }
    }

    /// Closes every connection; later calls fail (tests of a database that went away).
    public func close() throws {
        try Self.mapping { try writer.close() }
    }

    /// The one place SQLite's result codes become typed failures.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StorageFailure(error)
        }
    }
}

extension StorageFailure {
    /// The typed failure for a SQLite error.
    init(_ error: DatabaseError) {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_FULL: self = .diskFull
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN: self = .readOnly(detail: detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: self = .corrupt
        case .SQLITE_BUSY: self = .busy
        case .SQLITE_LOCKED: self = .locked
        case .SQLITE_IOERR: self = .io(detail: detail)
        default: self = .other(code: error.resultCode.rawValue, detail: detail)
        }
    }
}

/// A request the store refused, in plain words (an unknown member, a card that does not match).
public struct StoreError: PlainWordsError, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var plainWords: String { message }
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
