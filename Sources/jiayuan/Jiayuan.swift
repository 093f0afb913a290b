import ArgumentParser
import Foundation
import JiayuanBench
import JiayuanCUPS
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanProcess
import JiayuanStore
import JiayuanWeb

/// The process entry point (docs/memory.md).
///
/// `main` is synchronous on purpose: an `async` main parks the main thread with `dispatch_main()`, which
/// calls `pthread_exit`, and that forced unwind of the main thread's stack reads the binary's unwind tables
/// into memory for good. Commands that are not `async` run right here on the main thread, as before; an
/// `async` command runs as a task on the global executor while the main thread waits for it. (Nothing in
/// the kiosk uses the main actor.)
@main
enum Entry {
    static func main() {
        // The data directory holds names and phone numbers: files this process creates are for its own user.
        umask(0o077)
        // Every local time comes from jiayuan.toml's time_zone, never from the machine's /etc/localtime; a
        // UTC default also keeps Foundation from loading ICU's zone tables whenever a library makes a
        // Calendar (Hummingbird does, for the Date header).
        NSTimeZone.default = TimeZone(secondsFromGMT: 0)!
        var command = Jiayuan.parseCommandLine()
        guard let asyncCommand = command as? any AsyncParsableCommand else {
            Jiayuan.run(&command)
            return
        }
        let handOver = AsyncCommand(asyncCommand)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await Jiayuan.run(&handOver.command)
            finished.signal()
        }
        finished.wait()
    }

    /// Hands the parsed command to its task; the main thread only waits from then on.
    final class AsyncCommand: @unchecked Sendable {
        var command: any AsyncParsableCommand
        init(_ command: any AsyncParsableCommand) { self.command = command }
    }
}

/// `jiayuan`: the home-centre kiosk. Exit codes: 0 success, 3 check-in denied, 1 error, 64 usage.
struct Jiayuan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jiayuan",
        abstract: "家园 kiosk: check-in, members, cards and reports for a neighbourhood home centre.",
        subcommands: [
            Init.self, Serve.self, MemberCommand.self, CardCommand.self, CheckIn.self, Report.self, Sweep.self, Verify.self, Doctor.self,
            PrintCommand.self,
            SlipCommand.self, StaffCommand.self, ConsoleCommand.self, Upload.self, BackupCommand.self, RestoreCommand.self,
            Correct.self, Bench.self,
        ])

    /// The command the arguments name; usage mistakes and --help end the process here (exit 64 / 0).
    static func parseCommandLine() -> any ParsableCommand {
        do { return try parseAsRoot() } catch { finish(error) }
    }

    /// Runs a command; errors become one plain line on stderr and exit code 1.
    static func run(_ command: inout any ParsableCommand) {
        do { try command.run() } catch { finish(error) }
    }

    /// Runs an `async` command; errors become one plain line on stderr and exit code 1.
    static func run(_ command: inout any AsyncParsableCommand) async {
        do { try await command.run() } catch { finish(error) }
    }

    /// Ends the process for an error: an exit code as it is, the argument parser's own (usage, --help) its
    /// way, everything else as one line.
    static func finish(_ error: any Error) -> Never {
        if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
        if exitCode(for: error) != .failure { exit(withError: error) }
        fail(KioskError.describe(error))
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("jiayuan: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// `--data DIR`, shared by every command.
struct DataOption: ParsableArguments {
    @Option(name: .long, help: "The kiosk's data directory (default: $JIAYUAN_DATA, else /var/lib/jiayuan).")
    var data: String?

    var directory: DataDirectory { DataDirectory.resolve(data) }
    func open() throws -> Kiosk { try Kiosk.open(directory) }
}

func parseInstant(_ text: String?, zone: TimeZone) throws -> Date? {
    guard let text else { return nil }
    guard let date = ISOTime.parse(text, defaultZone: zone) else {
        throw ValidationError("\"\(text)\" is not a time like 2026-11-28T08:05:00+08:00 (or without a zone: local time)")
    }
    return date
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the data directory: jiayuan.toml, jiayuan.sqlite, keys/.")
    @OptionGroup var data: DataOption
    @Flag(help: "Add the five venues of the home centre and about 200 fictional members with cards.") var demo = false
    @Option(help: "This kiosk's id in the district.") var kioskID = "kiosk-1"
    @Option(help: "The id of this desk's card-signing key (give each issuing desk its own).") var keyID: UInt8 = 1
    @Option(help: "Start from this jiayuan.toml (e.g. /usr/share/jiayuan/jiayuan.toml.example) instead of the default.") var config: String?

    @Flag(help: .hidden) var printApplianceConfig = false

    /// A bad kiosk id is a usage mistake (exit 64), found before anything is made.
    func validate() throws {
        guard KioskConfig.isIdentifier(kioskID) else { throw ValidationError("the kiosk id may only use letters, digits, - and _") }
    }

    func run() throws {
        if printApplianceConfig {
            print(DefaultConfig.appliance(), terminator: "")
            return
        }
        let dir = data.directory
        var rng: any RandomNumberGenerator = demo ? SeededRandom(seed: 2026) : SystemRandomNumberGenerator()
        var configText: String?
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw KioskError("cannot read \(config)") }
            configText = String(decoding: data, as: UTF8.self)
        }
        let result = try dir.initialize(kioskID: kioskID, keyID: keyID, demo: demo, configText: configText, now: Date(), rng: &rng)
        print("Created kiosk \(kioskID) in \(dir.path)")
        print("  venues: \(result.config.venues.map(\.id).joined(separator: ", "))")
        if demo {
            print("  demo members: \(result.demoMembers.count), each with a card")
            if let (m, _) = result.demoMembers.first {
                print("  try: jiayuan card show \(m.id) --data \(dir.path)")
            }
            print("  staff console: log in as \(DemoData.staffName) with PIN \(DemoData.staffPIN) (demo only)")
        }
    }
}

