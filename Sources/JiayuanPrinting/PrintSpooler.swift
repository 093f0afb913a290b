import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// What one pass of the spooler did.
public struct SpoolReport: Sendable, Equatable {
    public var printed: [Int64] = []
    public var submitted: [Int64] = []
    public var waiting: [Int64] = []
    public var failed: [Int64] = []
    /// CUPS queues found stopped (or refusing jobs) with work waiting, and started again this pass.
    public var resumed: [String] = []
    /// Stopped queues that could not be started again, and why (e.g. the server does not allow it).
    public var resumeFailed: [String: String] = [:]
}

/// When the spooler last looked at each queue with work waiting: it asks CUPS whether the queue is stopped,
/// and starts it again, at most every `PrinterRecovery.interval`, not on every pass.
public final class PrinterRecovery: @unchecked Sendable {
    /// How often a stopped queue is started again while jobs wait.
    public static let interval: TimeInterval = 15
    /// The one ledger of this process (the spooler is made anew for each pass).
    public static let shared = PrinterRecovery()
    private let lock = NSLock()
    private var lastTry: [String: Date] = [:]

    /// Whether `queue` may be looked at now (its last look is `interval` ago, or the clock went back); if so,
    /// the look is noted.
    func due(_ queue: String, now: Date) -> Bool {
        lock.withLock {
            if let last = lastTry[queue], now.timeIntervalSince(last) < Self.interval, now >= last { return false }
            lastTry[queue] = now
            return true
        }
    }
}

/// Sends queued jobs to their printers, retries with back-off, and follows CUPS jobs to the end.
/// Every state change is written to SQLite first, so a restart neither loses nor repeats a job:
/// a job found `submitting` after a restart is looked up (its file, or its CUPS job by title)
/// before it is sent again.
public struct PrintSpooler: Sendable {
    public let database: AppDatabase
    /// The print server for `cups:` targets (from the config or `CUPS_SERVER`).
    public let cupsServer: CUPSServer?
    /// Longest wait between tries, in seconds.
    public var maximumBackoff: Double = 300

    /// A spooler for `database`.
    public init(database: AppDatabase, cupsServer: CUPSServer?) {
        self.database = database
        self.cupsServer = cupsServer
    }

    /// Seconds to wait before try `attempts + 1`: 2, 4, 8 … up to `maximumBackoff`, ±20 % jitter.
    public func backoff(attempts: Int, rng: inout some RandomNumberGenerator) -> Double {
        let base = min(maximumBackoff, pow(2, Double(max(1, attempts))))
        return base * Double.random(in: 0.8...1.2, using: &rng)
    }

    /// A lock file: only one spooler (the kiosk's, or a command's) works on the queue at a time.
    public var lockPath: String?

