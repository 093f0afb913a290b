import ArgumentParser
import Foundation
import JiayuanHub

/// `jiayuan-hub export --month YYYY-MM --out FILE`: one UTC month of events as gzip CSV, marked exported.
struct HubExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write one UTC month of events to a gzip CSV file and mark the month exported (PostgreSQL).")
    @OptionGroup var store: HubStoreOptions
    @Option(help: "The month, like 2026-09 (UTC).") var month: String
    @Option(help: "The file to write (e.g. hub-events-2026-09.csv.gz).") var out: String

    func validate() throws {
        if HubMonth(month) == nil { throw ValidationError("--month is a month like 2026-09") }
    }

    func run() throws {
        guard let hub = try store.open() as? PostgresHubStore else { throw HubRetentionError.needsPostgres }
        let rows = try hub.export(month: HubMonth(month)!, to: out)
        print("exported \(rows) events of \(month) to \(out)")
    }
}

/// `jiayuan-hub prune --before YYYY-MM`: drops whole month partitions that were exported.
struct HubPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Drop the event partitions of the months before --before (PostgreSQL); refused for months not exported. The figures stay."
    )
    @OptionGroup var store: HubStoreOptions
    @Option(help: "The first month to keep, like 2026-01 (UTC).") var before: String

    func validate() throws {
        if HubMonth(before) == nil { throw ValidationError("--before is a month like 2026-01") }
    }

    func run() throws {
        guard let hub = try store.open() as? PostgresHubStore else { throw HubRetentionError.needsPostgres }
        let dropped = try hub.prune(before: HubMonth(before)!)
        print(dropped.isEmpty ? "no month before \(before) to drop" : "dropped \(dropped.map(\.description).joined(separator: ", "))")
    }
}