struct CheckIn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkin", abstract: "Check a card in or out at a venue (exit 0 accepted, 3 denied).")
    @OptionGroup var data: DataOption
    @Argument(help: "The scanned code (a JY1 card, a pickup slip, a legacy card number), or - to read one line from stdin.")
    var code: String
    @Option(help: "The venue id.") var venue: String
    @Option(help: "When it happened (ISO 8601; default now).") var at: String?
    @Option(help: "The guardian's pickup code, to collect a child.") var guardianCode: String?
    @Option(help: "A guardian's card at a guardian-code venue: the children to bring in or collect, all or M000123,M000124.")
    var children: String?
    @Flag(help: "Print the decision object as JSON.") var json = false
    @Flag(help: "Print a receipt at venues that ask (receipt = \"ask\").") var receipt = false
    @OptionGroup var target: PrinterOption

    func run() throws {
        let kiosk = try data.open()
        var text = code
        if code == "-" {
            let input = FileHandle.standardInput.readDataToEndOfFile().prefix(64 * 1024)
            text = String(decoding: input, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let service = try CheckInService(kiosk: kiosk)
        if let answer = try household(service, code: text) {
            try report(answer, kiosk: kiosk)
            return
        }
        let decision = try service.checkIn(
            code: text, venue: venue, at: try parseInstant(at, zone: kiosk.config.timeZone), guardianCode: guardianCode,
            receipts: CheckInService.Receipts(requested: receipt, printer: target.printer))
        if json {
            print(decision.json)
        } else {
            let mark = decision.accepted ? "✔" : "✘"
            print("\(mark) \(decision.message.zh)")
            print("  \(decision.message.en)")
            var detail =
                "  \(decision.outcome.rawValue) \(decision.direction.rawValue) · \(decision.venue) \(decision.inside)/\(decision.capacity)"
            if let reason = decision.reason { detail += " · \(reason.rawValue)" }
            if let seq = decision.seq { detail += " · seq \(seq)" }
            if decision.isRepeat { detail += " · repeat" }
            print(detail)
        }
        // The receipts were queued with the check-in; try to print them now. A printer problem leaves the
        // jobs queued and never changes the answer.
        if let seq = decision.seq, decision.accepted {
            let printing = PrintService(kiosk: kiosk)
            _ = try? printing.spoolNow()
            for job in (try? kiosk.database.printJobs(documentNumber: Documents.receiptNumber(seq: seq))) ?? [] where !json {
                print("  \(job.kind) job \(job.id): \(job.state.rawValue)\(job.lastError.map { " — \($0)" } ?? "")")
            }
        }
        if !decision.accepted { throw ExitCode(3) }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Visits per venue and group, unique members, denials by reason.")
    @OptionGroup var data: DataOption
    @Option(help: "A day, YYYY-MM-DD (default today).") var day: String?
    @Option(help: "A month, YYYY-MM.") var month: String?
    @Flag(help: "CSV (UTF-8 with BOM, for Excel).") var csv = false

    /// A malformed day or month is a usage mistake (exit 64).
    func validate() throws {
        if month != nil, day != nil { throw ValidationError("give --day or --month, not both") }
        if let month, ReportPeriod.month(month) == nil { throw ValidationError("\"\(month)\" is not a month like 2026-11") }
        if let day, CivilDate(iso: day) == nil { throw ValidationError("\"\(day)\" is not a date like 2026-11-28") }
    }

    func run() throws {
        let kiosk = try data.open()
        let period: ReportPeriod
        if let month, let p = ReportPeriod.month(month) {
            period = p
        } else if let day, let d = CivilDate(iso: day) {
            period = .day(d)
        } else {
            period = .day(kiosk.today())
        }
        let report = try kiosk.report(period)
        if csv {
            FileHandle.standardOutput.write(Data(ReportFormat.csv(report, period: period, venues: kiosk.config.venues).utf8))
        } else {
            print(ReportFormat.text(report, period: period, venues: kiosk.config.venues), terminator: "")
        }
    }
}

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check out everyone still inside at closing time (elders and children: alert staff).")
    @OptionGroup var data: DataOption
    @Option(help: "Run as if at this time (ISO 8601; default now).") var at: String?

    func run() throws {
        let kiosk = try data.open()
        var rng = SystemRandomNumberGenerator()
        let now = try parseInstant(at, zone: kiosk.config.timeZone) ?? Date()
        let result = try kiosk.database.sweep(venues: kiosk.config.venues, at: now, engine: kiosk.engine, rng: &rng)
        for d in result.checkedOut {
            print(
                "auto check-out \(d.member?.id.description ?? "?") \(d.member?.displayName ?? "") from \(d.venue) at \(ISOTime.format(d.at)) (seq \(d.seq ?? 0))"
            )
        }
        for p in result.alerts {
            print("ALERT \(p.member) still inside \(p.venue) at closing (checked in \(ISOTime.format(p.since)))")
        }
        print("sweep: \(result.checkedOut.count) checked out, \(result.alerts.count) new alerts")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check database integrity and the attendance log's hash chain.")
    @OptionGroup var data: DataOption

    func run() throws {
        let report = try data.open().database.verify()
        if report.integrityProblems.isEmpty {
            print("database integrity: ok")
        } else {
            print("database integrity: BROKEN")
            for p in report.integrityProblems.prefix(10) { print("  \(p)") }
        }
        switch report.chainProblem {
        case nil: print("event chain: ok (\(report.eventCount) events)")
        case .gap(let expected, let found)?: print("event chain: BROKEN at seq \(found) (expected seq \(expected): events are missing)")
        case .wrongPrevHash(let seq)?: print("event chain: BROKEN at seq \(seq) (it does not follow the event before it)")
        case .wrongHash(let seq)?: print("event chain: BROKEN at seq \(seq) (the event was altered after it was recorded)")
        }
        if !report.ok { throw ExitCode.failure }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure the kiosk's speed.", subcommands: [BenchCheckIn.self, BenchPrint.self, BenchScan.self])
}

struct BenchCheckIn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkin", abstract: "Accepted check-ins through the real engine and store vs a bare SQLite INSERT loop.")
    @Option(help: "How many of each.") var count = 2000
    @Option(help: "Directory on the disk to measure (default: the current directory).") var dir = "."

    func run() throws {
        let (engine, bare, context) = try CheckInBench.run(count: count, in: dir)
        func line(_ f: BenchFigures) -> String {
            String(
                format: "%-16@ %6d ops  %9.1f ops/s  p50 %7.3f ms  p99 %7.3f ms", f.name as NSString, f.count, f.perSecond,
                f.percentile(0.5) * 1000, f.percentile(0.99) * 1000)
        }
        print("bench checkin (WAL, synchronous=FULL, one transaction per check-in) in \(dir)")
        print(line(bare))
        print(line(engine))
        print(String(format: "ratio engine/bare: %.2f×", engine.perSecond / bare.perSecond))
        print("context:")
        print(line(context.unsynced))
        print(
            String(
                format: "  one commit's fsync on this disk: %.3f ms (bare FULL p50 - bare OFF p50)",
                (bare.percentile(0.5) - context.unsynced.percentile(0.5)) * 1000))
        print(
            String(
                format: "  Ed25519 card verification, cold: %.3f ms (cached after a card's first scan)", context.coldVerifySeconds * 1000))
    }
}

struct BenchPrint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print",
        abstract: "Receipts/s of the ESC/POS encoder (vs python-escpos with --python) and CUPS latency (vs lp -o raw with --cups-queue).")
    @Option(help: "How many receipts to encode.") var count = 2000
    @Option(help: "A python with python-escpos installed (kiosk/bench-print.sh makes one).") var python: String?
    @Option(help: "The python-escpos side of the benchmark.") var script = "kiosk/dev/escpos_bench.py"
    @Option(help: "A CUPS queue whose backend writes each job into --capture-dir (the test cupsd's `capture`).") var cupsQueue: String?
    @Option(help: "Where the capture backend writes jobs.") var captureDir: String?
    @Option(help: "Latency runs.") var runs = 20

    func run() throws {
        let config = try KioskConfig.parse(DefaultConfig.text(kioskID: "bench", demo: true), file: "demo")
        let doc = PrintBench.receipt(config: config)
        let (seconds, bytes) = try PrintBench.encode(doc, paper: .mm80, count: count)
        let swiftRate = Double(count) / seconds
        print("bench print: day-care receipt with QR, 80 mm, \(bytes.count) bytes")
        print(String(format: "  Swift ESC/POS encoder   %9.0f receipts/s  (%.1f µs each)", swiftRate, seconds / Double(count) * 1e6))
        if let python {
            let pyCount = max(50, count / 20)
            let pyRate = try PrintBench.python(python, script: script, doc: doc, paper: .mm80, count: pyCount)
            print(String(format: "  python-escpos (Dummy)   %9.0f receipts/s", pyRate))
            print(String(format: "  ratio Swift/python-escpos: %.1f×", swiftRate / pyRate))
        }
        if let queue = cupsQueue, let captureDir {
            guard let server = CUPSServer.fromEnvironment() else { throw KioskError("set CUPS_SERVER to the print server to measure") }
            let client = CUPSClient(server: server)
            let file = NSTemporaryDirectory() + "/jiayuan-bench-\(getpid()).escpos"
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            defer { try? FileManager.default.removeItem(atPath: file) }
            let ours = try PrintBench.captureLatency(captureDir: captureDir, runs: runs) {
                _ = try client.submitRaw(queue: queue, title: "bench", data: bytes)
            }
            let lp = try PrintBench.captureLatency(captureDir: captureDir, runs: runs) {
                try Spawn.run("/usr/bin/lp", ["-h", "\(server.host):\(server.port)", "-d", queue, "-o", "raw", file])
            }
            print(String(format: "  submit→captured via libcups  median %7.1f ms", ours))
            print(String(format: "  submit→captured via lp -o raw median %7.1f ms", lp))
            print(String(format: "  ratio libcups/lp: %.2f×", ours / lp))
        }
    }
}

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check config, database and chain, disk, clock, printer, scanners and the hub; exit 1 when something needs staff.")
    @OptionGroup var data: DataOption

    func run() throws {
        let checks = JiayuanKiosk.Doctor.run(data.directory)
        for c in checks {
            print(
                "\(c.verdict.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \(c.name.padding(toLength: 9, withPad: " ", startingAt: 0)) \(c.detail)"
            )
        }
        if checks.contains(where: { $0.verdict == .problem }) { throw ExitCode.failure }
    }
}

