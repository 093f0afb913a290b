import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanHub
import Logging

/// `jiayuan-hub`: the district's receiver, a program of its own (the kiosk binary carries none of it).
/// Exit codes: 0 success, 1 error, 64 usage.
@main
struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jiayuan-hub",
        abstract: "家园 hub: receives the kiosks' attendance logs (SQLite by default, PostgreSQL with --database postgres://…).",
        subcommands: [
            HubServe.self, HubTokenCommand.self, HubStatsCommand.self, HubExportCommand.self, HubPruneCommand.self, HubBench.self,
        ])

    static func main() async {
        // The hub keeps tokens' hashes and every kiosk's log: files it creates are for its own user.
        umask(0o077)
        NSTimeZone.default = TimeZone(secondsFromGMT: 0)!
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
            if exitCode(for: error) != .failure { exit(withError: error) }
            FileHandle.standardError.write(Data("jiayuan-hub: \(KioskError.describe(error))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// Where the hub keeps its data.
struct HubStoreOptions: ParsableArguments {
    @Option(help: "The hub's data directory (default: $JIAYUAN_HUB_DATA, else /var/lib/jiayuan-hub).") var data: String?
    @Option(help: "Another store: postgres://user@host:port/db (no password: ~/.pgpass), or sqlite:PATH (default: hub.sqlite in --data).")
    var database: String?

    func validate() throws {
        if let database, HubAddress.hasPassword(database) {
            throw ValidationError(
                "--database must not carry a password (it shows in ps): put it in ~/.pgpass or PGPASSFILE, or give the whole address in JIAYUAN_HUB_DATABASE"
            )
        }
    }

    func open(connections: Int = 4, zone: TimeZone? = nil) throws -> any HubStore {
        let environment = ProcessInfo.processInfo.environment
        let dir = data ?? environment["JIAYUAN_HUB_DATA"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/lib/jiayuan-hub"
        return try openHubStore(
            database: database ?? environment["JIAYUAN_HUB_DATABASE"], dataDirectory: dir, connections: connections, zone: zone)
    }
}

/// `--zone`, the district's time zone for days in the figures.
struct ZoneOption: ParsableArguments {
    @Option(help: "The district's time zone, for days in the figures.") var zone = "Asia/Shanghai"

    func validate() throws {
        if TimeZone(identifier: zone) == nil { throw ValidationError("unknown time zone \"\(zone)\"") }
    }

    var timeZone: TimeZone { TimeZone(identifier: zone)! }
}

struct HubServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Receive uploads and serve /v1/stats, the dashboard and /healthz.")
    @OptionGroup var store: HubStoreOptions
    @Option(help: "Listen address.") var host = "127.0.0.1"
    @Option(help: "Port.") var port = 8090
    @OptionGroup var zone: ZoneOption
    @Option(help: "Database connections (PostgreSQL's pool; SQLite's readers).") var dbConnections = 4
    @Option(help: "Batches worked on at once, each on a worker thread of its own.") var maxInFlight = 8
    @Option(help: "Batches that may wait for a turn; beyond them the hub answers 503 with Retry-After.") var maxWaiting = 512
    @Option(help: "The Retry-After of a 503, in seconds.") var retryAfter = 5

    func validate() throws {
        guard (1...256).contains(dbConnections), (1...1024).contains(maxInFlight), (0...100_000).contains(maxWaiting),
            (1...3600).contains(retryAfter)
        else {
            throw ValidationError(
                "--db-connections 1…256, --max-in-flight 1…1024, --max-waiting 0…100000, --retry-after 1…3600 seconds")
        }
    }

    func run() async throws {
        var logger = Logger(label: "jiayuan-hub")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var options = HubOptions()
        options.host = host
        options.port = port
        options.zone = zone.timeZone
        options.databaseConnections = dbConnections
        options.maxInFlight = maxInFlight
        options.maxWaiting = maxWaiting
        options.retryAfterSeconds = retryAfter
        options.metricsToken = ProcessInfo.processInfo.environment["JIAYUAN_HUB_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        try await runHub(store: try store.open(connections: dbConnections, zone: options.zone), options: options, logger: logger)
    }
}

struct HubTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Kiosk tokens.", subcommands: [HubTokenAdd.self, HubTokenList.self])
}

struct HubTokenAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a kiosk and print its token (shown once; the hub keeps only a hash).")
    @OptionGroup var store: HubStoreOptions
    @Argument(help: "The kiosk id (kiosk_id in its jiayuan.toml).") var kiosk: String
    @Option(help: "The centre it belongs to (centre_id in its jiayuan.toml).") var centre: String
    @Flag(help: "Issue a new token for a kiosk that has one (the old one stops working).") var replace = false

    func validate() throws {
        guard KioskConfig.isIdentifier(kiosk), KioskConfig.isIdentifier(centre) else {
            throw ValidationError("kiosk and centre ids may only use letters, digits, - and _ (at most 64)")
        }
    }

    func run() throws {
        var rng = SystemRandomNumberGenerator()
        let token = HubToken.generate(using: &rng)
        try store.open().addKiosk(id: kiosk, centre: centre, tokenHash: HubToken.hash(token), replace: replace, at: Date())
        print(token)
        FileHandle.standardError.write(
            Data(
                "kiosk \(kiosk) of centre \(centre): put this token under [upload] token in its jiayuan.toml; it is not shown again\n".utf8)
        )
    }
}

struct HubTokenList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Kiosks, their centres and how far their logs have arrived.")
    @OptionGroup var store: HubStoreOptions

    func run() throws {
        for k in try store.open().kiosks() {
            print("\(k.id)\tcentre \(k.centre)\tthrough seq \(k.lastSeq)\tlast upload \(k.lastUploadAt.map(ISOTime.format) ?? "never")")
        }
    }
}

/// `jiayuan-hub stats`: the district's figures from the command line, the same JSON as `GET /v1/stats`.
struct HubStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Visits per local day, venue and group (the JSON of GET /v1/stats).")
    @OptionGroup var store: HubStoreOptions
    @OptionGroup var zone: ZoneOption
    @Option(help: "First day, like 2026-11-29.") var from: String
    @Option(help: "Last day (default: the first).") var to: String?
    @Option(help: "Only this centre.") var centre: String?

    func validate() throws {
        guard let first = CivilDate(iso: from), let last = CivilDate(iso: to ?? from), first <= last else {
            throw ValidationError("--from and --to are days like 2026-11-29, --from not after --to")
        }
    }

    func run() throws {
        let first = CivilDate(iso: from)!
        let last = CivilDate(iso: to ?? from)!
        let daily = try store.open().dailyVisits(from: first, to: last, centre: centre, zone: zone.timeZone)
        print(HubStats(from: first, to: last, centre: centre, daily: daily).json)
    }
}

/// `jiayuan-hub bench …`: the hub's speed.
struct HubBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the hub's speed.", subcommands: [BenchUpload.self, BenchFleet.self, BenchStats.self])
}
