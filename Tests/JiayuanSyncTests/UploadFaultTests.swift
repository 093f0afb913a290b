import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHub
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// The hub stores every test runs against: SQLite always, PostgreSQL when the test command started its
/// private server (`JIAYUAN_TEST_POSTGRES_URL`).
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgresql
    static var available: [Backend] { TestPostgres.url == nil ? [.sqlite] : [.sqlite, .postgresql] }
    var testDescription: String { rawValue }
}

/// A real hub process and real kiosk data directories with thousands of events, for one test.
final class UploadRig: @unchecked Sendable {
    let dir: TemporaryDirectory
    let backend: Backend
    let hub: HubProcess
    let databaseURL: String?

    init(_ name: String, backend: Backend) throws {
        dir = TemporaryDirectory("upload-\(name)")
        self.backend = backend
        databaseURL = backend == .postgresql ? try TestPostgres.freshDatabase("jy_\(name.replacingOccurrences(of: "-", with: "_"))") : nil
        hub = try HubProcess(data: dir.path + "/hub", database: databaseURL)
    }

    deinit {
        hub.stop()
        dir.remove()
    }

    /// The hub's store, opened by the test itself, to count and verify rows.
    func store() throws -> any HubStore { try openHubStore(database: databaseURL, dataDirectory: dir.path + "/hub") }

    /// A kiosk data directory with `events` events and `[upload]` pointing at `hub` (or a proxy).
    func kiosk(
        _ id: String, centre: String = "jinan-jiayuan", events: Int, hubURL: String? = nil, token: String? = nil, batch: Int = 100,
        timeout: Int = 2
    ) throws -> (data: String, token: String) {
        let data = dir.path + "/" + id
        let r = try Run.jiayuan(["init", "--data", data, "--kiosk-id", id])
        #expect(r.status == 0, "\(r.stderr)")
        let token = try token ?? hub.addToken(kiosk: id, centre: centre)
        var config = try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8)
        config = config.replacingOccurrences(of: "centre_id = \"jinan-jiayuan\"", with: "centre_id = \"\(centre)\"")
        config += """

            [upload]
            hub = "\(hubURL ?? hub.url)"
            token = "\(token)"
            batch_size = \(batch)
            timeout_seconds = \(timeout)
            retry_max_seconds = 1
            interval_seconds = 1

            """
        try config.write(toFile: data + "/jiayuan.toml", atomically: true, encoding: .utf8)
        let database = try DataDirectory(path: data).openDatabase()
        try SyntheticLog.append(
            to: database, count: events, venues: ["gym", "library", "daycare", "veterans"], seed: UInt64(id.utf8.count * 7 + events))
        return (data, token)
    }

    /// Starts `jiayuan upload` without waiting for it.
    func startUpload(_ data: String, extra: [String] = []) throws -> ChildProcess {
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        p.arguments = ["upload", "--data", data] + extra
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = dir.path + "/upload-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: log)
        try p.run()
        return p
    }

    /// Waits until the hub holds at least `n` events (polling the store), or `timeout` seconds.
    func waitForHub(atLeast n: Int64, kiosk: String? = nil, timeout: Double = 60) throws -> Int64 {
        let store = try self.store()
        let deadline = Date().addingTimeInterval(timeout)
        var count: Int64 = 0
        while Date() < deadline {
            count = (try? store.eventCount(kiosk: kiosk)) ?? count
            if count >= n { return count }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return count
    }

    /// Rows per (kiosk, seq) in the hub: each must be there exactly once, and the chain must verify.
    func expectExactlyOnce(kiosk: String, events: Int64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let store = try self.store()
        #expect(try store.eventCount(kiosk: kiosk) == events, "rows in the hub for \(kiosk)", sourceLocation: sourceLocation)
        #expect(try store.verifyChain(kiosk: kiosk) == nil, "the hub's copy of the chain verifies", sourceLocation: sourceLocation)
        #expect(try store.kiosks().first { $0.id == kiosk }?.lastSeq == events, sourceLocation: sourceLocation)
    }
}

func waitForExit(_ p: ChildProcess, timeout: Double = 120) -> Int32? {
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    if p.isRunning {
        p.terminate()
        return nil
    }
    return p.terminationStatus
}

