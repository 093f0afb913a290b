import GRDB
import JiayuanCUPS
import JiayuanDomain
import JiayuanStore

/// An error for the person at the desk: one line, plain words, no stack trace.
public struct KioskError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}


extension KioskError {
    /// Whether `error` is a full disk: SQLite's SQLITE_FULL, or the watchdog's free-space probe (both
    /// described as "the disk is full").
    public static func isDiskFull(_ error: any Error) -> Bool {
        describe(error).contains("the disk is full")
    }

    /// One plain-language line for any error the kiosk can meet, for the desk and the logs
    /// (no personal data: messages name ids and files, never names or phones).
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let e as KioskError: return e.message
        case let e as ConfigError: return "the configuration is broken: \(e)"
        case let e as StoreError: return e.message
        case let e as MemberBatchError: return e.description
        case let e as CUPSError: return e.description
        case let e as DatabaseError:
            switch e.resultCode {
            case .SQLITE_FULL: return "the disk is full: nothing was recorded; free some space and try again"
            case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN:
                return "the database cannot be written (check the data directory's permissions): \(e.message ?? "")"
            case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the database file is damaged; run `jiayuan verify` and restore a backup"
            case .SQLITE_BUSY, .SQLITE_LOCKED: return "the database is busy; try again"
            case .SQLITE_IOERR: return "the disk could not be read or written (I/O error): \(e.message ?? "")"
            default: return "database error: \(e.message ?? "\(e.resultCode)")"
            }
        default: return "\(error)"
        }
    }
}