    /// One pass over the jobs that need attention now. When another spooler holds the lock, this pass does
    /// nothing (that one will send the jobs), so no job is ever handed over twice by two processes.
    public func runOnce(now: Date = Date(), rng: inout some RandomNumberGenerator) throws -> SpoolReport {
        var lockFD: Int32 = -1
        if let lockPath {
            lockFD = open(lockPath, O_RDWR | O_CREAT, 0o600)
            guard lockFD >= 0 else { throw KioskError("cannot open \(lockPath): \(String(cString: strerror(errno)))") }
            guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
                close(lockFD)
                return SpoolReport()
            }
        }
        defer { if lockFD >= 0 { close(lockFD) } }
        var report = SpoolReport()
        var queuesWithWork: Set<String> = []
        for job in try database.activePrintJobs(dueBy: now) {
            let target: PrinterTarget
            do {
                target = try PrinterTarget(job.target, relativeTo: "/")
            } catch {
                try database.updatePrintJob(job.id, state: .failed, at: now, error: KioskError.describe(error))
                report.failed.append(job.id)
                continue
            }
            switch target {
            case .file(let dir): try spoolToFile(job, directory: dir, now: now, report: &report, rng: &rng)
            case .cups(let queue):
                queuesWithWork.insert(queue)
                try spoolToCUPS(job, queue: queue, now: now, report: &report, rng: &rng)
            }
        }
        for queue in queuesWithWork.sorted() { recover(queue, now: now, report: &report) }
        return report
    }

    /// A queue that CUPS stopped (the `stop-printer` error policy after paper ran out, or a backend that asked
    /// for it) holds its jobs until someone runs `cupsenable`. With jobs waiting, the spooler starts it again
    /// itself, every `PrinterRecovery.interval` at most: if the printer still fails, CUPS stops it again and
    /// the next try waits; once the printer answers, every waiting job prints once.
    func recover(_ queue: String, now: Date, report: inout SpoolReport) {
        guard let server = cupsServer else { return }
        // The throttle first: a pass every second asks CUPS about the queue at most once per interval.
        guard PrinterRecovery.shared.due(server.description + "/" + queue, now: now) else { return }
        let client = CUPSClient(server: server, timeout: 10)
        guard let status = try? client.printerStatus(queue: queue), status.state == .stopped || !status.accepting else { return }
        do {
            try client.resumePrinter(queue: queue)
            report.resumed.append(queue)
        } catch {
            report.resumeFailed[queue] = KioskError.describe(error)
        }
    }

    /// The file a job becomes in a `file:` directory.
    public static func fileName(_ job: PrintJob) -> String { String(format: "%06lld-", job.id) + job.kind + ".escpos" }

    func spoolToFile(_ job: PrintJob, directory: String, now: Date, report: inout SpoolReport, rng: inout some RandomNumberGenerator) throws
    {
        let path = directory + "/" + Self.fileName(job)
        if job.state == .submitting, FileManager.default.fileExists(atPath: path) {
            try database.updatePrintJob(job.id, state: .printed, at: now)
            report.printed.append(job.id)
            return
        }
        try database.updatePrintJob(job.id, state: .submitting, at: now, countAttempt: true)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Self.writeAtomically(job.bytes, to: path)
            try database.updatePrintJob(job.id, state: .printed, at: now)
            report.printed.append(job.id)
        } catch {
            let wait = backoff(attempts: job.attempts + 1, rng: &rng)
            try database.updatePrintJob(
                job.id, state: .queued, at: now, error: "cannot write \(path): \(error.localizedDescription)",
                nextAttemptAt: now.addingTimeInterval(wait))
            report.waiting.append(job.id)
        }
    }

    func spoolToCUPS(_ job: PrintJob, queue: String, now: Date, report: inout SpoolReport, rng: inout some RandomNumberGenerator) throws {
        guard let server = cupsServer else {
            try database.updatePrintJob(
                job.id, state: .queued, at: now, error: "no print server configured (set [printer] cups_server or CUPS_SERVER)",
                nextAttemptAt: now.addingTimeInterval(backoff(attempts: job.attempts + 1, rng: &rng)))
            report.waiting.append(job.id)
            return
        }
        let client = CUPSClient(server: server, timeout: 10)
        var handingOver = false
        do {
            switch job.state {
            case .submitted:
                try follow(job, client: client, queue: queue, now: now, report: &report)
                return
            case .submitting:
                // Handed over before a restart or a lost reply? The CUPS job id is recorded right after Create-Job,
                // before the document is sent, so ask CUPS about that job instead of sending it again. (Without an
                // id, Create-Job never answered: any job it made has no document and prints nothing.)
                if let cupsID = job.cupsJobID {
                    do {
                        let status = try client.jobStatus(id: cupsID)
                        // (cupsd drops a finished job's documents, so "no documents" means "never came" only for a
                        // job still open; a cancelled one never finished printing either.)
                        if status.documents == 0 && !status.state.isFinished {
                            // Created, but the document never came: cancel that empty job and send afresh below.
                            try? client.cancelJob(id: cupsID)
                        } else if status.state == .canceled {
                            // Cancelled before it printed: send afresh below.
                        } else {
                            try database.updatePrintJob(job.id, state: .submitted, at: now, cupsJobID: cupsID)
                            var adopted = job
                            adopted.state = .submitted
                            try follow(adopted, client: client, queue: queue, now: now, report: &report)
                            return
                        }
                    } catch let error as CUPSError where error.kind == .jobNotFound {
                        // CUPS has no trace of it (never completed Create-Job on its side): send afresh below.
                    }
                }
            case .queued, .printed, .failed:
                break
            }
            try database.updatePrintJob(job.id, state: .submitting, at: now, countAttempt: true)
            handingOver = true
            let database = self.database
            let id = try client.submitRaw(queue: queue, title: job.title, data: job.bytes) { created in
                try database.updatePrintJob(job.id, state: .submitting, at: now, cupsJobID: created)
            }
            try database.updatePrintJob(job.id, state: .submitted, at: now, cupsJobID: id, error: nil)
            report.submitted.append(job.id)
        } catch let error as CUPSError {
            let wait = backoff(attempts: job.attempts + 1, rng: &rng)
            switch job.state {
            case .submitted where error.kind == .jobNotFound:
                // CUPS no longer knows the job: whether it printed cannot be told; staff decide (`print reprint`).
                try database.updatePrintJob(
                    job.id, state: .failed, at: now, error: "the print server no longer knows this job; reprint it if it did not come out")
                report.failed.append(job.id)
                return
            case .submitted:
                // CUPS already holds it: keep following it; never send it a second time.
                try database.updatePrintJob(job.id, state: .submitted, at: now, error: error.description)
            default:
                // Plainly queued again only when it was refused before anything was handed over (this pass started
                // from `queued`, and CUPS made no job). Otherwise it may have reached CUPS before the error (a lost
                // reply, or a lookup that could not run): stay `submitting`, so the next try looks for it by title first.
                let refused = [.unreachable, .queueNotFound, .notAccepting, .notAllowed].contains(error.kind)
                let neverSent = job.state == .queued && handingOver && refused && error.jobID == nil
                try database.updatePrintJob(
                    job.id, state: neverSent ? .queued : .submitting, at: now, error: error.description,
                    nextAttemptAt: now.addingTimeInterval(wait))
            }
            report.waiting.append(job.id)
        }
    }

    /// Follows a submitted CUPS job: completed → printed; aborted or cancelled → failed; otherwise the
    /// printer's state reasons are kept as the job's last error for staff to see.
    func follow(_ job: PrintJob, client: CUPSClient, queue: String, now: Date, report: inout SpoolReport) throws {
        guard let cupsID = job.cupsJobID else { return }
        let status = try client.jobStatus(id: cupsID)
        switch status.state {
        case .completed:
            try database.updatePrintJob(job.id, state: .printed, at: now)
            report.printed.append(job.id)
        case .aborted, .canceled:
            try database.updatePrintJob(job.id, state: .failed, at: now, error: "CUPS gave up on job \(cupsID)")
            report.failed.append(job.id)
        case .pending, .held, .processing, .stopped:
            // Why it is not done yet, in words: the printer's reasons, else the job's own.
            let printer = try? client.printerStatus(queue: queue)
            let reasons = (printer?.reasons ?? []) + status.reasons.filter { $0 != "job-printing" && $0 != "job-incoming" && $0 != "none" }
            var words = reasons.map { CUPSClient.explain(reason: $0).en }
            if let message = status.printerMessage ?? printer?.message, !message.isEmpty { words.append(message) }
            try database.updatePrintJob(job.id, state: .submitted, at: now, error: words.isEmpty ? nil : words.joined(separator: "; "))
            report.waiting.append(job.id)
        }
    }

    /// Writes `bytes` to `path` via a temporary file, fsync and rename, so a reader never sees half a job.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw KioskError(String(cString: strerror(errno))) }
        var ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temp)
            throw KioskError(message)
        }
        let dir = open((path as NSString).deletingLastPathComponent, O_RDONLY)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
