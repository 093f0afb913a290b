import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHub
import JiayuanStore
import JiayuanSync
import JiayuanTestSupport
import Testing

/// The thundering herd (issue 15): after an outage every kiosk of a district comes back at once.
@Suite("Thundering herd", .blocking)
struct HubHerdTests {
    static let kiosks = 500
    static let eventsEach = 30
    /// The bound on the hub process's peak resident memory (VmHWM) in this test.
    static let memoryBoundKB = 256 * 1024

    @Test(
        "500 kiosks come back at once to a hub that admits 4 batches and queues 16: 503s are answered, all finish, every event once, memory bounded",
        .timeLimit(.minutes(10)))
    func herd() async throws {
        let dir = TemporaryDirectory("herd")
        defer { dir.remove() }
        let url = try TestPostgres.freshDatabase("jy_herd")
        let hub = try HubProcess(
            data: dir.path + "/hub", database: url,
            serveArguments: ["--max-in-flight", "4", "--max-waiting", "16", "--retry-after", "1", "--db-connections", "4"])
        defer { hub.stop() }
        let store = try openHubStore(database: url, dataDirectory: dir.path + "/hub")

        // The kiosks: a log of their own each (a real SQLite file), registered with the hub.
        let uploaders = try (0..<Self.kiosks).map { i -> Uploader in
            let id = "herd-\(i)"
            let token = "token-herd-\(i)"
            try store.addKiosk(id: id, centre: "centre-\(i % 20)", tokenHash: HubToken.hash(token), replace: false, at: Date())
            let database = try AppDatabase.open(path: dir.path + "/\(id).sqlite")
            try SyntheticLog.append(to: database, count: Self.eventsEach, venues: ["gym", "library"], seed: UInt64(i + 1))
            var config = UploadConfig()
            config.batchSize = 10
            config.timeoutSeconds = 60
            return Uploader(
                database: database, kioskID: id, centreID: "centre-\(i % 20)",
                settings: try UploadSettings(config: config, hub: hub.url, token: token), clock: { Date() })
        }

        // All at once, each kiosk's real runner on a lane of its own (as each kiosk has its own machine).
        let busy = LockedList<Int>()
        let failures = LockedList<String>()
        let outcomes: [UploadRunner.Outcome] = try await withThrowingTaskGroup(of: UploadRunner.Outcome.self) { group in
            for (i, uploader) in uploaders.enumerated() {
                group.addTask {
                    let runner = UploadRunner(uploader: uploader, maxRetryWait: 4, lane: DispatchQueue(label: "herd-\(i)"))
                    return try await runner.run(.drain(retry: true)) { progress in
                        switch progress {
                        case .busy: busy.append(i)
                        case .failed(let message, _): failures.append(message)
                        default: break
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        // All finished, none refused: each drained its whole log.
        #expect(outcomes.count == Self.kiosks)
        #expect(outcomes.allSatisfy { $0 == .drained(sent: Int64(Self.eventsEach)) })
        for uploader in uploaders {
            let state = try uploader.database.uploadState()
            #expect(state.acknowledgedThrough == Int64(Self.eventsEach), "\(uploader.kioskID)")
            #expect(state.conflictSeq == nil, "\(uploader.kioskID)")
        }
        // Every event exactly once, every chain sound.
        #expect(try store.eventCount(kiosk: nil) == Int64(Self.kiosks * Self.eventsEach))
        for uploader in uploaders { #expect(try store.verifyChain(kiosk: uploader.kioskID) == nil) }

        // The hub said "busy" (the kiosks heard it, and its metrics count it); its memory stayed bounded.
        let metrics = try Run.program("/usr/bin/curl", ["-sf", hub.url + "/metrics"])
        #expect(metrics.status == 0)
        let lines = metrics.stdout.split(separator: "\n")
        func value(_ name: String) -> Double? {
            lines.first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        let busyAnswered = value("jiayuan_hub_batches_refused_total{reason=\"busy\"}") ?? 0
        #expect(busyAnswered > 0)
        #expect(busyAnswered == Double(busy.items.count))
        #expect(value("jiayuan_hub_events_stored_total") == Double(Self.kiosks * Self.eventsEach))
        let pid = try #require(hub.pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let hwm = try #require(
            status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) })
        #expect(hwm < Self.memoryBoundKB, "peak RSS \(hwm) kB")
        print(
            "herd: \(Self.kiosks) kiosks × \(Self.eventsEach) events on \(url == nil ? "SQLite" : "PostgreSQL"): \(Int(busyAnswered)) answers 503, "
                + "\(failures.items.count) other failures retried, hub peak RSS \(hwm / 1024) MB")
    }
}
