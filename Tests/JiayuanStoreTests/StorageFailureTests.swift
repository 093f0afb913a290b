import Foundation
import JiayuanDomain
import JiayuanTestSupport
import GRDB
import Testing

@testable import JiayuanStore

/// SQLite's failures leave the store as typed `StorageFailure` cases, made by real SQLite conditions: a
/// database that cannot grow, a read-only file, a damaged file. Callers switch on the case, never the text.
@Suite("Store: typed storage failures")
struct StorageFailureTests {
    @Test("a database that cannot grow (SQLITE_FULL) is .diskFull, and nothing of the failed write is kept")
    func fullDatabaseIsDiskFull() throws {
        let dir = TemporaryDirectory("storage-full")
        defer { dir.remove() }
        let db = try AppDatabase.open(path: dir.path + "/kiosk.sqlite")
        let now = Fixtures.at("2026-11-28 09:00")
        _ = try db.addMember(NewMember(name: "陈伟", group: .resident), at: now)
        // The file may not grow past its current size: the same condition as a full disk for SQLite.
        try db.writer.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 1
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let before = try db.members().count
        var failure: StorageFailure?
        for i in 0..<10_000 {
            do {
                _ = try db.addMembers(
                    (0..<50).map { NewMember(name: String("Resident \(i)-\($0) \(String(repeating: "x", count: 64))".prefix(60)), group: .resident) },
                    at: now)
            } catch let error as StorageFailure {
                failure = error
                break
            }
        }
        #expect(failure == .diskFull)
        #expect(KioskError.describe(try #require(failure)).contains("the disk is full"))
        #expect(try db.members().count >= before, "what was stored before stays")
    }

    @Test("a read-only database file is .readOnly on write; a damaged file is .corrupt when opened")
    func readOnlyAndCorrupt() throws {
        let dir = TemporaryDirectory("storage-ro")
        defer { dir.remove() }
        let path = dir.path + "/kiosk.sqlite"
        do {
            let db = try AppDatabase.open(path: path)
            _ = try db.addMember(NewMember(name: "陈伟", group: .resident), at: Fixtures.at("2026-11-28 09:00"))
            try db.checkpointAndClose()
        }
        let readOnly = try DatabaseOpening.readOnly(path)
        #expect(throws: StorageFailure.self) {
            _ = try readOnly.addMember(NewMember(name: "李娜", group: .resident), at: Fixtures.at("2026-11-28 09:05"))
        }
        do {
            _ = try readOnly.addMember(NewMember(name: "李娜", group: .resident), at: Fixtures.at("2026-11-28 09:05"))
        } catch let failure as StorageFailure {
            guard case .readOnly = failure else {
                Issue.record("expected .readOnly, got \(failure)")
                return
            }
        }
        let damaged = dir.path + "/damaged.sqlite"
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: damaged))
        #expect(throws: StorageFailure.corrupt) { _ = try AppDatabase.open(path: damaged) }
    }
}

/// A database opened through a read-only connection (the same SQLite condition as a file whose mode or
/// mount forbids writing, without needing a non-root user in the test).
enum DatabaseOpening {
    static func readOnly(_ path: String) throws -> AppDatabase {
        var config = AppDatabase.configuration()
        config.readonly = true
        return try AppDatabase.mapping { try AppDatabase(DatabaseQueue(path: path, configuration: config)) }
    }
}
