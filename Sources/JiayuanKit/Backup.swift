import Foundation
import JiayuanDomain
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// Nightly backups of the kiosk database and restoring one (`jiayuan backup`, `jiayuan restore`).
public enum Backup {
    /// What a backup did.
    public struct Result: Sendable {
        /// The verified backup file.
        public var path: String
        public var events: Int64
        public var bytes: Int64
        /// Old backups removed.
        public var pruned: [String]
    }

    /// The default folder: `backups/` in the data directory.
    public static func defaultDirectory(_ data: DataDirectory) -> String { data.path + "/backups" }

    /// `jiayuan-20261129T020000Z.sqlite`.
    static func fileName(_ now: Date) -> String {
        let stamp = ISOTime.format(now).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "jiayuan-\(stamp).sqlite"
    }

    /// Writes a consistent copy with `VACUUM INTO`, verifies it (integrity and chain) before giving it its
    /// name, and removes backups older than `keepDays`.
    public static func run(_ data: DataDirectory, to directory: String? = nil, keepDays: Int = 14, now: Date = Date()) throws -> Result {
        let dir = directory ?? defaultDirectory(data)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.fileExists(atPath: data.databasePath) else {
            throw KioskError("no database in \(data.path) to back up")
        }
        let final = dir + "/" + fileName(now)
        let partial = final + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try AppDatabase.backup(databaseAt: data.databasePath, to: partial)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw KioskError("the backup could not be written to \(dir): \(KioskError.describe(error))")
        }
        let report = try AppDatabase.verifyFile(partial)
        guard report.ok else {
            try? FileManager.default.removeItem(atPath: partial)
            throw KioskError("the backup failed its check (\(describe(report))); nothing was kept")
        }
        guard rename(partial, final) == 0 else { throw KioskError("cannot name the backup \(final)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: final)[.size] as? Int64) ?? 0
        var pruned: [String] = []
        let cutoff = now.addingTimeInterval(-Double(keepDays) * 86400)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where name.hasPrefix("jiayuan-") && name.hasSuffix(".sqlite") && dir + "/" + name != final {
            let path = dir + "/" + name
            if let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: path)
                pruned.append(path)
            }
        }
        return Result(path: final, events: report.eventCount, bytes: size, pruned: pruned.sorted())
    }

    static func describe(_ report: VerifyReport) -> String {
        if let p = report.chainProblem { return "the event chain is broken at seq \(p.seq)" }
        return "integrity: \(report.integrityProblems.prefix(2).joined(separator: "; "))"
    }

    /// Restores `file` as the kiosk database: refuses a backup that fails integrity or chain checks, and
    /// refuses while `jiayuan serve` runs; the current database is kept aside, renamed. Returns the path it
    /// was moved to (nil when there was none).
    public static func restore(_ file: String, into data: DataDirectory, now: Date = Date()) throws -> (kept: String?, events: Int64) {
        guard FileManager.default.fileExists(atPath: file) else { throw KioskError("no backup file \(file)") }
        let report: VerifyReport
        do {
            report = try AppDatabase.verifyFile(file)
        } catch {
            throw KioskError("\(file) is not a readable kiosk database: \(KioskError.describe(error))")
        }
        guard report.ok else { throw KioskError("refusing \(file): \(describe(report))") }
        let lock = try ServeLock.acquire(data)
        defer { lock.release() }
        var kept: String?
        if FileManager.default.fileExists(atPath: data.databasePath) {
            // Fold the WAL into the file first; whatever is left in it moves aside with it (SQLite reads
            // `NAME-wal` beside `NAME`), so nothing of the replaced database is lost.
            if let pool = try? AppDatabase.open(path: data.databasePath) {
                _ = try? pool.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
                try? pool.writer.close()
            }
            let aside = data.databasePath + ".replaced-" + fileName(now).dropFirst("jiayuan-".count).dropLast(".sqlite".count)
            guard rename(data.databasePath, aside) == 0 else { throw KioskError("cannot move the current database aside") }
            if FileManager.default.fileExists(atPath: data.databasePath + "-wal") {
                _ = rename(data.databasePath + "-wal", aside + "-wal")
            }
            try? FileManager.default.removeItem(atPath: data.databasePath + "-shm")
            kept = aside
        }
        let staging = data.databasePath + ".restoring"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.copyItem(atPath: file, toPath: staging)
        chmod(staging, 0o600)
        guard rename(staging, data.databasePath) == 0 else { throw KioskError("cannot put the backup in place") }
        _ = try data.openDatabase()
        return (kept, report.eventCount)
    }
}

/// Held by `jiayuan serve` for as long as it runs (an advisory lock on `serve.lock` in the data
/// directory), so `restore` cannot swap the database under a running kiosk.
public final class ServeLock: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    /// Takes the lock or says, in plain words, that the kiosk is running.
    public static func acquire(_ data: DataDirectory) throws -> ServeLock {
        let fd = open(data.path + "/serve.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw KioskError("cannot write in \(data.path) (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw KioskError("the kiosk is running on \(data.path): stop it first (systemctl stop jiayuan)")
        }
        return ServeLock(fd: fd)
    }

    /// Lets go.
    public func release() {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