struct BenchScan: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "FIFO-to-screen latency of jiayuan serve vs the bare engine; cold start with a large log; idle RSS.")
    @Option(help: "How many scans.") var count = 1000
    @Option(help: "Events in the log for the cold-start measurement (0 to skip).") var events = 1_000_000
    @Option(help: "Directory on the disk to measure (default: the current directory).") var dir = "."

    func run() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let f = try ScanBench.run(binary: binary, directory: dir, count: count, events: events) {
            FileHandle.standardError.write(Data(("  " + $0 + "\n").utf8))
        }
        func p(_ xs: [Double], _ q: Double) -> Double { xs.isEmpty ? 0 : xs[min(xs.count - 1, Int(Double(xs.count) * q))] * 1000 }
        print("bench scan: \(count) scans, FIFO scanner bound to a venue, decision read from /api/stream")
        print(String(format: "  served (FIFO → SSE)   p50 %7.3f ms  p99 %7.3f ms", p(f.scanLatencies, 0.5), p(f.scanLatencies, 0.99)))
        print(String(format: "  bare engine           p50 %7.3f ms  p99 %7.3f ms", p(f.engineLatencies, 0.5), p(f.engineLatencies, 0.99)))
        print(
            String(
                format: "  serving overhead      p50 %7.3f ms  p99 %7.3f ms",
                p(f.scanLatencies, 0.5) - p(f.engineLatencies, 0.5), p(f.scanLatencies, 0.99) - p(f.engineLatencies, 0.99)))
        if let cold = f.coldStart {
            print(String(format: "  cold start to /healthz 200 with %d events: %.0f ms", f.coldStartEvents, cold * 1000))
        }
        func mb(_ kib: Int) -> String { String(format: "%.1f MB", Double(kib) / 1024) }
        func show(_ label: String, _ r: ScanBench.Resident?) {
            guard let r else { return }
            print("  \(label): \(mb(r.total)) (binary \(mb(r.binary)), libraries and files \(mb(r.files)), anonymous \(mb(r.anonymous)))")
        }
        show("idle RSS (fresh start, large log)", f.idleRSS)
        show("RSS after the scans", f.afterScansRSS)
    }
}

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Write a verified copy of the database (VACUUM INTO) and remove backups older than --keep-days.")
    @OptionGroup var data: DataOption
    @Option(help: "Where to put it (default: backups/ in the data directory).") var to: String?
    @Option(help: "Remove backups older than this many days.") var keepDays = 14

    func run() throws {
        let r = try Backup.run(data.directory, to: to, keepDays: keepDays)
        print("backup: \(r.path) (\(r.events) events, \(r.bytes / 1024) KB, integrity and chain verified)")
        for p in r.pruned { print("  removed old backup \(p)") }
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup in place of the database (refused if it fails integrity or chain checks; the current one is kept aside).")
    @OptionGroup var data: DataOption
    @Argument(help: "The backup file.") var file: String

    func run() throws {
        let r = try Backup.restore(file, into: data.directory)
        print("restored \(file) (\(r.events) events)")
        if let kept = r.kept { print("  the database it replaced is kept as \(kept)") }
        print("  events recorded after this backup are not in it: tell the district office before uploading again")
    }
}
