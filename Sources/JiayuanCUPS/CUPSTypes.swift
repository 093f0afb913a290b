/// The state of a print job as cupsd reports it (IPP `job-state`).
public enum CUPSJobState: String, Sendable, Hashable, CaseIterable {
    /// Waiting to be printed.
    case pending
    /// Held: waiting for a retry after a printer error, for a release, or for a time.
    case held
    /// Being sent to the printer.
    case processing
    /// Stopped by an error in a filter; it will not print without intervention.
    case stopped
    /// Canceled by a user or by the printer.
    case canceled
    /// Aborted by the system (for example after too many failed attempts).
    case aborted
    /// Sent to the printer completely.
    case completed

    /// Creates the state from the IPP `job-state` enum value (3 pending … 9 completed).
    public init?(ippValue: Int) {
        switch ippValue {
        case 3: self = .pending
        case 4: self = .held
        case 5: self = .processing
        case 6: self = .stopped
        case 7: self = .canceled
        case 8: self = .aborted
        case 9: self = .completed
        default: return nil
        }
    }

    /// The IPP `job-state` enum value.
    public var ippValue: Int {
        switch self {
        case .pending: 3
        case .held: 4
        case .processing: 5
        case .stopped: 6
        case .canceled: 7
        case .aborted: 8
        case .completed: 9
        }
    }

    /// Whether the job can still print by itself (pending, held or processing). `stopped` jobs need
    /// someone to restart them; canceled, aborted and completed jobs are finished.
    public var isActive: Bool { self == .pending || self == .held || self == .processing }

    /// Whether the job is over for good: canceled, aborted or completed.
    public var isFinished: Bool { self == .canceled || self == .aborted || self == .completed }
}

/// A job's state with the detail cupsd gives about it.
public struct CUPSJobStatus: Sendable, Hashable {
    /// The CUPS job id.
    public var id: Int
    /// The job's state.
    public var state: CUPSJobState
    /// `job-state-reasons` without "none", e.g. `resources-are-not-ready` while a failed job waits for a
    /// retry, `job-completed-successfully`, `aborted-by-system`.
    public var reasons: [String]
    /// The printer's message while the job was last processed (`job-printer-state-message`), e.g. the
    /// backend's error text; nil when empty.
    public var printerMessage: String?

    /// Creates a job status.
    /// How many documents the job holds (0 for a job created whose document never came), when reported.
    public var documents: Int?

    public init(id: Int, state: CUPSJobState, reasons: [String] = [], printerMessage: String? = nil, documents: Int? = nil) {
        self.documents = documents
        self.id = id
        self.state = state
        self.reasons = reasons
        self.printerMessage = printerMessage
    }
}

/// A printer queue's state (IPP `printer-state`, `printer-state-reasons`, `printer-state-message`,
/// `printer-is-accepting-jobs`).
public struct CUPSPrinterStatus: Sendable, Hashable {
    /// The queue's state.
    public enum State: String, Sendable, Hashable {
        /// Ready, with nothing to print.
        case idle
        /// Printing (or waiting for the device, e.g. with `offline-report`).
        case processing
        /// Stopped (paused by staff, or stopped after a backend error); jobs wait until it is resumed.
        case stopped
    }

    /// The queue's state.
    public var state: State
    /// `printer-state-reasons` without "none", e.g. `media-empty-error`, `offline-report`, `paused`.
    /// Explain them to people with ``CUPSClient/explain(reason:)``.
    public var reasons: [String]
    /// `printer-state-message` (usually the backend's last message), nil when empty.
    public var message: String?
    /// Whether the queue accepts new jobs (`printer-is-accepting-jobs`).
    public var accepting: Bool

    /// Creates a printer status.
    public init(state: State, reasons: [String] = [], message: String? = nil, accepting: Bool = true) {
        self.state = state
        self.reasons = reasons
        self.message = message
        self.accepting = accepting
    }

    /// Whether any reason starts with `prefix` (so "offline" matches `offline-report`, and
    /// "media-empty" matches `media-empty-error` and `media-empty-warning`).
    public func hasReason(_ prefix: String) -> Bool {
        reasons.contains { $0.hasPrefix(prefix) }
    }
}

/// A failure talking to CUPS, with a message in plain words for staff and logs.
public struct CUPSError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What went wrong, for code that decides whether to retry.
    public enum Kind: String, Sendable, Hashable {
        /// The print server could not be reached or the connection broke (retrying later may help).
        case unreachable
        /// The printer queue does not exist on the server.
        case queueNotFound
        /// The job does not exist on the server (never existed, or purged from the history).
        case jobNotFound
        /// The queue exists but rejects new jobs.
        case notAccepting
        /// The server refused the request (authentication or permission).
        case notAllowed
        /// The request itself was not valid (bad queue name, empty job).
        case invalidRequest
        /// Any other error the server reported.
        case server
    }

    /// What went wrong.
    public var kind: Kind
    /// The message in plain words, e.g. `cannot reach the print server at 127.0.0.1:8631 (Connection
    /// refused)` or `the printer queue "x" does not exist`.
    public var message: String
    /// The IPP status code from libcups (`cupsLastError()`), when there was one.
    public var ippStatus: Int?
    /// libcups's own text (`cupsLastErrorString()`), when there was one.
    public var detail: String?
    /// The CUPS job id when a submission failed after cupsd had already created the job. The client
    /// tries to cancel such a job; if the connection broke after the whole document was sent, the job
    /// may still print, so a spooler should look at ``CUPSClient/jobState(id:)`` before submitting again.
    public var jobID: Int?

    /// Creates an error.
    public init(kind: Kind, message: String, ippStatus: Int? = nil, detail: String? = nil, jobID: Int? = nil) {
        self.kind = kind
        self.message = message
        self.ippStatus = ippStatus
        self.detail = detail
        self.jobID = jobID
    }

    /// The plain-words message.
    public var description: String { message }
}
