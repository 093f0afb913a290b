import CLibPQ
import Foundation

/// One libpq connection. Not thread-safe: use it from one thread at a time (``PGPool`` guarantees that).
///
/// The connection always uses `client_encoding=UTF8`. Server notices (such as "table does not exist,
/// skipping") are ignored rather than printed to standard error.
public final class PGConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    private let redactor: Redactor
    private var savepointDepth = 0

    /// Seconds to wait for a connection unless the URL says otherwise (`connect_timeout`).
    public static let defaultConnectTimeout = 10

    /// Bytes of COPY data sent to the server at a time.
    static let copyChunkSize = 256 * 1024

    /// Connects, and waits until the connection is ready.
    ///
    /// Gives up after ``defaultConnectTimeout`` seconds unless the URL sets `connect_timeout`.
    /// - Parameter url: a URI such as `postgres://user:pass@127.0.0.1:5432/db?connect_timeout=5`, or a
    ///   key=value string such as `host=127.0.0.1 port=5432 dbname=db user=me`.
    /// - Throws: ``PGError`` (SQLSTATE `08001`) when the server cannot be reached or refuses the login;
    ///   the message never contains the password.
    public init(url: String) throws {
        redactor = Redactor(conninfo: url)
        // `dbname` with expand_dbname=1 accepts both a URI and a key=value string. libpq keeps the last value
        // of a repeated keyword: the default connect timeout comes before it (the URL may change it), the
        // encoding after it (always UTF-8, also after a reset).
        let keywords = ["connect_timeout", "dbname", "client_encoding", "fallback_application_name"]
        let values = [String(Self.defaultConnectTimeout), url, "UTF8", "jiayuan"]
        let c: OpaquePointer? = withCStringArray(keywords) { k in
            withCStringArray(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let c else {
            throw PGError(message: "Could not connect to PostgreSQL: out of memory.", sqlState: SQLState.unableToConnect)
        }
        if PQstatus(c) != CONNECTION_OK {
            let why = Self.tidy(String(cString: PQerrorMessage(c)))
            PQfinish(c)
            throw PGError(
                message: redactor.clean("Could not connect to PostgreSQL: \(why)"),
                sqlState: SQLState.unableToConnect)
        }
        PQsetNoticeProcessor(c, { _, _ in }, nil)
        conn = c
    }

    deinit {
        if let conn { PQfinish(conn) }
    }

    /// True when the connection is closed or lost (libpq's status is not `CONNECTION_OK`).
    ///
    /// A connection whose server went away is only noticed as broken after the next statement fails
    /// (or after ``PGPool`` checks it before lending it out).
    public var isBroken: Bool {
        guard let conn else { return true }
        return PQstatus(conn) != CONNECTION_OK
    }

    /// True while a transaction is open on this connection (including one that failed and awaits ROLLBACK).
    public var isInTransaction: Bool {
        guard let conn else { return false }
        let s = PQtransactionStatus(conn)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR
    }

    /// Closes the connection. Further statements throw; closing twice does nothing.
    public func close() {
        if let conn { PQfinish(conn) }
        conn = nil
    }

    /// Runs SQL and returns its whole result.
    ///
    /// With `params`, the SQL must be a single statement and refers to them as `$1`, `$2`, …; each is sent
    /// as text (`nil` is SQL NULL) and PostgreSQL converts it to the column's type. Without `params`, the
    /// SQL may hold several statements separated by `;` and the result is that of the last one.
    /// - Throws: ``PGError`` with the server's SQLSTATE (for example `23505` for a unique violation), or
    ///   `08006` when the connection is lost.
    @discardableResult
    public func execute(_ sql: String, _ params: [String?] = []) throws -> PGResult {
        let c = try live()
        let res: OpaquePointer?
        if params.isEmpty {
            res = PQexec(c, sql)
        } else {
            for (i, p) in params.enumerated() where p?.utf8.contains(0) == true {
                throw PGError(
                    message: "Parameter $\(i + 1) contains a NUL character, which PostgreSQL text cannot hold.",
                    sqlState: "22021")
            }
            res = withOptionalCStringArray(params) { values in
                PQexecParams(c, sql, Int32(params.count), nil, values, nil, nil, 0)
            }
        }
        defer { PQclear(res) }
        return try consume(res, sql: sql)
    }

    /// Loads rows with `COPY … FROM STDIN` in PostgreSQL's text format; the fastest way to insert many rows.
    ///
    /// Values are escaped for you (backslash, tab, newline, carriage return); `nil` is sent as `\N` (SQL NULL),
    /// which is different from the empty string. Data goes to the server in chunks of about 256 KB.
    /// - Parameters:
    ///   - copySQL: for example `COPY members (id, name) FROM STDIN` (text format, the default).
    ///   - rows: one array per row, one value per listed column.
    /// - Returns: the number of rows the server copied.
    /// - Throws: ``PGError``; the whole COPY is then undone (nothing is copied).
    @discardableResult
    public func copyIn(_ copySQL: String, rows: [[String?]]) throws -> Int {
        let c = try live()
        let start = PQexec(c, copySQL)
        let startStatus = start.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        if startStatus != PGRES_COPY_IN {
            defer { PQclear(start) }
            _ = try consume(start, sql: copySQL)  // throws the server's error if there is one
            throw PGError(message: "copyIn needs a COPY … FROM STDIN statement; this one is not: \(Self.shortened(copySQL))")
        }
        PQclear(start)

        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.copyChunkSize + 64 * 1024)
        var sendFailed = false
        func flush() {
            guard !buffer.isEmpty, !sendFailed else { return }
            let ok = buffer.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { PQputCopyData(c, $0.baseAddress, Int32($0.count)) }
            }
            if ok != 1 { sendFailed = true }
            buffer.removeAll(keepingCapacity: true)
        }
        for row in rows {
            var first = true
            for value in row {
                if !first { buffer.append(0x09) }
                first = false
                if let value { Self.appendCopyEscaped(value, to: &buffer) } else { buffer.append(contentsOf: [0x5C, 0x4E]) }  // \N
            }
            buffer.append(0x0A)
            if buffer.count >= Self.copyChunkSize {
                flush()
                if sendFailed { break }
            }
        }
        flush()
        _ = PQputCopyEnd(c, sendFailed ? "client failed to send COPY data" : nil)

        // Collect every result; the first one tells how the COPY went.
        var outcome: Result<Int, PGError>?
        while let r = PQgetResult(c) {
            if outcome == nil {
                if PQresultStatus(r) == PGRES_COMMAND_OK {
                    outcome = .success(Int(String(cString: PQcmdTuples(r))) ?? 0)
                } else {
                    outcome = .failure(error(from: r))
                }
            }
            PQclear(r)
            if PQstatus(c) != CONNECTION_OK { break }
        }
        switch outcome {
        case .success(let n)?: return n
        case .failure(let e)?: throw e
        case nil: throw connectionError(nil)
        }
    }

    /// Runs `COPY … TO STDOUT` and hands each piece of data (a row, in the COPY's format) to `chunk` as it
    /// arrives, without holding the whole result in memory.
    /// - Returns: the number of rows the server copied.
    /// - Throws: ``PGError``, or what `chunk` threw (the rest of the data is then read and discarded).
    @discardableResult
    public func copyOut(_ copySQL: String, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        let c = try live()
        let start = PQexec(c, copySQL)
        let startStatus = start.map(PQresultStatus) ?? PGRES_FATAL_ERROR
        if startStatus != PGRES_COPY_OUT {
            defer { PQclear(start) }
            _ = try consume(start, sql: copySQL)
            throw PGError(message: "copyOut needs a COPY … TO STDOUT statement; this one is not: \(Self.shortened(copySQL))")
        }
        PQclear(start)
        var thrown: (any Error)?
        while true {
            var buf: UnsafeMutablePointer<CChar>?
            let n = PQgetCopyData(c, &buf, 0)
            guard n > 0, let buf else { break }
            if thrown == nil {
                do { try chunk(UnsafeRawBufferPointer(start: buf, count: Int(n))) } catch { thrown = error }
            }
            PQfreemem(buf)
        }
        var outcome: Result<Int, PGError>?
        while let r = PQgetResult(c) {
            if outcome == nil {
                outcome =
                    PQresultStatus(r) == PGRES_COMMAND_OK ? .success(Int(String(cString: PQcmdTuples(r))) ?? 0) : .failure(error(from: r))
            }
            PQclear(r)
            if PQstatus(c) != CONNECTION_OK { break }
        }
        if let thrown { throw thrown }
        switch outcome {
        case .success(let n)?: return n
        case .failure(let e)?: throw e
        case nil: throw connectionError(nil)
        }
    }

    /// Runs `body` in a transaction: `BEGIN`, then `COMMIT` when `body` returns, or `ROLLBACK` when it throws
    /// (the connection is then usable again). Inside another transaction it uses a savepoint instead.
    /// - Throws: what `body` threw, or ``PGError`` — also when a statement inside failed but `body` caught that
    ///   error and returned anyway (PostgreSQL then rolls back at COMMIT; SQLSTATE `25P02`).
    @discardableResult
    public func transaction<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let nested = isInTransaction
        let savepoint = "jiayuan_sp_\(savepointDepth + 1)"
        if nested {
            try execute("SAVEPOINT \(savepoint)")
            savepointDepth += 1
        } else {
            try execute("BEGIN")
        }
        defer { if nested { savepointDepth -= 1 } }
        do {
            let value = try body(self)
            if nested {
                try execute("RELEASE SAVEPOINT \(savepoint)")
            } else {
                let done = try execute("COMMIT")
                if done.commandTag == "ROLLBACK" {
                    throw PGError(
                        message: "The transaction was rolled back because a statement in it failed.",
                        sqlState: "25P02")
                }
            }
            return value
        } catch {
            if !isBroken, isInTransaction {
                if nested {
                    _ = try? execute("ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)")
                } else {
                    _ = try? execute("ROLLBACK")
                }
            }
            throw error
        }
    }

    // MARK: - Used by PGPool

    /// Reads anything the server sent while idle (such as a shutdown notice) without blocking, and reports
    /// whether the connection is open, idle and outside any transaction.
    func isHealthyAndIdle() -> Bool {
        guard let conn else { return false }
        // A server that shut down sends an error message and then closes the socket; one PQconsumeInput may
        // read the message but not yet the end of the stream, so read until nothing more is waiting.
        for _ in 0..<8 {
            if PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK { return false }
            var fds = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, 0) <= 0 { break }
        }
        return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE
    }

    // MARK: - Private

    private func live() throws -> OpaquePointer {
        guard let conn else { throw PGError(message: "The PostgreSQL connection is closed.", sqlState: SQLState.connectionFailure) }
        if PQstatus(conn) != CONNECTION_OK { throw connectionError(nil) }
        return conn
    }

    /// Turns a libpq result into a PGResult or a PGError. Does not free `res`.
    private func consume(_ res: OpaquePointer?, sql: String) throws -> PGResult {
        guard let res else { throw connectionError(nil) }
        switch PQresultStatus(res) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return Self.result(from: res)
        case PGRES_COPY_IN:
            _ = PQputCopyEnd(conn, "COPY FROM STDIN must go through copyIn")
            drain()
            throw PGError(message: "Use copyIn for COPY … FROM STDIN: \(Self.shortened(sql))")
        case PGRES_COPY_OUT:
            var buf: UnsafeMutablePointer<CChar>?
            while PQgetCopyData(conn, &buf, 0) > 0 { PQfreemem(buf); buf = nil }
            drain()
            throw PGError(message: "COPY … TO STDOUT is not supported here: \(Self.shortened(sql))")
        default:
            throw error(from: res)
        }
    }

    private func drain() {
        guard let conn else { return }
        while let r = PQgetResult(conn) {
            PQclear(r)
            if PQstatus(conn) != CONNECTION_OK { break }
        }
    }

    private func error(from res: OpaquePointer) -> PGError {
        if isBroken { return connectionError(res) }
        func field(_ code: Character) -> String? {
            guard let p = PQresultErrorField(res, Int32(code.asciiValue!)) else { return nil }
            let s = String(cString: p)
            return s.isEmpty ? nil : s
        }
        var message = field("M") ?? Self.tidy(String(cString: PQresultErrorMessage(res)))
        if message.isEmpty { message = Self.tidy(String(cString: PQerrorMessage(conn))) }
        if message.isEmpty { message = "PostgreSQL reported an error without a message." }
        if let detail = field("D") { message += " (\(detail))" }
        if let hint = field("H") { message += " Hint: \(hint)" }
        return PGError(message: redactor.clean(message), sqlState: field("C"))
    }

    private func connectionError(_ res: OpaquePointer?) -> PGError {
        var why = conn.map { Self.tidy(String(cString: PQerrorMessage($0))) } ?? ""
        if why.isEmpty, let res { why = Self.tidy(String(cString: PQresultErrorMessage(res))) }
        if why.isEmpty { why = "no reason given" }
        return PGError(
            message: redactor.clean("Lost the connection to the PostgreSQL server: \(why)"),
            sqlState: SQLState.connectionFailure)
    }

    private static func result(from res: OpaquePointer) -> PGResult {
        let nrows = PQntuples(res), ncols = PQnfields(res)
        let columns = (0..<ncols).map { String(cString: PQfname(res, $0)) }
        var rows: [[String?]] = []
        rows.reserveCapacity(Int(nrows))
        for r in 0..<nrows {
            var row: [String?] = []
            row.reserveCapacity(Int(ncols))
            for c in 0..<ncols {
                if PQgetisnull(res, r, c) == 1 {
                    row.append(nil)
                } else {
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(res, r, c), count: Int(PQgetlength(res, r, c)))
                    row.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(row)
        }
        return PGResult(
            columns: columns, rows: rows,
            affectedRows: Int(String(cString: PQcmdTuples(res))) ?? 0,
            commandTag: String(cString: PQcmdStatus(res)))
    }

    /// Appends `value` in COPY text format: `\` → `\\`, tab → `\t`, newline → `\n`, CR → `\r`.
    @inline(__always)
    static func appendCopyEscaped(_ value: String, to buffer: inout [UInt8]) {
        var value = value
        value.withUTF8 { u in
            var start = 0
            for i in 0..<u.count {
                let escaped: UInt8
                switch u[i] {
                case 0x5C: escaped = 0x5C  // \\
                case 0x09: escaped = 0x74  // \t
                case 0x0A: escaped = 0x6E  // \n
                case 0x0D: escaped = 0x72  // \r
                default: continue
                }
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: u[start..<i]))
                buffer.append(0x5C)
                buffer.append(escaped)
                start = i + 1
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: u[start...]))
        }
    }

    /// One line: libpq's multi-line messages joined, surrounding space removed.
    static func tidy(_ s: String) -> String {
        s.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }

    private static func shortened(_ sql: String) -> String {
        let one = tidy(sql)
        return one.count > 80 ? String(one.prefix(77)) + "…" : one
    }
}

// MARK: - C string arrays

private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStringArray(strings.map { Optional($0) }) { p in
        // Both keyword and value arrays for PQconnectdbParams end with NULL.
        body(p!)
    }
}

/// Calls `body` with a NULL-terminated array of C strings (`nil` entries stay NULL); frees them afterwards.
private func withOptionalCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for p in copies { free(p) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
