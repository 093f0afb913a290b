import Foundation
import GRDB
import JiayuanDomain

/// Where a print job is in its life.
public enum PrintJobState: String, Sendable, CaseIterable {
    /// Waiting to be sent (first try, or after a failure, at `nextAttemptAt`).
    case queued
    /// Being handed to the printer; a restart finds out whether it arrived before sending again.
    case submitting
    /// Accepted by CUPS (`cupsJobID`), not yet reported completed.
    case submitted
    /// Done.
    case printed
    /// Given up (CUPS aborted or cancelled it); `print reprint` makes a new job.
    case failed
}

/// One print job, kept in SQLite from before submission until it is done.
public struct PrintJob: Hashable, Sendable, Identifiable {
    public var id: Int64
    public var kind: String
    public var documentNumber: String?
    /// `file:DIR` or `cups:QUEUE`.
    public var target: String
    public var bytes: [UInt8]
    public var state: PrintJobState
    public var attempts: Int
    public var nextAttemptAt: Date
    public var cupsJobID: Int?
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var reprintOf: Int64?

    /// The CUPS job title that identifies this job across restarts.
    public var title: String { "jiayuan-\(id)-\(kind)" }
}

/// A print job to record together with something else (a check-in's receipts, in the check-in's transaction).
public struct NewPrintJob: Sendable {
    public var kind: String
    public var documentNumber: String?
    public var target: String
    public var bytes: [UInt8]
    /// When it is queued (the wall clock, which can differ from a back-dated check-in's time).
    public var queuedAt: Date

    /// Creates a job description.
    public init(kind: String, documentNumber: String?, target: String, bytes: [UInt8], queuedAt: Date) {
        self.kind = kind
        self.documentNumber = documentNumber
        self.target = target
        self.bytes = bytes
        self.queuedAt = queuedAt
    }
}

