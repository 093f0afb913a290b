import Foundation
import JiayuanProcess
import JiayuanTestSupport
import Testing

/// `Spawn` and `ChildProcess` replace Foundation's `Process`, whose `run()` over-reads `/proc/self/fd` entries
/// and crashed the suite (SIGSEGV in memcpy) while a test held hundreds of descriptors open.
@Suite("Starting programs without Foundation's Process", .blocking)
struct SpawnTests {
    @Test("capture feeds stdin and returns stdout, stderr and the exit status")
    func capture() throws {
        let r = try Spawn.capture(
            "/bin/sh", ["-c", "cat; echo oops >&2; exit 3"], environment: ["PATH": "/usr/bin:/bin"], stdin: Data("你好 hello\n".utf8))
        #expect(r.status == 3)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "你好 hello\n")
        #expect(String(decoding: r.stderr, as: UTF8.self) == "oops\n")
        let big = try Spawn.capture("/bin/sh", ["-c", "head -c 3000000 /dev/zero"], environment: nil, stdin: nil)
        #expect(big.stdout.count == 3_000_000, "a child writing more than a pipe holds is read to its end")
    }

    @Test("the child gets only its three standard streams, not the descriptors this process holds open")
    func noInheritedDescriptors() throws {
        let dir = TemporaryDirectory("spawn")
        defer { dir.remove() }
        let held = (0..<200).map { i in open(dir.path + "/f\(i)", O_CREAT | O_WRONLY, 0o600) }
        defer { held.forEach { close($0) } }
        let r = try Spawn.capture("/bin/sh", ["-c", "ls /proc/$$/fd"], environment: nil, stdin: nil)
        let fds = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").compactMap { Int($0) }.sorted()
        #expect(fds.prefix(3) == [0, 1, 2])
        #expect(fds.count <= 4, "at most the shell's own directory handle beside 0, 1, 2: \(fds)")
    }

    @Test("a ChildProcess runs with its output in a file, reports running, stops on SIGTERM and says so")
    func childProcess() throws {
        let dir = TemporaryDirectory("spawn-child")
        defer { dir.remove() }
        let log = dir.path + "/out.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "echo started; exec sleep 30"]
        p.standardOutput = FileHandle(forWritingAtPath: log)
        try p.run()
        #expect(p.processIdentifier > 0)
        let deadline = Date().addingTimeInterval(10)
        while (try? String(contentsOfFile: log, encoding: .utf8))?.contains("started") != true && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(p.isRunning)
        p.terminate()
        p.waitUntilExit()
        #expect(!p.isRunning && p.terminationStatus == SIGTERM)
        let quick = ChildProcess()
        quick.executableURL = URL(fileURLWithPath: "/bin/sh")
        quick.arguments = ["-c", "exit 7"]
        try quick.run()
        quick.waitUntilExit()
        #expect(quick.terminationStatus == 7)
        #expect(throws: Spawn.Failure.self) { try Spawn.run("/nonexistent/program", []) }
    }
}
