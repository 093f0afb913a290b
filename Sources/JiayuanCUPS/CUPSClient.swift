import CCUPS
import Dispatch

/// Talks to one CUPS scheduler through libcups: submits raw (ESC/POS) jobs and reads job and printer
/// states.
///
/// Every call opens its own connection (`httpConnect2`) to ``server``, passes it explicitly to libcups,
/// and closes it before returning, so calls are independent, safe from any thread, and never use the
/// per-thread `cupsSetServer` default. The synchronous methods block the calling thread (for
/// milliseconds on a healthy local cupsd, up to the timeout on a dead network); the `async` overloads
/// run the same call on a dedicated dispatch queue, never on Swift concurrency's cooperative pool.
public struct CUPSClient: Sendable {
    /// The scheduler this client talks to.
    public var server: CUPSServer
    /// Seconds to wait for the connection and for each response before giving up.
    public var timeout: Double

    /// Creates a client for `server`; `timeout` bounds the connection attempt and each wait for data.
    public init(server: CUPSServer, timeout: Double = 30) {
        self.server = server
        self.timeout = timeout
    }

    // MARK: Synchronous API (blocks the calling thread)

    /// Submits one raw job: an IPP Create-Job request, then `cupsStartDocument` with `CUPS_FORMAT_RAW`,
    /// `cupsWriteRequestData` and `cupsFinishDocument`. The bytes reach the printer unchanged.
    ///
    /// Create-Job is sent directly rather than through `cupsCreateJob`: libcups 2.4's `cupsCreateJob`
    /// looks the queue up with `cupsCopyDestInfo`, which treats a connection to any server other than the
    /// thread's `cupsServer()` default as a connection to the printer itself and queries the queue's
    /// device URI instead, so it fails with "not found" on e.g. 127.0.0.1:8631 (it also costs two extra
    /// round trips).
    ///
    /// - Returns: the CUPS job id.
    /// - Throws: ``CUPSError`` — `.queueNotFound`, `.notAccepting`, `.unreachable`, … If the job was
    ///   created but sending the document failed, the client cancels it and the error carries its
    ///   ``CUPSError/jobID``.
    public func submitRaw(queue: String, title: String, data: [UInt8]) throws -> Int {
        try submitRaw(queue: queue, title: title, data: data, created: { _ in })
    }

    /// As ``submitRaw(queue:title:data:)``, calling `created` with the new job's id after Create-Job and before
    /// the document is sent — so a caller can record the id durably first and, after a crash, ask CUPS about
    /// that job instead of sending it again. If `created` throws, the job is cancelled and nothing is printed.
    public func submitRaw(queue: String, title: String, data: [UInt8], created: (Int) throws -> Void) throws -> Int {
        try Self.validate(queue: queue)
        guard !data.isEmpty else {
            throw CUPSError(kind: .invalidRequest, message: "refusing to send an empty print job to \"\(queue)\"")
        }
        return try withConnection { http in
            let jobID = try createJob(http, queue: queue, title: title)
            do {
                try created(Int(jobID))
            } catch {
                cancelQuietly(queue: queue, jobID: jobID)
                throw error
            }
            do {
                let started = cupsStartDocument(http, queue, jobID, title, CUPS_FORMAT_RAW, 1)
                guard started == HTTP_STATUS_CONTINUE else {
                    throw lastError(http, about: .queue(queue), action: "sending the document")
                }
                try data.withUnsafeBytes { raw in
                    let bytes = raw.bindMemory(to: CChar.self)
                    var offset = 0
                    while offset < bytes.count {
                        let count = min(64 * 1024, bytes.count - offset)
                        guard cupsWriteRequestData(http, bytes.baseAddress! + offset, count) == HTTP_STATUS_CONTINUE else {
                            throw lastError(http, about: .queue(queue), action: "sending the document")
                        }
                        offset += count
                    }
                }
                guard isSuccess(cupsFinishDocument(http, queue)) else {
                    throw lastError(http, about: .queue(queue), action: "finishing the document")
                }
                return Int(jobID)
            } catch var error as CUPSError {
                error.jobID = Int(jobID)
                cancelQuietly(queue: queue, jobID: jobID)
                throw error
            }
        }
    }

