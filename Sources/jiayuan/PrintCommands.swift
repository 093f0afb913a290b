import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore

/// `--printer TARGET`, shared by every printing command.
struct PrinterOption: ParsableArguments {
    @Option(help: "Print to this target instead of the configured one: file:DIR or cups:QUEUE.")
    var printer: String?
}

/// Queues documents, tries to print them now, and says what happened in plain words.
func printAndReport(_ service: PrintService, _ documents: [(PrintDocument, String?)], printer: String?) throws {
    let jobs = try documents.map { try service.enqueue($0.0, number: $0.1, printer: printer) }
    let report = try service.spoolNow()
    for job in jobs {
        let current = try service.kiosk.database.printJob(job.id) ?? job
        switch current.state {
        case .printed:
            print("printed job \(job.id) (\(job.kind)) → \(current.target)")
        case .submitted:
            print("sent job \(job.id) (\(job.kind)) to \(current.target) as CUPS job \(current.cupsJobID ?? 0)")
        case .queued, .submitting:
            print("job \(job.id) (\(job.kind)) is waiting: \(current.lastError ?? "the printer did not answer"); it will be retried")
        case .failed:
            print("job \(job.id) (\(job.kind)) failed: \(current.lastError ?? "")")
        }
    }
    _ = report
}

struct PrintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print", abstract: "The print queue: test page, list, reprint, run.",
        subcommands: [Test.self, List.self, Reprint.self, Run.self, Resume.self])

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a test page.")
        @OptionGroup var data: DataOption
        @OptionGroup var target: PrinterOption

        func run() throws {
            let kiosk = try data.open()
            let service = PrintService(kiosk: kiosk)
            let doc = Documents.testPage(target: try service.target(target.printer).description, at: Date(), config: kiosk.config)
            try printAndReport(service, [(doc, nil)], printer: target.printer)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent print jobs with their live state.")
        @OptionGroup var data: DataOption
        @Option(help: "How many jobs.") var limit = 20

        func run() throws {
            let kiosk = try data.open()
            let service = PrintService(kiosk: kiosk)
            let jobs = try kiosk.database.printJobs(limit: limit)
            if jobs.isEmpty { print("no print jobs") }
            for job in jobs {
                var line = "\(job.id)  \(wallClock(job.createdAt, kiosk.config.timeZone))  \(job.kind)"
                if let n = job.documentNumber { line += " \(n)" }
                line += "  \(job.target)  \(service.liveState(job))  tries \(job.attempts)"
                if let e = job.lastError { line += "  — \(e)" }
                if let r = job.reprintOf { line += "  (reprint of \(r))" }
                print(line)
            }
        }
    }

    struct Reprint: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a job again (a new job with the same content).")
        @OptionGroup var data: DataOption
        @OptionGroup var target: PrinterOption
        @Argument var id: Int64

        func run() throws {
            let kiosk = try data.open()
            let service = PrintService(kiosk: kiosk)
            let job = try kiosk.database.reprint(id, target: try service.target(self.target.printer).description, at: Date())
            _ = try service.spoolNow()
            let now = try kiosk.database.printJob(job.id) ?? job
            print("reprint of job \(id) is job \(job.id): \(service.liveState(now))\(now.lastError.map { " — \($0)" } ?? "")")
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the receipt printer's CUPS queue again after CUPS stopped it (what cupsenable does; audited).")
        @OptionGroup var data: DataOption

        func run() throws {
            let kiosk = try data.open()
            print(try PrintService(kiosk: kiosk).resumePrinter(staff: nil, at: Date()))
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send waiting jobs now and follow them (until done or --timeout).")
        @OptionGroup var data: DataOption
        @Option(help: "Seconds to keep trying.") var timeout = 30.0

        func run() throws {
            let kiosk = try data.open()
            let left = try PrintService(kiosk: kiosk).drain(timeout: timeout)
            print(left == 0 ? "print queue empty" : "\(left) job(s) still waiting; see `jiayuan print list`")
            if left > 0 { throw ExitCode.failure }
        }
    }
}

struct SlipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slip", abstract: "Service slips: home repair, meal order, queue ticket.",
        subcommands: [Repair.self, Meal.self, Queue.self])

    struct Repair: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A home-repair request (上门维修); due within 24 h for low-income households, else 72 h.")
        @OptionGroup var data: DataOption
        @OptionGroup var target: PrinterOption
        @Option(help: "The member asking (M000123).") var member: String?
        @Option(help: "Who asked, when not a member.") var requestedBy: String?
        @Option(help: "The address to visit.") var address: String
        @Option(help: "What is wrong.") var problem: String

        func run() throws {
            let kiosk = try data.open()
            let m = try kiosk.member(text: member)
            guard m != nil || requestedBy != nil else { throw ValidationError("give --member or --requested-by") }
            let (slip, doc) = try kiosk.issueSlip(
                .repair(member: m, requestedBy: requestedBy, address: address, problem: problem), at: Date())
            print("repair request \(slip.number), due by \(wallClock(slip.deadline!, kiosk.config.timeZone))")
            try printAndReport(PrintService(kiosk: kiosk), [(doc, slip.number)], printer: target.printer)
        }
    }

    struct Meal: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A meal order or delivery (送餐).")
        @OptionGroup var data: DataOption
        @OptionGroup var target: PrinterOption
        @Option(help: "The member (M000123).") var member: String
        @Option(help: "Which meal.") var meal = "午餐 Lunch"
        @Option(help: "How many portions.") var portions = 1
        @Option(help: "Deliver to this address (omit to collect at the 老饭桌).") var address: String?
        @Option(help: "For this day (YYYY-MM-DD, default today).") var date: String?
        @Option(help: "A note for the kitchen.") var note: String?

        func run() throws {
            let kiosk = try data.open()
            guard let m = try kiosk.member(text: member) else { throw KioskError("a meal order needs a member") }
            let (slip, doc) = try kiosk.issueSlip(
                .meal(member: m, meal: meal, portions: portions, address: address, date: date, note: note), at: Date())
            print("meal order \(slip.number): ¥\(formatYuan(fen: Int(slip.details["amount_fen"] ?? "0") ?? 0))")
            try printAndReport(PrintService(kiosk: kiosk), [(doc, slip.number)], printer: target.printer)
        }
    }

    struct Queue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A queue ticket for the public service hall (numbered per day).")
        @OptionGroup var data: DataOption
        @OptionGroup var target: PrinterOption
        @Option(help: "The service.") var service = "综合 General"

        func run() throws {
            let kiosk = try data.open()
            let (slip, doc) = try kiosk.issueSlip(.queue(service: service), at: Date())
            print("queue ticket \(slip.number)")
            try printAndReport(PrintService(kiosk: kiosk), [(doc, slip.number)], printer: target.printer)
        }
    }
}
