import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// Prints documents through the durable queue: encode, record, then let the spooler send.
public struct PrintService: Sendable {
    public let kiosk: Kiosk

    /// The printing side of `kiosk`.
    public init(kiosk: Kiosk) { self.kiosk = kiosk }

    /// The configured paper.
    public var paper: PaperWidth { PaperWidth(rawValue: kiosk.config.paper) ?? .mm80 }

    /// The target: `override` (a `--printer` option) or the configured one.
    public func target(_ override: String? = nil) throws -> PrinterTarget {
        try PrinterTarget(override ?? kiosk.config.printerTarget, relativeTo: kiosk.data.path)
    }

    /// The CUPS server: the config's, else `CUPS_SERVER`, else localhost:631.
    public var cupsServer: CUPSServer {
        kiosk.config.cupsServer.flatMap(CUPSServer.parse) ?? CUPSServer.fromEnvironment() ?? CUPSServer(host: "localhost", port: 631)
    }

    /// A spooler for this kiosk's queue.
    public var spooler: PrintSpooler {
        var spooler = PrintSpooler(database: kiosk.database, cupsServer: cupsServer)
        spooler.lockPath = kiosk.data.path + "/print.lock"
        return spooler
    }

    /// Starts the configured CUPS queue again after CUPS stopped it (what `cupsenable` does), and audits it
    /// when staff asked. Returns what was done in words; a `file:` printer never stops.
    public func resumePrinter(staff: Int64?, at now: Date) throws -> String {
        guard case .cups(let queue) = try target() else { return "the printer writes to a folder; there is nothing to start" }
        let client = CUPSClient(server: cupsServer, timeout: 10)
        let before = try client.printerStatus(queue: queue)
        try client.resumePrinter(queue: queue)
        try kiosk.database.audit(staff: staff, action: "print.resume", detail: "cups:\(queue) was \(before.state.rawValue)", at: now)
        return before.state == .stopped || !before.accepting
            ? "cups:\(queue) started again; waiting jobs print now" : "cups:\(queue) was not stopped; it prints as it is"
    }

    /// `document` encoded for the printer, as a job to record inside another write (a card, a slip).
    public func newJob(_ document: PrintDocument, number: String?, printer: String? = nil) throws -> NewPrintJob {
        NewPrintJob(
            kind: document.kind, documentNumber: number, target: try target(printer).description,
            bytes: try ESCPOS.encode(document, paper: paper),
            queuedAt: kiosk.clock())
    }

    /// Encodes `document` as ESC/POS and records the job (nothing is sent yet).
    @discardableResult
    public func enqueue(_ document: PrintDocument, number: String?, printer: String? = nil) throws -> PrintJob {
        let bytes = try ESCPOS.encode(document, paper: paper)
        return try kiosk.database.enqueuePrint(
            kind: document.kind, documentNumber: number, target: try target(printer).description, bytes: bytes, at: kiosk.clock())
    }

    /// The documents a decision prints under its venue's receipt policy (`ask` prints when `requested`):
    /// a check-in receipt, a children's pickup slip, or a day-care fee receipt.
    public func documents(for d: Decision, requested: Bool) throws -> [(PrintDocument, String)] {
        guard d.accepted, !d.isRepeat, let seq = d.seq else { return [] }
        let venue = try kiosk.venue(d.venue)
        let number = Documents.receiptNumber(seq: seq)
        var out: [(PrintDocument, String)] = []
        if let code = d.pickupCode { out.append((Documents.pickupSlip(d, code: code, venue: venue, config: kiosk.config), number)) }
        if let charge = d.charge {
            out.append((Documents.daycareReceipt(d, charge: charge, venue: venue, config: kiosk.config, paid: charge.free), number))
        }
        let wanted = venue.receipt == .always || (venue.receipt == .ask && requested)
        if out.isEmpty && wanted { out.append((Documents.checkinReceipt(d, venue: venue, config: kiosk.config), number)) }
        return out
    }

    /// One spooler pass now.
    public func spoolNow() throws -> SpoolReport {
        var rng = SystemRandomNumberGenerator()
        return try spooler.runOnce(now: kiosk.clock(), rng: &rng)
    }

    /// Runs the spooler until nothing is left to send or follow, or `timeout` seconds pass.
    public func drain(timeout: Double) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        var rng = SystemRandomNumberGenerator()
        while true {
            _ = try spooler.runOnce(now: Date(), rng: &rng)
            let left = try kiosk.database.printBacklog()
            if left == 0 || Date() >= deadline { return left }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    /// A job's live state: ours, plus what CUPS says for a job it holds.
    public func liveState(_ job: PrintJob) -> String {
        var text = job.state.rawValue
        if job.state == .submitted, let id = job.cupsJobID, case .cups = try? target(job.target) {
            let client = CUPSClient(server: cupsServer)
            if let state = try? client.jobState(id: id) {
                text += " (CUPS job \(id): \(state.rawValue))"
            } else {
                text += " (CUPS job \(id): no answer)"
            }
        }
        return text
    }
}

extension Kiosk {
    /// Records a service slip (numbered per day) and returns it.
    public func recordSlip(
        _ kind: ServiceSlip.Kind, member: MemberID?, details: [String: String], deadline: Date?, at now: Date
    ) throws -> ServiceSlip {
        try recordSlip(kind, member: member, details: details, deadline: deadline, at: now, print: nil, audit: nil).0
    }

    /// Records a service slip with its print job and audit entry in one transaction.
    public func recordSlip(
        _ kind: ServiceSlip.Kind, member: MemberID?, details: [String: String], deadline: Date?, at now: Date,
        print: ((ServiceSlip) throws -> NewPrintJob)?, audit: AuditNote?
    ) throws -> (ServiceSlip, PrintJob?) {
        let day = today(at: now)
        let compact = day.description.replacingOccurrences(of: "-", with: "")
        return try database.recordServiceSlip(
            kind: kind, day: day, member: member, details: details, deadline: deadline, at: now,
            number: { n in
                switch kind {
                case .repair: "WX\(compact)-" + String(format: "%03d", n)
                case .meal: "SC\(compact)-" + String(format: "%03d", n)
                case .queue: "A" + String(format: "%03d", n)
                }
            }, print: print, audit: audit)
    }
}
