import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Backup, restore and start-up refusals", .blocking)
struct BackupRestoreTests {
    /// A demo kiosk with a few check-ins.
    func kiosk(_ dir: TemporaryDirectory) throws -> String {
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--demo", "--data", data]).status == 0)
        for id in ["M000001", "M000002", "M000003"] {
            let code = try Run.jiayuan(["card", "show", id, "--data", data]).stdout.split(separator: "\n")[0]
            _ = try Run.jiayuan(["checkin", String(code), "--venue", "veterans", "--at", "2026-11-28T10:00:00", "--data", data])
        }
        return data
    }

    func events(_ file: String) throws -> String {
        try Run.program("/usr/bin/sqlite3", [file, "SELECT COUNT(*) FROM event"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("backup writes a verified copy with VACUUM INTO and removes backups older than --keep-days")
    func backup() throws {
        let dir = TemporaryDirectory("backup")
        defer { dir.remove() }
        let data = try kiosk(dir)
        let backups = dir.path + "/backups"
        try FileManager.default.createDirectory(atPath: backups, withIntermediateDirectories: true)
        let old = backups + "/jiayuan-20260101T000000Z.sqlite"
        FileManager.default.createFile(atPath: old, contents: Data("old".utf8))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-20 * 86400)], ofItemAtPath: old)
        let keep = backups + "/jiayuan-20261120T000000Z.sqlite"
        FileManager.default.createFile(atPath: keep, contents: Data("recent".utf8))
        // Old by name, new by file date: the name decides. The newest three are always kept.
        let oldButTouched = backups + "/jiayuan-20260102T000000Z.sqlite"
        FileManager.default.createFile(atPath: oldButTouched, contents: Data("old".utf8))
        FileManager.default.createFile(atPath: backups + "/jiayuan-20261121T000000Z.sqlite", contents: Data("recent".utf8))
        let r = try Run.jiayuan(["backup", "--data", data, "--to", backups, "--keep-days", "14"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("integrity and chain verified") && r.stdout.contains("removed old backup \(old)"), "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: old) && !FileManager.default.fileExists(atPath: oldButTouched))
        #expect(FileManager.default.fileExists(atPath: keep))
        let made = try #require(
            try FileManager.default.contentsOfDirectory(atPath: backups).first {
                !["jiayuan-20261120T000000Z.sqlite", "jiayuan-20261121T000000Z.sqlite"].contains($0)
            })
        #expect(made.hasPrefix("jiayuan-") && made.hasSuffix("Z.sqlite"))
        #expect(try events(backups + "/" + made) == events(data + "/jiayuan.sqlite"))
        #expect(try Run.program("/usr/bin/sqlite3", [backups + "/" + made, "PRAGMA integrity_check"]).stdout.contains("ok"))
        // Default folder: backups/ in the data directory, private.
        #expect(try Run.jiayuan(["backup", "--data", data]).status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: data + "/backups")
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test("restore refuses a damaged backup and a running kiosk, and keeps the replaced database aside")
    func restore() throws {
        let dir = TemporaryDirectory("restore")
        defer { dir.remove() }
        let data = try kiosk(dir)
        let b = try Run.jiayuan(["backup", "--data", data, "--to", dir.path + "/b"])
        #expect(b.status == 0)
        let backup = dir.path + "/b/" + (try FileManager.default.contentsOfDirectory(atPath: dir.path + "/b").first!)
        // More check-ins after the backup.
        let code = try Run.jiayuan(["card", "show", "M000004", "--data", data]).stdout.split(separator: "\n")[0]
        _ = try Run.jiayuan(["checkin", String(code), "--venue", "veterans", "--at", "2026-11-28T11:00:00", "--data", data])
        let before = try events(data + "/jiayuan.sqlite")

        // A tampered copy is refused, naming the broken seq; nothing changes.
        let tampered = dir.path + "/tampered.sqlite"
        try FileManager.default.copyItem(atPath: backup, toPath: tampered)
        _ = try Run.program(
            "/usr/bin/sqlite3", [tampered, "DROP TRIGGER event_append_only_update; UPDATE event SET venue = 'gym' WHERE seq = 2;"])
        let refused = try Run.jiayuan(["restore", tampered, "--data", data])
        #expect(refused.status == 1 && refused.stderr.contains("broken at seq 2"), "\(refused.stderr)")
        let garbage = dir.path + "/garbage.sqlite"
        FileManager.default.createFile(atPath: garbage, contents: Data(repeating: 7, count: 8192))
        let notDB = try Run.jiayuan(["restore", garbage, "--data", data])
        #expect(notDB.status == 1 && notDB.stderr.contains("not a readable kiosk database"), "\(notDB.stderr)")
        #expect(try events(data + "/jiayuan.sqlite") == before)

        // While the kiosk runs, restore waits for it to stop.
        let port = Loopback.freePort()
        let serve = ChildProcess()
        serve.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        serve.arguments = ["serve", "--data", data, "--port", String(port), "--console-port", "0", "--no-scanners"]
        serve.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        serve.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try serve.run()
        var up = false
        for _ in 0..<200 where !up {
            up = (try? Run.program("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/healthz"]).status) == 0
            Thread.sleep(forTimeInterval: 0.05)
        }
        let busy = try Run.jiayuan(["restore", backup, "--data", data])
        serve.terminate()
        serve.waitUntilExit()
        #expect(busy.status == 1 && busy.stderr.contains("the kiosk is running"), "\(busy.stderr)")

        // A good backup goes in; the replaced database (with what the kiosk recorded meanwhile, such as the
        // closing sweep's check-outs) is kept.
        let replaced = try events(data + "/jiayuan.sqlite")
        let ok = try Run.jiayuan(["restore", backup, "--data", data])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try events(data + "/jiayuan.sqlite") == events(backup))
        let aside = try #require(
            try FileManager.default.contentsOfDirectory(atPath: data).first { $0.hasPrefix("jiayuan.sqlite.replaced-") })
        #expect(try events(data + "/" + aside) == replaced)
        #expect(try Run.jiayuan(["verify", "--data", data]).status == 0)
    }

    @Test("a broken or missing config, a missing key or an unwritable data directory stops start-up with one clear line")
    func startUpRefusals() throws {
        let dir = TemporaryDirectory("startup")
        defer { dir.remove() }
        func serve(_ data: String, as user: String? = nil) throws -> ProcessResult {
            let args = ["serve", "--data", data, "--port", String(Loopback.freePort()), "--console-port", "0", "--no-scanners"]
            if let user { return try Run.program("/usr/sbin/runuser", ["-u", user, "--", Run.jiayuanBinary] + args) }
            return try Run.jiayuan(args)
        }
        func oneLine(_ r: ProcessResult, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(r.status == 1, sourceLocation: sourceLocation)
            let lines = r.stderr.split(separator: "\n")
            #expect(
                lines.count == 1 && lines[0].hasPrefix("jiayuan: ") && r.stderr.contains(fragment), "\(r.stderr)",
                sourceLocation: sourceLocation)
        }
        let broken = dir.path + "/broken"
        #expect(try Run.jiayuan(["init", "--data", broken]).status == 0)
        try "kiosk_id = \"unterminated\n".write(toFile: broken + "/jiayuan.toml", atomically: true, encoding: .utf8)
        oneLine(try serve(broken), "jiayuan.toml:1")
        oneLine(try serve(dir.path + "/missing"), "run `jiayuan init")
        let nokey = dir.path + "/nokey"
        #expect(try Run.jiayuan(["init", "--data", nokey]).status == 0)
        try FileManager.default.removeItem(atPath: nokey + "/keys/card-signing.key")
        oneLine(try serve(nokey), "no card keys")
        if getuid() == 0 {
            let locked = dir.path + "/locked"
            #expect(try Run.jiayuan(["init", "--data", locked]).status == 0)
            _ = try Run.program("/bin/chown", ["-R", "nobody", locked])
            chmod(locked, 0o500)
            chmod(dir.path, 0o755)
            oneLine(try serve(locked, as: "nobody"), "cannot write in")
        }
    }

    @Test("doctor reports a clock set back, an unplugged scanner and an unreachable hub in plain words, exit 1 when staff must act")
    func doctor() throws {
        let dir = TemporaryDirectory("doctor")
        defer { dir.remove() }
        let data = try kiosk(dir)
        let code = try Run.jiayuan(["card", "show", "M000005", "--data", data]).stdout.split(separator: "\n")[0]
        _ = try Run.jiayuan(["checkin", String(code), "--venue", "veterans", "--at", "2026-11-27T10:00:00", "--data", data])
        var config = try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8)
        config = config.replacingOccurrences(
            of: "source = \"fifo:scan.fifo\"", with: "source = \"evdev:/dev/input/by-id/usb-not-plugged-event-kbd\"")
        config += "\n[upload]\nhub = \"http://127.0.0.1:\(Loopback.freePort())\"\ntoken = \"jyt_x\"\n"
        try config.write(toFile: data + "/jiayuan.toml", atomically: true, encoding: .utf8)
        let r = try Run.jiayuan(["doctor", "--data", data])
        #expect(r.status == 1)
        #expect(r.stdout.contains("WARN  clock") && r.stdout.contains("the clock was set back, first at seq 4"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL  scanner"), "\(r.stdout)")
        #expect(r.stdout.contains("not plugged in"))
        #expect(r.stdout.contains("does not answer"), "the hub's reachability is checked")
        #expect(!r.stdout.contains("jyt_x"), "the token is not shown")
    }
}
