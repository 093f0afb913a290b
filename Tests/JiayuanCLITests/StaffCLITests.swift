import Foundation
import JiayuanProcess
import JiayuanTestSupport
import Testing

@Suite("jiayuan staff", .blocking)
struct StaffCLITests {
    @Test("staff add stores a hashed PIN, refuses weak PINs and duplicates, and is audited; unlock lifts a lock")
    func addListAudit() throws {
        let dir = TemporaryDirectory("staff")
        defer { dir.remove() }
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--data", data]).status == 0)
        let add = try Run.jiayuan(["staff", "add", "王芳", "--role", "admin", "--pin-stdin", "--data", data], stdin: Data("204719\n".utf8))
        #expect(add.status == 0 && add.stdout.contains("added admin account 王芳"), "\(add.stderr)")
        let weak = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--pin-stdin", "--data", data], stdin: Data("111111\n".utf8))
        #expect(weak.status == 1 && weak.stderr.contains("too easy to guess"))
        let short = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--pin-stdin", "--data", data], stdin: Data("2047\n".utf8))
        #expect(short.status == 1 && short.stderr.contains("6 to 12 digits"))
        let noTerminal = try Run.jiayuan(["staff", "add", "李强", "--role", "desk", "--data", data])
        #expect(noTerminal.status == 1 && noTerminal.stderr.contains("--pin-stdin"), "without a terminal the PIN cannot be asked for")
        let twice = try Run.jiayuan(["staff", "add", "王芳", "--role", "desk", "--pin-stdin", "--data", data], stdin: Data("204719\n".utf8))
        #expect(twice.status == 1 && twice.stderr.contains("already a staff account"))
        let badRole = try Run.jiayuan(
            ["staff", "add", "赵六", "--role", "boss", "--pin-stdin", "--data", data], stdin: Data("204719\n".utf8))
        #expect(badRole.status == 64)
        #expect(try Run.jiayuan(["staff", "list", "--data", data]).stdout == "王芳\tadmin\n")
        // The PIN itself is stored nowhere.
        let dump = try Run.program("/usr/bin/sqlite3", [data + "/jiayuan.sqlite", "SELECT pin_hash FROM staff"]).stdout
        #expect(dump.hasPrefix("pbkdf2-sha256$600000$") && !dump.contains("204719"))
        #expect(try Run.jiayuan(["staff", "unlock", "王芳", "--data", data]).status == 0)
        let audit = try Run.jiayuan(["staff", "audit", "--data", data]).stdout
        #expect(audit.contains("staff.add\t王芳 (admin)") && audit.contains("staff.unlock"))
    }

    @Test("--pin is a usage error (exit 64) and adds nothing; --pin-stdin keeps the PIN out of the process's argv")
    func pinOffTheCommandLine() throws {
        let dir = TemporaryDirectory("staff-argv")
        defer { dir.remove() }
        let data = dir.path + "/data"
        #expect(try Run.jiayuan(["init", "--data", data]).status == 0)
        let old = try Run.jiayuan(["staff", "add", "王芳", "--role", "admin", "--pin", "204719", "--data", data])
        #expect(old.status == 64, "exit \(old.status): \(old.stderr)")
        #expect(old.stderr.contains("--pin-stdin"), "\(old.stderr)")
        #expect(try Run.jiayuan(["staff", "list", "--data", data]).stdout.isEmpty)

        // While the command waits for its PIN on standard input, everything `ps` can show of it is read.
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        process.arguments = ["staff", "add", "王芳", "--role", "admin", "--pin-stdin", "--data", data]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Right after the spawn the child may not have exec'd yet (its cmdline is empty or the parent's):
        // read it until it shows the command; 10 s only bounds a failure.
        var argv: [String] = []
        let deadline = Date().addingTimeInterval(10)
        repeat {
            let cmdline = FileManager.default.contents(atPath: "/proc/\(process.processIdentifier)/cmdline") ?? Data()
            argv = String(decoding: cmdline, as: UTF8.self).split(separator: "\0").map(String.init)
            if argv.contains("--pin-stdin") { break }
            Thread.sleep(forTimeInterval: 0.01)
        } while Date() < deadline
        #expect(argv.contains("--pin-stdin"), "\(argv)")
        input.fileHandleForWriting.write(Data("204719\n".utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(said)")
        #expect(!argv.joined(separator: " ").contains("204719"), "the PIN is not in the command line: \(argv)")
        #expect(try Run.jiayuan(["staff", "list", "--data", data]).stdout == "王芳\tadmin\n")
    }
}