extension AppDatabase {
    /// The one place a print job row is written; returns its id.
    @discardableResult
    static func insertPrintJob(_ db: Database, _ job: NewPrintJob, reprintOf: Int64? = nil) throws -> Int64 {
        let now = Stamp.text(job.queuedAt)
        try db.cachedStatement(
            sql: """
                INSERT INTO print_job (kind, document_no, target, bytes, next_attempt_at, created_at, updated_at, reprint_of)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [job.kind, job.documentNumber, job.target, Data(job.bytes), now, now, now, reprintOf])
        return db.lastInsertedRowID
    }

    /// Jobs printing a document number (a check-in's receipts), oldest first.
    public func printJobs(documentNumber: String) throws -> [PrintJob] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM print_job WHERE document_no = ? ORDER BY id", arguments: [documentNumber])
                .map(Self.printJob)
        }
    }

    /// Records a job before anything is sent to a printer.
    public func enqueuePrint(kind: String, documentNumber: String?, target: String, bytes: [UInt8], at now: Date, reprintOf: Int64? = nil)
        throws -> PrintJob
    {
        try write { db in
            let job = NewPrintJob(kind: kind, documentNumber: documentNumber, target: target, bytes: bytes, queuedAt: now)
            return try Self.fetchPrintJob(db, Self.insertPrintJob(db, job, reprintOf: reprintOf))!
        }
    }

    /// Records a prepared job and the audit entry of the staff action that asked for it, together.
    public func enqueuePrint(_ job: NewPrintJob, audit: AuditNote?) throws -> PrintJob {
        try write { db in
            let id = try Self.insertPrintJob(db, job)
            if var audit {
                audit.detail += audit.detail.isEmpty ? "print job \(id)" : ", print job \(id)"
                try Self.audit(db, audit)
            }
            return try Self.fetchPrintJob(db, id)!
        }
    }

    /// A new job with the same bytes as job `id`, to `target`. A job still waiting to be sent is replaced
    /// by the reprint (marked failed, "reprinted as job N"), so it cannot come out twice.
    public func reprint(_ id: Int64, target: String, at now: Date, audit: AuditNote? = nil) throws -> PrintJob {
        try write { db in
            guard let job = try Self.fetchPrintJob(db, id) else { throw StoreError("no print job \(id)") }
            let newID = try Self.insertPrintJob(
                db, NewPrintJob(kind: job.kind, documentNumber: job.documentNumber, target: target, bytes: job.bytes, queuedAt: now),
                reprintOf: id)
            try db.execute(
                sql: "UPDATE print_job SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
                arguments: ["reprinted as job \(newID)", Stamp.text(now), id])
            if var audit {
                audit.detail = "job \(id) → \(newID)"
                try Self.audit(db, audit)
            }
            return try Self.fetchPrintJob(db, newID)!
        }
    }

    /// One job.
    public func printJob(_ id: Int64) throws -> PrintJob? {
        try read { db in try Self.fetchPrintJob(db, id) }
    }

    /// Recent jobs, newest first.
    public func printJobs(limit: Int = 50, states: [PrintJobState]? = nil) throws -> [PrintJob] {
        try read { db in
            var sql = "SELECT * FROM print_job"
            var args: StatementArguments = []
            if let states {
                sql += " WHERE state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
                args += StatementArguments(states.map(\.rawValue))
            }
            sql += " ORDER BY id DESC LIMIT ?"
            args += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.printJob)
        }
    }

    /// Jobs that need the spooler now: queued or submitting (after a restart or a lost reply) and due, or
    /// submitted (to follow).
    public func activePrintJobs(dueBy now: Date) throws -> [PrintJob] {
        try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM print_job
                    WHERE (state IN ('queued', 'submitting') AND next_attempt_at <= ?) OR state = 'submitted'
                    ORDER BY id
                    """, arguments: [Stamp.text(now)]
            ).map(Self.printJob)
        }
    }

    /// How many jobs are not yet printed (queued, submitting or submitted).
    public func printBacklog() throws -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM print_job WHERE state IN ('queued', 'submitting', 'submitted')") ?? 0
        }
    }

    /// Moves a job to a new state, recording the attempt, CUPS job id, error and next try as given.
    public func updatePrintJob(
        _ id: Int64, state: PrintJobState, at now: Date, countAttempt: Bool = false, cupsJobID: Int? = nil,
        error: String? = nil, nextAttemptAt: Date? = nil
    ) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE print_job SET state = ?, updated_at = ?, attempts = attempts + ?,
                      cups_job_id = COALESCE(?, cups_job_id), last_error = ?, next_attempt_at = COALESCE(?, next_attempt_at)
                    WHERE id = ?
                    """,
                arguments: [
                    state.rawValue, Stamp.text(now), countAttempt ? 1 : 0, cupsJobID, error, nextAttemptAt.map(Stamp.text), id,
                ])
            guard db.changesCount == 1 else { throw StoreError("no print job \(id)") }
        }
    }

    static func fetchPrintJob(_ db: Database, _ id: Int64) throws -> PrintJob? {
        try Row.fetchOne(db, sql: "SELECT * FROM print_job WHERE id = ?", arguments: [id]).map(printJob)
    }

    static func printJob(_ row: Row) -> PrintJob {
        PrintJob(
            id: row["id"], kind: row["kind"], documentNumber: row["document_no"], target: row["target"],
            bytes: [UInt8](row["bytes"] as Data), state: PrintJobState(rawValue: row["state"]) ?? .queued, attempts: row["attempts"],
            nextAttemptAt: Stamp.date(row["next_attempt_at"]), cupsJobID: row["cups_job_id"], lastError: row["last_error"],
            createdAt: Stamp.date(row["created_at"]), updatedAt: Stamp.date(row["updated_at"]), reprintOf: row["reprint_of"])
    }
}

/// A service slip as recorded.
public struct ServiceSlip: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable { case repair, meal, queue }
    public var number: String
    public var kind: Kind
    public var day: CivilDate
    /// The slip's position in its day's series, from 1.
    public var seqOfDay: Int
    public var member: MemberID?
    public var details: [String: String]
    public var deadline: Date?
    public var createdAt: Date

    /// A slip as recorded (or a preview that is not).
    public init(
        number: String, kind: Kind, day: CivilDate, seqOfDay: Int, member: MemberID?, details: [String: String], deadline: Date?,
        createdAt: Date
    ) {
        self.number = number
        self.kind = kind
        self.day = day
        self.seqOfDay = seqOfDay
        self.member = member
        self.details = details
        self.deadline = deadline
        self.createdAt = createdAt
    }
}

extension AppDatabase {
    /// Records a service slip with the next number of its kind for `day` (restarting at 1 each day).
    /// `number` turns the day's sequence into the printed number.
    public func recordServiceSlip(
        kind: ServiceSlip.Kind, day: CivilDate, member: MemberID?, details: [String: String], deadline: Date?, at now: Date,
        number: (Int) -> String
    ) throws -> ServiceSlip {
        try recordServiceSlip(
            kind: kind, day: day, member: member, details: details, deadline: deadline, at: now, number: number, print: nil, audit: nil
        ).0
    }

    /// Records a service slip and, in the same transaction, its print job (made by `print` from the numbered
    /// slip) and the audit entry (its detail becomes the slip's number).
    public func recordServiceSlip(
        kind: ServiceSlip.Kind, day: CivilDate, member: MemberID?, details: [String: String], deadline: Date?, at now: Date,
        number: (Int) -> String, print: ((ServiceSlip) throws -> NewPrintJob)?, audit: AuditNote?
    ) throws -> (ServiceSlip, PrintJob?) {
        try write { db in
            let next =
                (try Int.fetchOne(
                    db, sql: "SELECT MAX(seq_of_day) FROM service_slip WHERE kind = ? AND day = ?",
                    arguments: [kind.rawValue, day.description]) ?? 0) + 1
            if let member { guard try Self.fetchMemberExists(db, member) else { throw StoreError("no member \(member)") } }
            let slip = ServiceSlip(
                number: number(next), kind: kind, day: day, seqOfDay: next, member: member, details: details, deadline: deadline,
                createdAt: now)
            let json = JSONWriter.serialize(details)
            try db.execute(
                sql: """
                    INSERT INTO service_slip (number, kind, day, seq_of_day, member, details, deadline, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    slip.number, kind.rawValue, day.description, next, member.map { Int64($0.number) }, json, deadline.map(Stamp.text),
                    Stamp.text(now),
                ])
            let job = try print.map { try Self.fetchPrintJob(db, Self.insertPrintJob(db, $0(slip)))! }
            if var audit {
                audit.member = member
                audit.detail = slip.number
                try Self.audit(db, audit)
            }
            return (slip, job)
        }
    }
}
