import Foundation
import JiayuanPostgres
import JiayuanProcess
import JiayuanTestSupport
import Testing

/// The private test server, from `kiosk/dev/postgres.sh start DIR && source DIR/env`.
let testURL = ProcessInfo.processInfo.environment["JIAYUAN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// Serialized: one test restarts the server, which would break the others running at the same time.
@Suite(
    "PostgreSQL (needs JIAYUAN_TEST_POSTGRES_URL)",
    .serialized,
    .blocking,
    .enabled(
        if: testURL != nil,
        "JIAYUAN_TEST_POSTGRES_URL is not set: run `bash kiosk/dev/postgres.sh start /tmp/pgtest && source /tmp/pgtest/env` first")
)
struct PostgresTests {
    func connect() throws -> PGConnection {
        try PGConnection(url: try #require(testURL))
    }

    @Test func executeWithParameters() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE m (id bigint PRIMARY KEY, name text NOT NULL, born int)")
        let ins = try db.execute("INSERT INTO m VALUES ($1, $2, $3), ($4, $5, $6)", ["1", "Li", "1950", "2", "Wang", nil])
        #expect(ins.affectedRows == 2)
        #expect(ins.commandTag == "INSERT 0 2")
        let r = try db.execute("SELECT id, name, born FROM m WHERE id >= $1 ORDER BY id", ["1"])
        #expect(r.columns == ["id", "name", "born"])
        #expect(r.count == 2)
        #expect(r.int64(0, "id") == 1)
        #expect(r.string(1, "name") == "Wang")
        #expect(r.int64(0, "born") == 1950)
        #expect(r.int64(1, "born") == nil)
        #expect(r.string(0, "nope") == nil)
        #expect(r.string(5, "id") == nil)
        let upd = try db.execute("UPDATE m SET born = 1960 WHERE born IS NULL")
        #expect(upd.affectedRows == 1)
    }

    @Test func nullsAndEmptyStrings() throws {
        let db = try connect()
        defer { db.close() }
        let r = try db.execute("SELECT $1::text AS a, $2::text AS b, $1::text IS NULL AS a_null, $2::text = '' AS b_empty", [nil, ""])
        #expect(r.rows == [[nil, "", "t", "t"]])
        #expect(r.bool(0, "a_null") == true)
        #expect(r.bool(0, "b_empty") == true)
    }

    @Test func multiStatementWithoutParameters() throws {
        let db = try connect()
        defer { db.close() }
        let r = try db.execute("CREATE TEMP TABLE x (v int); INSERT INTO x VALUES (1), (2); SELECT sum(v) AS s FROM x")
        #expect(r.int64(0, "s") == 3)
    }

    @Test func chineseTextRoundTrip() throws {
        let db = try connect()
        defer { db.close() }
        #expect(try db.execute("SHOW client_encoding").rows == [["UTF8"]])
        let text = "老年人日间照料中心 王*英 绿色双拥港 👴🏻 \u{00E9}"
        try db.execute("CREATE TEMP TABLE t (s text)")
        try db.execute("INSERT INTO t VALUES ($1)", [text])
        let r = try db.execute("SELECT s, length(s) AS n FROM t WHERE s = $1", [text])
        #expect(r.string(0, "s") == text)
        #expect(r.int64(0, "n") == Int64(text.unicodeScalars.count))
        // Literal Chinese in the SQL text itself, through PQexec.
        #expect(try db.execute("SELECT '家园中心' AS s").string(0, "s") == "家园中心")
    }

    @Test func copyInHundredThousandAwkwardRows() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE c (id int PRIMARY KEY, a text, b text)")
        let awkward: [String?] = [
            "plain", "", nil, "tab\there", "new\nline", "cr\rlf\r\n", "back\\slash", "\\N", "\\.", ".",
            "\\", "\t", "\n", "家园中心 \t 王秀英\\n", "ends with backslash\\", "NULL", "\"quoted\" 'single'", "a\u{1}b",
        ]
        let n = 100_000
        var rows: [[String?]] = []
        rows.reserveCapacity(n)
        for i in 0..<n {
            rows.append([String(i), awkward[i % awkward.count], awkward[(i / awkward.count) % awkward.count]])
        }
        let copied = try db.copyIn("COPY c (id, a, b) FROM STDIN", rows: rows)
        #expect(copied == n)
        #expect(try db.execute("SELECT count(*) AS n FROM c").int64(0, "n") == Int64(n))
        let nullCount = rows.filter { $0[1] == nil }.count
        let emptyCount = rows.filter { $0[1] == "" }.count
        let counts = try db.execute("SELECT count(*) FILTER (WHERE a IS NULL) AS nulls, count(*) FILTER (WHERE a = '') AS empties FROM c")
        #expect(counts.int64(0, "nulls") == Int64(nullCount))
        #expect(counts.int64(0, "empties") == Int64(emptyCount))
        // Every value comes back exactly as sent.
        let back = try db.execute("SELECT id, a, b FROM c ORDER BY id")
        #expect(back.count == n)
        var mismatches = 0
        for i in 0..<n where back.rows[i] != rows[i] { mismatches += 1 }
        #expect(mismatches == 0)
    }

    @Test func copyInErrorCopiesNothingAndConnectionStaysUsable() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE c (id int PRIMARY KEY, a text)")
        let rows: [[String?]] = [["1", "x"], ["2", "y"], ["1", "duplicate"]]
        let error = #expect(throws: PGError.self) { try db.copyIn("COPY c (id, a) FROM STDIN", rows: rows) }
        #expect(error?.sqlState == "23505")
        #expect(try db.execute("SELECT count(*) AS n FROM c").int64(0, "n") == 0)
        let notCopy = #expect(throws: PGError.self) { try db.copyIn("SELECT 1", rows: []) }
        #expect(notCopy?.message.contains("COPY") == true)
        #expect(try db.copyIn("COPY c (id, a) FROM STDIN", rows: []) == 0)
        #expect(try db.execute("SELECT 1 AS one").int64(0, "one") == 1)
    }

    @Test func uniqueViolationCarriesSQLState() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE u (id int PRIMARY KEY)")
        try db.execute("INSERT INTO u VALUES ($1)", ["7"])
        let error = #expect(throws: PGError.self) { try db.execute("INSERT INTO u VALUES ($1)", ["7"]) }
        #expect(error?.sqlState == "23505")
        #expect(error?.isUniqueViolation == true)
        #expect(error?.description.contains("duplicate key") == true)
        #expect(error?.description.contains("23505") == true)
        let syntax = #expect(throws: PGError.self) { try db.execute("SELEC 1") }
        #expect(syntax?.sqlState == "42601")
    }

    @Test func failedTransactionRollsBackAndConnectionIsUsable() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE tx (id int PRIMARY KEY, v text)")
        let error = #expect(throws: PGError.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO tx VALUES (1, 'a')")
                try tx.execute("INSERT INTO tx VALUES (2, 'b')")
                try tx.execute("INSERT INTO tx VALUES (1, 'again')")
            }
        }
        #expect(error?.sqlState == "23505")
        #expect(!db.isInTransaction)
        #expect(!db.isBroken)
        #expect(try db.execute("SELECT count(*) AS n FROM tx").int64(0, "n") == 0)

        // A thrown Swift error rolls back too.
        struct Oops: Error {}
        #expect(throws: Oops.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO tx VALUES (3, 'c')")
                throw Oops()
            }
        }
        #expect(try db.execute("SELECT count(*) AS n FROM tx").int64(0, "n") == 0)

        // A committed transaction keeps its rows and returns the body's value.
        let n = try db.transaction { tx in
            try tx.execute("INSERT INTO tx VALUES (4, 'd')").affectedRows
        }
        #expect(n == 1)
        #expect(try db.execute("SELECT v FROM tx WHERE id = 4").string(0, "v") == "d")
    }

    @Test func swallowedErrorInsideTransactionIsReported() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE sw (id int PRIMARY KEY)")
        let error = #expect(throws: PGError.self) {
            try db.transaction { tx in
                try tx.execute("INSERT INTO sw VALUES (1)")
                _ = try? tx.execute("INSERT INTO sw VALUES (1)")  // fails; the body ignores it
            }
        }
        #expect(error?.sqlState == "25P02")
        #expect(try db.execute("SELECT count(*) AS n FROM sw").int64(0, "n") == 0)
    }

    @Test func nestedTransactionUsesSavepoint() throws {
        let db = try connect()
        defer { db.close() }
        try db.execute("CREATE TEMP TABLE nt (id int PRIMARY KEY)")
        try db.transaction { tx in
            try tx.execute("INSERT INTO nt VALUES (1)")
            _ = try? tx.transaction { inner in
                try inner.execute("INSERT INTO nt VALUES (2)")
                try inner.execute("INSERT INTO nt VALUES (1)")  // duplicate: only the inner part is undone
            }
            try tx.transaction { inner in try inner.execute("INSERT INTO nt VALUES (3)") }
        }
        #expect(try db.execute("SELECT id FROM nt ORDER BY id").rows == [["1"], ["3"]])
    }

    @Test func poolFromEightThreads() throws {
        let url = try #require(testURL)
        let pool = try PGPool(url: url, size: 3)
        let table = "pool_\(UInt32.random(in: 0...UInt32.max))"
        try pool.withConnection { try $0.execute("CREATE TABLE \(table) (thread int, i int, pid int)") }
        defer { _ = try? pool.withConnection { try $0.execute("DROP TABLE \(table)") } }

        let threads = 8, perThread = 50
        let lock = NSLock()
        nonisolated(unsafe) var errors: [String] = []
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                for i in 0..<perThread {
                    do {
                        try pool.withConnection { db in
                            try db.transaction { tx in
                                try tx.execute("INSERT INTO \(table) VALUES ($1, $2, pg_backend_pid())", [String(t), String(i)])
                            }
                        }
                    } catch {
                        lock.lock(); errors.append("\(error)"); lock.unlock()
                    }
                }
            }
            thread.start()
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        lock.lock(); let seen = errors; lock.unlock()
        #expect(seen.isEmpty, "errors: \(seen.prefix(3))")
        let r = try pool.withConnection {
            try $0.execute("SELECT count(*) AS n, count(DISTINCT pid) AS pids, count(DISTINCT thread) AS threads FROM \(table)")
        }
        #expect(r.int64(0, "n") == Int64(threads * perThread))
        #expect(r.int64(0, "threads") == Int64(threads))
        #expect((r.int64(0, "pids") ?? 99) <= 3)
    }

    @Test func poolRollsBackATransactionLeftOpen() throws {
        let pool = try PGPool(url: try #require(testURL), size: 1)
        struct Oops: Error {}
        #expect(throws: Oops.self) {
            try pool.withConnection { db in
                try db.execute("BEGIN")
                throw Oops()
            }
        }
        try pool.withConnection { db in #expect(!db.isInTransaction) }
    }

    @Test(arguments: [
        "postgres://jiayuan:S3cret-pw_42@127.0.0.1:1/jiayuan_test",
        "postgresql://jiayuan:S3cret-pw_42@127.0.0.1:1/jiayuan_test?connect_timeout=2",
        "postgres://jiayuan:S3cret-pw_42@127.0.0.1:notaport/jiayuan_test",
        "postgres://jiayuan:S3cret-pw_42%zz@127.0.0.1/jiayuan_test",
        "postgres://jiayuan@127.0.0.1:1/jiayuan_test?password=S3cret-pw_42&bogus=1",
        "host=127.0.0.1 port=1 user=jiayuan password=S3cret-pw_42 dbname=jiayuan_test",
        "host=127.0.0.1 port=1 password='S3cret-pw_42' bad",
    ])
    func badURLGivesErrorWithoutPassword(url: String) throws {
        let error = #expect(throws: PGError.self) { try PGConnection(url: url) }
        let text = try #require(error).description
        #expect(!text.contains("S3cret"), "leaked: \(text)")
        #expect(error?.isConnectionError == true)
        #expect(!text.contains("\n"))
        let poolError = #expect(throws: PGError.self) { try PGPool(url: url, size: 2) }
        #expect(poolError?.description.contains("S3cret") == false)
    }

    @Test func refusedPortSaysSo() throws {
        let error = #expect(throws: PGError.self) { try PGConnection(url: "postgres://jiayuan:pw@127.0.0.1:1/x") }
        #expect(error?.message.contains("Could not connect to PostgreSQL") == true)
        #expect(error?.message.contains("refused") == true)
        #expect(error?.sqlState == "08001")
    }

    @Test func connectionSettings() throws {
        let db = try connect()
        defer { db.close() }
        let r = try db.execute("SELECT current_setting('client_encoding') AS enc, current_setting('application_name') AS app")
        #expect(r.string(0, "enc") == "UTF8")
        #expect(r.string(0, "app") == "jiayuan")
        // A URL that asks for another encoding still gets UTF-8.
        let latin = try PGConnection(url: try #require(testURL) + "?client_encoding=LATIN1")
        defer { latin.close() }
        #expect(try latin.execute("SHOW client_encoding").rows == [["UTF8"]])
    }

    @Test func closedConnectionThrows() throws {
        let db = try connect()
        db.close()
        #expect(db.isBroken)
        let error = #expect(throws: PGError.self) { try db.execute("SELECT 1") }
        #expect(error?.isConnectionError == true)
        db.close()
    }

    @Test func poolReplacesAConnectionKilledByTheServer() throws {
        let pool = try PGPool(url: try #require(testURL), size: 1)
        let pid = try #require(try pool.withConnection { try $0.execute("SELECT pg_backend_pid() AS pid").string(0, "pid") })
        let admin = try connect()
        defer { admin.close() }
        #expect(try admin.execute("SELECT pg_terminate_backend($1::int) AS ok", [pid]).bool(0, "ok") == true)
        Thread.sleep(forTimeInterval: 0.2)
        let newPid = try pool.withConnection { try $0.execute("SELECT pg_backend_pid() AS pid").string(0, "pid") }
        #expect(newPid != nil && newPid != pid)
    }

    @Test func poolReportsAStoppedServerAndRecovers() throws {
        let cluster = try OwnCluster()
        defer { cluster.remove() }
        let runScript = cluster.run
        let pool = try PGPool(url: cluster.url, size: 2)
        try pool.withConnection { _ = try $0.execute("SELECT 1") }
        try runScript("stop")
        defer { try? runScript("start") }
        let down = #expect(throws: PGError.self) { try pool.withConnection { _ = try $0.execute("SELECT 1") } }
        #expect(down?.sqlState == "08001")
        #expect(down?.message.contains("Could not connect to PostgreSQL") == true)
        try runScript("start")
        #expect(try pool.withConnection { try $0.execute("SELECT 1 AS one").int64(0, "one") } == 1)
    }

    @Test func reconnectAfterServerRestart() throws {
        let cluster = try OwnCluster()
        defer { cluster.remove() }
        let runScript = cluster.run
        let url = cluster.url
        let pool = try PGPool(url: url, size: 2)
        let before = try pool.withConnection { try $0.execute("SELECT pg_backend_pid() AS pid").int64(0, "pid") }
        let direct = try PGConnection(url: url)
        defer { direct.close() }

        try runScript("restart")

        // A plain connection reports the loss clearly and stays broken.
        let lost = #expect(throws: PGError.self) { try direct.execute("SELECT 1") }
        #expect(lost?.sqlState == "08006")
        #expect(lost?.message.contains("Lost the connection") == true)
        #expect(direct.isBroken)

        // The pool notices before lending the connection and reconnects.
        let after = try pool.withConnection { try $0.execute("SELECT pg_backend_pid() AS pid").int64(0, "pid") }
        #expect(after != nil)
        #expect(after != before)
        for _ in 0..<5 { try pool.withConnection { _ = try $0.execute("SELECT 1") } }
    }
}

/// A PostgreSQL cluster of the test's own (kiosk/dev/postgres.sh in a new folder), for the tests that stop
/// and restart the server: the shared test server must stay up for the other suites running meanwhile.
struct OwnCluster {
    let dir: String
    let url: String

    init() throws {
        dir = "/tmp/jypg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.script("start", dir)
        let env = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        guard let line = env.split(separator: "\n").first(where: { $0.contains("JIAYUAN_TEST_POSTGRES_URL=") }) else {
            throw PGError(message: "postgres.sh wrote no URL")
        }
        url = String(line[line.index(after: line.firstIndex(of: "=")!)...])
    }

    /// Runs `kiosk/dev/postgres.sh COMMAND DIR`.
    func run(_ command: String) throws { try Self.script(command, dir) }

    func remove() {
        try? Self.script("stop", dir)
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func script(_ command: String, _ dir: String) throws {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("kiosk/dev/postgres.sh").path
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [script, command, dir]
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw PGError(message: "postgres.sh \(command) failed") }
    }
}
