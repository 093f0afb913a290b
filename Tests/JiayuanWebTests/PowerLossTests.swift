import Foundation
import GRDB
import JiayuanBench
import JiayuanDomain
import JiayuanHTTP
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import JiayuanWeb
import Testing

@testable import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// A `jiayuan serve` process on a port, over a data directory, started and killed at will.
final class KioskProcess: @unchecked Sendable {
    let data: String
    /// Extra environment for the process (e.g. NOTIFY_SOCKET).
    var environment: [String: String] = [:]
    let port: Int
    let log: String
    private(set) var process: ChildProcess?
    let client = HTTPClient(timeout: .seconds(5), connectTimeout: .seconds(1))

    init(data: String, port: Int = Loopback.freePort()) {
        self.data = data
        self.port = port
        log = data + "/../serve-\(port).log"
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts it and waits until `/healthz` answers (200 or 503).
    func start(timeout: Double = 20) throws {
        let client = self.client
        let health = url + "/healthz"
        process = try Run.startJiayuan(
            [
                "serve", "--data", data, "--port", String(port), "--console-port", "0", "--no-scanners", "--assets",
                Run.packageRoot + "/assets",
            ], log: log,
            environment: environment.merging(["WATCHDOG_USEC": "1000000"]) { a, _ in a },  // the disk probe every 0.5 s
            timeout: timeout, poll: 0.005
        ) {
            guard let r = try? client.get(health) else { return false }
            return r.status == 200 || r.status == 503
        }
    }

    func kill9() {
        guard let p = process else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    func stop() {
        guard let p = process, p.isRunning else { return }
        p.terminate()
        p.waitUntilExit()
    }

    /// One check-in through the API: the decision object, or nil when no answer came.
    func checkIn(_ code: String, venue: String) -> (status: Int, body: [String: Any])? {
        var body = "{\"code\":"
        JSONWriterShim.append(code, to: &body)
        body += ",\"venue\":\"\(venue)\"}"
        guard let r = try? client.post(url + "/api/checkin", headers: [("Content-Type", "application/json")], body: Array(body.utf8)) else {
            return nil
        }
        return (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:])
    }
}

enum JSONWriterShim {
    static func append(_ s: String, to out: inout String) {
        out += String(decoding: try! JSONSerialization.data(withJSONObject: [s]), as: UTF8.self).dropFirst().dropLast()
    }
}

/// What the kiosk answered as accepted, to be found in the log afterwards.
struct Answered: Hashable {
    var seq: Int64
    var member: String
    var direction: String
    /// A double read shown again (it names the seq of the first read, recorded once).
    var isRepeat: Bool
}

func expectAllRecorded(_ answered: [Answered], data: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let db = try DataDirectory(path: data).openDatabase()
    let report = try db.verify()
    #expect(report.integrityProblems.isEmpty, "integrity_check is ok", sourceLocation: sourceLocation)
    #expect(report.chainProblem == nil, "the chain verifies", sourceLocation: sourceLocation)
    var missing = 0
    for a in answered {
        let event = try db.writer.read { db in
            try Row.fetchOne(db, sql: "SELECT member, direction, outcome FROM event WHERE seq = ?", arguments: [a.seq])
        }
        let member: Int64? = event?["member"]
        if event == nil || member.map({ String(format: "M%06lld", $0) }) != a.member || event?["direction"] != a.direction
            || event?["outcome"] != "accepted"
        {
            missing += 1
        }
    }
    #expect(
        missing == 0, "\(missing) of \(answered.count) accepted check-ins are not in the log as answered", sourceLocation: sourceLocation)
}