@Suite("Upload to a real hub, exactly once, through real faults", .blocking, .serialized)
struct UploadFaultTests {
    @Test("a backlog uploads in batches and each event is stored once; a second upload sends nothing", arguments: Backend.available)
    func uploadsEverythingOnce(backend: Backend) throws {
        let rig = try UploadRig("plain-\(backend)", backend: backend)
        let (data, _) = try rig.kiosk("kiosk-a", events: 2500, batch: 500)
        let first = try Run.jiayuan(["upload", "--once", "--data", data])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("uploaded 2500 events"))
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 2500)
        let again = try Run.jiayuan(["upload", "--once", "--data", data])
        #expect(again.status == 0)
        #expect(again.stdout.contains("uploaded 0 events"))
        let state = try DataDirectory(path: data).openDatabase().uploadState()
        #expect(state.acknowledgedThrough == 2500 && state.backlog == 0 && state.lastSuccessAt != nil)
        // Resending what the hub holds (as after a lost acknowledgement) is acknowledged again, not stored twice.
        try DataDirectory(path: data).openDatabase().recordUploadAcknowledged(through: 1000, at: Date())
        #expect(try Run.jiayuan(["upload", "--once", "--data", data]).status == 0)
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 2500)
    }

    @Test("the hub killed with SIGKILL in the middle of uploads and restarted: nothing lost, nothing twice", arguments: Backend.available)
    func hubKilledMidBatch(backend: Backend) throws {
        let rig = try UploadRig("hubkill-\(backend)", backend: backend)
        let events: Int64 = 6000
        let (data, _) = try rig.kiosk("kiosk-a", events: Int(events), batch: 200)
        let upload = try rig.startUpload(data)
        var kills = 0
        for target in [Int64(800), 2600, 4400] {
            let seen = try rig.waitForHub(atLeast: target, kiosk: "kiosk-a")
            guard seen < events else { break }
            rig.hub.kill()
            kills += 1
            Thread.sleep(forTimeInterval: 0.3)
            try rig.hub.start()
        }
        #expect(kills >= 1, "the hub was killed while the backlog was still flowing")
        #expect(waitForExit(upload) == 0, "jiayuan upload finished once the hub was back")
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: events)
        #expect(try DataDirectory(path: data).openDatabase().uploadState().backlog == 0)
    }

    @Test("500 answers and timeouts for a while: retried with back-off until everything is held once", arguments: Backend.available)
    func errorsAndTimeouts(backend: Backend) throws {
        let rig = try UploadRig("errors-\(backend)", backend: backend)
        let proxy = try FaultProxy(upstreamPort: rig.hub.port) { n in
            switch n {
            case 1...3: .fail500
            case 4, 9: .stall(2.5)
            case _ where n % 5 == 0: .fail500
            default: .pass
            }
        }
        defer { proxy.stop() }
        let (data, _) = try rig.kiosk("kiosk-a", events: 1500, hubURL: "http://127.0.0.1:\(proxy.port)", batch: 100, timeout: 1)
        let result = try Run.jiayuan(["upload", "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("HTTP 500"), "the 500s were reported in plain words")
        #expect(result.stderr.contains("did not answer"), "the timeouts were reported in plain words")
        #expect(proxy.injected.contains(.fail500) && proxy.injected.contains(.stall(2.5)))
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 1500)
    }

    @Test("the connection cut after the hub committed, before the kiosk read the reply: resent, stored once", arguments: Backend.available)
    func repliesLostAfterCommit(backend: Backend) throws {
        let rig = try UploadRig("lostreply-\(backend)", backend: backend)
        let proxy = try FaultProxy(upstreamPort: rig.hub.port) { n in n % 2 == 1 ? .dropReply : .pass }
        defer { proxy.stop() }
        let (data, _) = try rig.kiosk("kiosk-a", events: 2000, hubURL: "http://127.0.0.1:\(proxy.port)", batch: 100)
        let result = try Run.jiayuan(["upload", "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
        let dropped = proxy.injected.filter { $0 == .dropReply }.count
        #expect(dropped >= 20, "every batch's first reply was lost after the hub stored it (\(dropped) lost)")
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 2000)
    }

    @Test("the kiosk killed with SIGKILL mid-upload resumes where the hub's acknowledgement left it", arguments: Backend.available)
    func kioskKilledMidUpload(backend: Backend) throws {
        let rig = try UploadRig("kioskkill-\(backend)", backend: backend)
        let events: Int64 = 5000
        let (data, _) = try rig.kiosk("kiosk-a", events: Int(events), batch: 100)
        for target in [Int64(700), 2100] {
            let upload = try rig.startUpload(data)
            _ = try rig.waitForHub(atLeast: target, kiosk: "kiosk-a")
            kill(upload.processIdentifier, SIGKILL)
            upload.waitUntilExit()
            let acknowledged = try DataDirectory(path: data).openDatabase().uploadState().acknowledgedThrough
            let held = try rig.store().eventCount(kiosk: "kiosk-a")
            #expect(acknowledged <= held, "the kiosk never marks more than the hub holds")
        }
        let result = try Run.jiayuan(["upload", "--data", data])
        #expect(result.status == 0, "\(result.stderr)")
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: events)
    }

    @Test("two kiosks of two centres upload at once; the figures are per centre", arguments: Backend.available)
    func twoCentresAtOnce(backend: Backend) throws {
        let rig = try UploadRig("twocentres-\(backend)", backend: backend)
        let (a, _) = try rig.kiosk("kiosk-a", centre: "centre-east", events: 3000, batch: 100)
        let (b, _) = try rig.kiosk("kiosk-b", centre: "centre-west", events: 2000, batch: 100)
        let pa = try rig.startUpload(a)
        let pb = try rig.startUpload(b)
        #expect(waitForExit(pa) == 0)
        #expect(waitForExit(pb) == 0)
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 3000)
        try rig.expectExactlyOnce(kiosk: "kiosk-b", events: 2000)
        // The figures: accepted check-ins in, per centre, equal what each kiosk recorded.
        for (data, centre) in [(a, "centre-east"), (b, "centre-west")] {
            let expected = try DataDirectory(path: data).openDatabase().writer.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE outcome = 'accepted' AND direction = 'in'") ?? -1
            }
            let r = try Run.program("/usr/bin/curl", ["-sf", rig.hub.url + "/v1/stats?centre=\(centre)"])
            let json = try #require(try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])
            #expect(json["total"] as? Int == expected, "visits of \(centre)")
            #expect(json["centre"] as? String == centre)
        }
        let page = try Run.program("/usr/bin/curl", ["-sf", rig.hub.url + "/"])
        #expect(page.stdout.contains("kiosk-a") && page.stdout.contains("centre-west") && page.stdout.contains("<svg"))
    }

    @Test(
        "a check-in voided with `jiayuan correct` reaches the hub as a correction and the hub's figures leave it out",
        arguments: Backend.available)
    func correctedVisitNotCounted(backend: Backend) throws {
        let rig = try UploadRig("corrected-\(backend)", backend: backend)
        let (data, _) = try rig.kiosk("kiosk-c", centre: "centre-c", events: 600, batch: 100)
        // Upload part of the log first, so the hub holds the check-in before the correction arrives.
        #expect(waitForExit(try rig.startUpload(data)) == 0)
        let database = try DataDirectory(path: data).openDatabase()
        let (visits, target) = try database.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event WHERE outcome = 'accepted' AND direction = 'in'") ?? -1,
                try Int64.fetchOne(
                    db, sql: "SELECT seq FROM event WHERE outcome = 'accepted' AND direction = 'in' ORDER BY seq LIMIT 1 OFFSET 7")
            )
        }
        let seq = try #require(target)
        func total() throws -> Int? {
            let r = try Run.program("/usr/bin/curl", ["-sf", rig.hub.url + "/v1/stats?centre=centre-c"])
            return (try JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])?["total"] as? Int
        }
        #expect(try total() == visits)
        let corrected = try Run.jiayuan(["correct", String(seq), "--reason", "选错场所 wrong venue", "--data", data])
        #expect(corrected.status == 0, "\(corrected.stderr)")
        #expect(corrected.stdout.contains("voided by event 601"))
        #expect(waitForExit(try rig.startUpload(data)) == 0)
        try rig.expectExactlyOnce(kiosk: "kiosk-c", events: 601)
        #expect(try total() == visits - 1, "the voided visit is left out of the hub's figures")
        // The reason stays on the kiosk: the hub's copy of the log has only which check-in was voided.
        let stored = try rig.store()
        #expect(try stored.verifyChain(kiosk: "kiosk-c") == nil)
        // A second correction of the same check-in is refused, and nothing new is uploaded.
        let again = try Run.jiayuan(["correct", String(seq), "--reason", "again", "--data", data])
        #expect(again.status == 1 && again.stderr.contains("already voided by event 601"))
    }

    @Test(
        "a tampered local event is refused with 409; nothing after it is accepted; uploads stop with an alert", arguments: Backend.available
    )
    func tamperedEventRefused(backend: Backend) throws {
        let rig = try UploadRig("tamper-\(backend)", backend: backend)
        let (data, _) = try rig.kiosk("kiosk-a", events: 2000, batch: 300)
        // Someone edits event 1234 behind the kiosk's back (the trigger has to go first).
        let sql = """
            DROP TRIGGER event_append_only_update;
            UPDATE event SET venue = CASE venue WHEN 'gym' THEN 'library' ELSE 'gym' END WHERE seq = 1234;
            """
        #expect(try Run.program("/usr/bin/sqlite3", [data + "/jiayuan.sqlite", sql]).status == 0)
        let result = try Run.jiayuan(["upload", "--data", data])
        #expect(result.status == 1)
        #expect(result.stderr.contains("refused event 1234"), "\(result.stderr)")
        #expect(result.stderr.contains("Nothing was deleted"))
        #expect(try rig.store().eventCount(kiosk: "kiosk-a") == 1233, "events before the tampered one are kept, nothing after it")
        let db = try DataDirectory(path: data).openDatabase()
        let state = try db.uploadState()
        #expect(state.conflictSeq == 1234 && state.acknowledgedThrough == 1233)
        #expect(try db.openAlerts().contains { $0.kind == "upload_conflict" })
        #expect(try db.writer.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM event") } == 2000, "no local event was deleted")
        // Stopped: a second run sends nothing; clearing the stop meets the same refusal.
        let again = try Run.jiayuan(["upload", "--once", "--data", data])
        #expect(again.status == 1 && again.stderr.contains("uploads are stopped"))
        let cleared = try Run.jiayuan(["upload", "--clear-conflict", "--data", data])
        #expect(cleared.status == 1 && cleared.stderr.contains("refused event 1234"))
        #expect(try rig.store().eventCount(kiosk: "kiosk-a") == 1233)
        let doctor = try Run.jiayuan(["doctor", "--data", data])
        #expect(doctor.stdout.contains("the hub refused event 1234"))
    }

    @Test("a token of another kiosk is refused and nothing is stored", arguments: Backend.available)
    func otherKiosksToken(backend: Backend) throws {
        let rig = try UploadRig("token-\(backend)", backend: backend)
        let (_, tokenB) = try rig.kiosk("kiosk-b", events: 10)
        let (a, _) = try rig.kiosk("kiosk-a", events: 50, token: tokenB)
        let result = try Run.jiayuan(["upload", "--data", a])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot write the log of kiosk-a"), "\(result.stderr)")
        #expect(!result.stderr.contains(tokenB), "the token never appears in messages")
        #expect(try rig.store().eventCount(kiosk: nil) == 0)
        let wrong = try Run.jiayuan(["upload", "--data", a], environment: ["JIAYUAN_UPLOAD_TOKEN": "jyt_not-a-real-token"])
        #expect(wrong.status == 1 && wrong.stderr.contains("not known to the hub"), "\(wrong.stderr)")
        let tokenFile = rig.dir.path + "/wrong-token"
        try Data("jyt_not-a-real-token\n".utf8).write(to: URL(fileURLWithPath: tokenFile))
        let fromFile = try Run.jiayuan(["upload", "--data", a, "--token-file", tokenFile])
        #expect(fromFile.status == 1 && fromFile.stderr.contains("not known to the hub"), "\(fromFile.stderr)")
        let onArgv = try Run.jiayuan(["upload", "--data", a, "--token", "jyt_not-a-real-token"])
        #expect(onArgv.status == 64 && onArgv.stderr.contains("--token-file"), "--token is gone: \(onArgv.stderr)")
        #expect(try rig.store().eventCount(kiosk: nil) == 0)
    }

    @Test("jiayuan serve uploads in the background and reports the backlog in /healthz", arguments: Backend.available)
    func serveUploads(backend: Backend) throws {
        let rig = try UploadRig("serve-\(backend)", backend: backend)
        let (data, token) = try rig.kiosk("kiosk-a", events: 1200, batch: 500)
        let port = Loopback.freePort()
        let serve = ChildProcess()
        serve.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        serve.arguments = ["serve", "--data", data, "--port", String(port), "--console-port", "0", "--no-scanners"]
        let log = rig.dir.path + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        serve.standardOutput = FileHandle(forWritingAtPath: log)
        serve.standardError = FileHandle(forWritingAtPath: log)
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        #expect(try rig.waitForHub(atLeast: 1200, kiosk: "kiosk-a") == 1200)
        try rig.expectExactlyOnce(kiosk: "kiosk-a", events: 1200)
        var backlog: Int?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let r = try Run.program("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/healthz"])
            let upload = (try? JSONSerialization.jsonObject(with: r.stdoutData) as? [String: Any])?["upload"] as? [String: Any]
            backlog = upload?["backlog"] as? Int
            if backlog == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(backlog == 0)
        let logText = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!logText.contains(token), "the token never appears in the log")
    }
}