    /// The job's state (IPP Get-Job-Attributes `job-state`).
    ///
    /// Throws ``CUPSError`` with kind `.jobNotFound` for a job cupsd does not know (any more).
    public func jobState(id: Int) throws -> CUPSJobState {
        try jobStatus(id: id).state
    }

    /// The job's state with its reasons and the printer's last message about it (IPP
    /// Get-Job-Attributes `job-state`, `job-state-reasons`, `job-printer-state-message`).
    public func jobStatus(id: Int) throws -> CUPSJobStatus {
        guard id > 0, id <= Int(Int32.max) else {
            throw CUPSError(kind: .invalidRequest, message: "\(id) is not a valid CUPS job id")
        }
        return try withConnection { http in
            let request = IPPRequest(IPP_OP_GET_JOB_ATTRIBUTES)
            request.add(uri: "job-uri", "ipp://localhost/jobs/\(id)")
            request.addUser()
            request.add(
                keywords: "requested-attributes", ["job-state", "job-state-reasons", "job-printer-state-message", "number-of-documents"])
            let response = try perform(http, request, resource: "/jobs/", about: .job(id))
            defer { ippDelete(response) }
            guard let raw = integer(response, "job-state"), let state = CUPSJobState(ippValue: raw) else {
                throw CUPSError(kind: .server, message: "the print server at \(server) sent no state for print job \(id)")
            }
            return CUPSJobStatus(
                id: id, state: state,
                reasons: strings(response, "job-state-reasons").filter { $0 != "none" },
                printerMessage: string(response, "job-printer-state-message").flatMap { $0.isEmpty ? nil : $0 },
                documents: integer(response, "number-of-documents"))
        }
    }

    /// The queue's state (IPP Get-Printer-Attributes `printer-state`, `printer-state-reasons`,
    /// `printer-state-message`, `printer-is-accepting-jobs`).
    public func printerStatus(queue: String) throws -> CUPSPrinterStatus {
        try Self.validate(queue: queue)
        return try withConnection { http in try printerStatus(http, queue: queue) }
    }

    /// The queue's jobs with their states, oldest first: only pending, held and processing ones when
    /// `activeOnly`, otherwise also those still in cupsd's job history (cupsd returns at most 500).
    public func jobs(queue: String, activeOnly: Bool) throws -> [(id: Int, state: CUPSJobState, title: String)] {
        try Self.validate(queue: queue)
        return try withConnection { http in
            let request = IPPRequest(IPP_OP_GET_JOBS)
            request.add(uri: "printer-uri", try printerURI(queue))
            request.addUser()
            request.add(keyword: "which-jobs", activeOnly ? "not-completed" : "all")
            request.add(keywords: "requested-attributes", ["job-id", "job-state", "job-name"])
            let response = try perform(http, request, resource: "/", about: .queue(queue))
            defer { ippDelete(response) }
            var result: [(id: Int, state: CUPSJobState, title: String)] = []
            var id: Int?
            var state: CUPSJobState?
            var title = ""
            func flush() {
                if let id, let state { result.append((id: id, state: state, title: title)) }
                id = nil
                state = nil
                title = ""
            }
            var attribute = ippFirstAttribute(response)
            while let a = attribute {
                if ippGetGroupTag(a) != IPP_TAG_JOB || ippGetName(a) == nil {
                    flush()
                } else if let name = ippGetName(a).map({ String(cString: $0) }) {
                    if name == "job-id" {
                        if id != nil { flush() }
                        id = Int(ippGetInteger(a, 0))
                    } else if name == "job-state" {
                        state = CUPSJobState(ippValue: Int(ippGetInteger(a, 0)))
                    } else if name == "job-name", let text = ippGetString(a, 0, nil) {
                        title = String(cString: text)
                    }
                }
                attribute = ippNextAttribute(response)
            }
            flush()
            return result
        }
    }