@Suite("Power loss and a full disk", .blocking, .serialized)
struct PowerLossTests {
    @Test("hundreds of SIGKILLs at random moments during a stream of check-ins lose no answered check-in")
    func killsLoseNothing() throws {
        let dir = TemporaryDirectory("powerloss")
        defer { dir.remove() }
        let (data, codes) = try ScanBench.prepareAllDayKiosk(dir.path + "/data")
        let kiosk = KioskProcess(data: data.path)
        var answered: [Answered] = []
        var rng = SystemRandomNumberGenerator()
        let kills = 200
        var inFlightKills = 0
        var next = 0
        for _ in 0..<kills {
            try kiosk.start()
            let pid = kiosk.process!.processIdentifier
            // The kill comes from another thread at a random moment, usually in the middle of a request.
            let after = Double.random(in: 0.002...0.06, using: &rng)
            let killer = Thread {
                Thread.sleep(forTimeInterval: after)
                kill(pid, SIGKILL)
            }
            killer.start()
            while kiosk.process!.isRunning {
                let code = codes[next % codes.count]
                next += 1
                guard let (status, body) = kiosk.checkIn(code, venue: "veterans") else {
                    inFlightKills += 1
                    break
                }
                if status == 200, body["outcome"] as? String == "accepted", let seq = (body["seq"] as? NSNumber)?.int64Value,
                    let member = (body["member"] as? [String: Any])?["id"] as? String, let direction = body["direction"] as? String
                {
                    answered.append(Answered(seq: seq, member: member, direction: direction, isRepeat: body["repeat"] as? Bool ?? false))
                }
            }
            kiosk.process!.waitUntilExit()
        }
        print("power loss: \(kills) kills, \(inFlightKills) during a request, \(answered.count) check-ins answered as accepted")
        #expect(answered.count > kills, "check-ins were accepted between the kills")
        #expect(inFlightKills > kills / 4, "many kills hit a request in flight")
        let fresh = answered.filter { !$0.isRepeat }
        #expect(Set(fresh.map(\.seq)).count == fresh.count, "no seq was answered for two different check-ins")
        try expectAllRecorded(answered, data: data.path)
        // And the kiosk starts cleanly on the log it left.
        try kiosk.start()
        defer { kiosk.stop() }
        #expect(try kiosk.client.get(kiosk.url + "/healthz").status == 200)
    }

    @Test(
        "a full disk: out of service, nothing answered as accepted that is not stored, and service resumes when space returns",
        .enabled(if: getuid() == 0, "needs root to mount a small tmpfs"))
    func fullDisk() throws {
        let dir = TemporaryDirectory("diskfull")
        defer { dir.remove() }
        let mountPoint = dir.path + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = try Run.program("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", mountPoint])
        try #require(mounted.status == 0, "mount: \(mounted.stderr)")
        defer { _ = try? Run.program("/usr/bin/umount", ["-l", mountPoint]) }
        let (data, codes) = try ScanBench.prepareAllDayKiosk(mountPoint + "/data")
        let kiosk = KioskProcess(data: data.path)
        let notify = try NotifySocket(path: dir.path + "/notify.sock")
        defer { notify.close() }
        kiosk.environment["NOTIFY_SOCKET"] = notify.path
        try kiosk.start()
        defer { kiosk.stop() }
        var answered: [Answered] = []
        func scan(_ n: Int) -> [Int] {
            var statuses: [Int] = []
            for i in 0..<n {
                guard let (status, body) = kiosk.checkIn(codes[i % codes.count], venue: "veterans") else { continue }
                statuses.append(status)
                if status == 200, body["outcome"] as? String == "accepted", let seq = (body["seq"] as? NSNumber)?.int64Value,
                    let member = (body["member"] as? [String: Any])?["id"] as? String, let direction = body["direction"] as? String
                {
                    answered.append(Answered(seq: seq, member: member, direction: direction, isRepeat: body["repeat"] as? Bool ?? false))
                }
            }
            return statuses
        }
        #expect(scan(20).allSatisfy { $0 == 200 })
        // Fill the disk to the last byte.
        let filler = mountPoint + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0x55, count: 64 * 1024)
        while block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        var one: UInt8 = 1
        while write(fd, &one, 1) > 0 {}
        close(fd)
        // Check-ins go on being tried; whatever is answered as accepted must be stored.
        var refused = 0
        var outOfService = false
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !(refused > 0 && outOfService) {
            refused += scan(30).filter { $0 == 503 }.count
            if let h = try? kiosk.client.get(kiosk.url + "/healthz"), h.status == 503,
                let json = try? JSONSerialization.jsonObject(with: Data(h.body)) as? [String: Any], json["out_of_service"] != nil
            {
                outOfService = true
            }
        }
        #expect(refused > 0, "check-ins were refused (503) on the full disk")
        #expect(outOfService, "/healthz (and so the screen) shows out of service")
        let state = try kiosk.client.get(kiosk.url + "/api/state")
        #expect(state.text.contains("DISK-1"), "the screen shows the short code: \(state.text.prefix(300))")
        // A full disk is not cured by a restart: the watchdog keeps being told the process is alive.
        _ = notify.drain()
        Thread.sleep(forTimeInterval: 1.2)
        #expect(notify.drain().contains("WATCHDOG=1"), "systemd's watchdog is still pinged while out of service for a full disk")
        // Space returns: service resumes by itself.
        try FileManager.default.removeItem(atPath: filler)
        var resumed = false
        let back = Date().addingTimeInterval(20)
        while Date() < back && !resumed {
            if let h = try? kiosk.client.get(kiosk.url + "/healthz"), h.status == 200 {
                resumed = true
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        #expect(resumed, "back in service once space returned")
        #expect(scan(10).allSatisfy { $0 == 200 }, "check-ins are accepted again")
        kiosk.stop()
        try expectAllRecorded(answered, data: data.path)
    }
}
