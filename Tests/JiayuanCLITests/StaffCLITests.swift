import Foundation
import JiayuanTestSupport
import Testing

@Suite("jiayuan staff")
struct StaffCLITests {
    @Test("staff add stores a hashed PIN, refuses weak PINs and duplicates, and is audited; unlock lifts a lock")
    func addListAudit() throws {
        let dir = TemporaryDirectory("staff")
        defer { dir.remove() }
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--data", data]).status == 0)
        let add = try Run.jiayuan(["staff", "add", "王芳", "--role", "admin", "--pin", "204719", "--data", data])
        #expect(add.status == 0 && add.stdout.contains("added admin account 王芳"), "\(add.stderr)")
        let weak = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--pin", "111111", "--data", data])
        #expect(weak.status == 1 && weak.stderr.contains("too easy to guess"))
        let short = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--pin", "2047", "--data", data])
        #expect(short.status == 1 && short.stderr.contains("6 to 12 digits"))
        let noTerminal = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--data", data])
        #expect(noTerminal.status == 1 && noTerminal.stderr.contains("--pin"), "without a terminal the PIN cannot be asked for")
        let twice = try Run.jiayuan(["staff", "add", "王芳", "--role", "desk", "--pin", "204719", "--data", data])
        #expect(twice.status == 1 && twice.stderr.contains("already a staff account"))
        let badRole = try Run.jiayuan(["staff", "add", "赵六", "--role", "boss", "--pin", "204719", "--data", data])
        #expect(badRole.status == 64)
        #expect(try Run.jiayuan(["staff", "list", "--data", data]).stdout == "王芳\tadmin\n")
        // The PIN itself is stored nowhere.
        let dump = try Run.program("/usr/bin/sqlite3", [data + "/jiayuan.sqlite", "SELECT pin_hash FROM staff"]).stdout
        #expect(dump.hasPrefix("pbkdf2-sha256$600000$") && !dump.contains("204719"))
        #expect(try Run.jiayuan(["staff", "unlock", "王芳", "--data", data]).status == 0)
        let audit = try Run.jiayuan(["staff", "audit", "--data", data]).stdout
        #expect(audit.contains("staff.add\t王芳 (admin)") && audit.contains("staff.unlock"))
    }
}