    /// Cancels a job (IPP Cancel-Job). Canceling a job that already finished throws a `.server` error.
    public func cancelJob(id: Int) throws {
        guard id > 0, id <= Int(Int32.max) else {
            throw CUPSError(kind: .invalidRequest, message: "\(id) is not a valid CUPS job id")
        }
        try withConnection { http in
            let request = IPPRequest(IPP_OP_CANCEL_JOB)
            request.add(uri: "job-uri", "ipp://localhost/jobs/\(id)")
            request.addUser()
            ippDelete(try perform(http, request, resource: "/jobs/", about: .job(id)))
        }
    }

    /// Starts a stopped queue again and makes it accept jobs (IPP Resume-Printer, then CUPS-Accept-Jobs: what
    /// `cupsenable` and `cupsaccept` send; the same as libcups's `cupsEnableDest`). Waiting jobs print once
    /// the printer takes them. The server must allow it: with Debian's cupsd.conf, connect over the local
    /// socket (`/run/cups/cups.sock`) as a user of CUPS's SystemGroup (`lpadmin`); otherwise `.notAllowed`.
    public func resumePrinter(queue: String) throws {
        try Self.validate(queue: queue)
        try withConnection { http in
            for operation in [IPP_OP_RESUME_PRINTER, IPP_OP_CUPS_ACCEPT_JOBS] {
                let request = IPPRequest(operation)
                request.add(uri: "printer-uri", try printerURI(queue))
                request.addUser()
                ippDelete(try perform(http, request, resource: "/admin/", about: .queue(queue)))
            }
        }
    }

    // MARK: Asynchronous API (runs the blocking call on a dedicated dispatch queue)

    /// Submits one raw job without blocking a Swift concurrency thread; see the synchronous version.
    public func submitRaw(queue: String, title: String, data: [UInt8]) async throws -> Int {
        try await offload { try self.submitRaw(queue: queue, title: title, data: data) }
    }

    /// The job's state without blocking a Swift concurrency thread; see the synchronous version.
    public func jobState(id: Int) async throws -> CUPSJobState {
        try await offload { try self.jobState(id: id) }
    }

    /// The job's state and reasons without blocking a Swift concurrency thread.
    public func jobStatus(id: Int) async throws -> CUPSJobStatus {
        try await offload { try self.jobStatus(id: id) }
    }

    /// The queue's state without blocking a Swift concurrency thread; see the synchronous version.
    public func printerStatus(queue: String) async throws -> CUPSPrinterStatus {
        try await offload { try self.printerStatus(queue: queue) }
    }

    /// The queue's jobs without blocking a Swift concurrency thread; see the synchronous version.
    public func jobs(queue: String, activeOnly: Bool) async throws -> [(id: Int, state: CUPSJobState, title: String)] {
        try await offload { try self.jobs(queue: queue, activeOnly: activeOnly) }
    }

    /// Cancels a job without blocking a Swift concurrency thread.
    public func cancelJob(id: Int) async throws {
        try await offload { try self.cancelJob(id: id) }
    }

    /// Resumes a stopped queue without blocking a Swift concurrency thread; see the synchronous version.
    public func resumePrinter(queue: String) async throws {
        try await offload { try self.resumePrinter(queue: queue) }
    }

    /// Where all blocking libcups calls of the async API run. Concurrent: a slow call to one server does
    /// not hold up calls to another; the number of threads is bounded by the callers (a spooler and a
    /// status poller), not by the cooperative pool.
    /// Each call gets its own serial queue: serial queues run on libdispatch's overcommit threads, so a slow
    /// or unreachable print server never waits behind (or holds up) other blocking work, as it could on a
    /// shared concurrent queue whose width is the number of cores.
    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "jiayuan.cups.call").async { continuation.resume(with: Result { try body() }) }
        }
    }
}
