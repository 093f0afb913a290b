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
    static func fileName(_ now: Date) -> String { "jiayuan-\(stamp(now)).sqlite" }

    /// The UTC time without separators, as backup and set-aside names carry it.
    static func stamp(_ now: Date) -> String {
        ISOTime.format(now).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
    }

    /// Writes a consistent copy with `VACUUM INTO`, verifies it (integrity and chain) before giving it its
    /// name, and removes backups older than `keepDays`.
    public static func run(_ data: DataDirectory, to directory: String? = nil, keepDays: Int = 14, now: Date = Date()) throws -> Result {
        let dir = directory ?? defaultDirectory(data)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.fileExists(atPath: data.databasePath) else {
            throw KioskError("no database in \(data.path) to back up")
        }
        // Never fill the disk the check-ins need: room for the copy and a good margin must be there first.
        let size = (try? FileManager.default.attributesOfItem(atPath: data.databasePath)[.size] as? Int64) ?? 0
        let wal = (try? FileManager.default.attributesOfItem(atPath: data.databasePath + "-wal")[.size] as? Int64) ?? 0
        let needed = size + wal + 64 << 20
        if let free = DataDirectory.freeBytes(dir), free < needed {
            throw KioskError(
                "not enough free space for a backup in \(dir): \(free >> 20) MB free, \(needed >> 20) MB needed (the database and a 64 MB margin); nothing was written"
            )
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
        try syncFile(partial)
        guard rename(partial, final) == 0 else { throw KioskError("cannot name the backup \(final)") }
        try syncFile(dir)
        let written = (try? FileManager.default.attributesOfItem(atPath: final)[.size] as? Int64) ?? 0
        return Result(path: final, events: report.eventCount, bytes: written, pruned: prune(dir, keepDays: keepDays, now: now))
    }

    /// Removes backups older than `keepDays` by the time in their names (not the files' dates), always
    /// keeping the newest three, and never acting on a clock that is behind the newest backup.
    static func prune(_ dir: String, keepDays: Int, now: Date) -> [String] {
        let backups = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).compactMap { name -> (String, Date)? in
            guard name.hasPrefix("jiayuan-"), name.hasSuffix("Z.sqlite") else { return nil }
            let stamp = name.dropFirst("jiayuan-".count).dropLast(".sqlite".count)
            guard stamp.count == 16,
                let date = ISOTime.parse(
                    String(stamp.prefix(4)) + "-" + stamp.dropFirst(4).prefix(2) + "-" + stamp.dropFirst(6).prefix(2)
                        + "T" + stamp.dropFirst(9).prefix(2) + ":" + stamp.dropFirst(11).prefix(2) + ":" + stamp.dropFirst(13).prefix(2)
                        + "Z", defaultZone: ISOTime.utc)
            else { return nil }
            return (dir + "/" + name, date)
        }.sorted { $0.1 > $1.1 }
        guard let newest = backups.first, newest.1 <= now.addingTimeInterval(3600) else { return [] }
        let cutoff = now.addingTimeInterval(-Double(keepDays) * 86400)
        var pruned: [String] = []
        for (path, date) in backups.dropFirst(3) where date < cutoff {
            try? FileManager.default.removeItem(atPath: path)
            pruned.append(path)
        }
        return pruned.sorted()
    }

    /// fsync of a file or directory, so a power cut cannot leave a name pointing at nothing.
    static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KioskError("cannot open \(path) to flush it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw KioskError("cannot flush \(path) to disk (\(String(cString: strerror(errno))))") }
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
                try? pool.checkpointAndClose()
            }
            let aside = data.databasePath + ".replaced-" + stamp(now)
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
        try syncFile(staging)
        guard rename(staging, data.databasePath) == 0 else { throw KioskError("cannot put the backup in place") }
        try syncFile(data.path)
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
