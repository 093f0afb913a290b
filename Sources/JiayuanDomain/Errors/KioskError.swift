/// An error that says itself in plain words, for the desk and the logs (no personal data: ids and files,
/// never names or phones). Every error type the kiosk shows conforms; `KioskError.describe` reads it.
public protocol PlainWordsError: Error {
    /// One line in plain words.
    var plainWords: String { get }
}

/// An error for the person at the desk: one line, plain words, no stack trace.
public struct KioskError: PlainWordsError, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var plainWords: String { message }

    /// One plain-language line for any error the kiosk can meet.
    public static func describe(_ error: any Error) -> String {
        (error as? any PlainWordsError)?.plainWords ?? "\(error)"
    }
}

/// The kiosk's storage failed: the cases a caller switches on (the screen's DISK-1, the watchdog, doctor).
/// The store maps SQLite's result codes to these in one place; nothing matches on message text.
public enum StorageFailure: PlainWordsError, Hashable, Sendable {
    /// No space left (SQLite's SQLITE_FULL, or the watchdog's free-space probe): nothing was recorded.
    case diskFull
    /// The database or its folder cannot be written (permissions, a read-only mount).
    case readOnly(detail: String)
    /// The file is damaged or not a kiosk database.
    case corrupt
    /// Another connection holds the database longer than the busy timeout.
    case busy
    /// A table is locked by another statement of the same connection.
    case locked
    /// The disk could not be read or written.
    case io(detail: String)
    /// Any other database error (a broken constraint, a bug): its SQLite result code and message.
    case other(code: Int32, detail: String)

    public var plainWords: String {
        switch self {
        case .diskFull: "the disk is full: nothing was recorded; free some space and try again"
        case .readOnly(let detail): "the database cannot be written (check the data directory's permissions): \(detail)"
        case .corrupt: "the database file is damaged; run `jiayuan verify` and restore a backup"
        case .busy, .locked: "the database is busy; try again"
        case .io(let detail): "the disk could not be read or written (I/O error): \(detail)"
        case .other(let code, let detail): "database error \(code): \(detail)"
        }
    }
}

extension ConfigError: PlainWordsError {
    public var plainWords: String { "the configuration is broken: \(self)" }
}
