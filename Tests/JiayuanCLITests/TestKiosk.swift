import Foundation
import JiayuanTestSupport
import Testing

/// A kiosk data directory in a temporary folder, driven through the real `jiayuan` binary.
///
/// Every test makes its own (`try TestKiosk.demo()`), and removes it with `defer { kiosk.remove() }`.
struct TestKiosk {
    let dir: TemporaryDirectory

    /// The data directory.
    var path: String { dir.path }
    var configPath: String { path + "/jiayuan.toml" }
    var databasePath: String { path + "/jiayuan.sqlite" }
    var signingKeyPath: String { path + "/keys/card-signing.key" }

    /// An empty temporary directory, not yet initialised.
    init(label: String = "jiayuan-cli") { dir = TemporaryDirectory(label) }

    /// `jiayuan init --demo`: the five venues and ~200 members with cards.
    static func demo() throws -> TestKiosk { try initialised(["--demo"]) }

    /// `jiayuan init` with extra arguments (e.g. `--key-id 2`): one venue, `main`, no members.
    static func plain(_ arguments: String...) throws -> TestKiosk { try initialised(arguments) }

    /// A new directory after `jiayuan init ARGS`; removed again when init fails.
    private static func initialised(_ arguments: [String]) throws -> TestKiosk {
        let kiosk = TestKiosk()
        do {
            let r = try kiosk.run(["init"] + arguments)
            try #require(r.status == 0, "init \(arguments) failed: \(r.stderr)")
        } catch {
            kiosk.remove()
            throw error
        }
        return kiosk
    }

    func remove() { dir.remove() }

    /// Runs `jiayuan ARGS --data DIR`.
    func run(_ arguments: String...) throws -> ProcessResult { try run(arguments) }

    /// Runs `jiayuan ARGS --data DIR`, feeding `stdin`.
    func run(_ arguments: [String], stdin: Data? = nil) throws -> ProcessResult {
        try Run.jiayuan(arguments + ["--data", path], stdin: stdin)
    }

    /// `checkin CODE --venue V [--at T] --json`, with the printed decision parsed.
    func checkin(_ code: String, venue: String, at: String? = nil, stdin: Data? = nil) throws -> CheckInResult {
        var args = ["checkin", code, "--venue", venue, "--json"]
        if let at { args += ["--at", at] }
        let r = try run(args, stdin: stdin)
        return try CheckInResult(r)
    }

    /// The member's current card code (`card show`), a `JY1:` code of 126 characters.
    func card(_ member: String) throws -> String {
        let r = try run("card", "show", member)
        try #require(r.status == 0, "card show \(member) failed: \(r.stderr)")
        let code = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(code.hasPrefix("JY1:") && code.count == 126, "card show \(member) printed \(code)")
        return code
    }

    /// The lines of `member list [--group G] [--full]`.
    func memberLines(group: String? = nil, full: Bool = false) throws -> [String] {
        var args = ["member", "list"]
        if let group { args += ["--group", group] }
        if full { args.append("--full") }
        let r = try run(args)
        try #require(r.status == 0, "member list failed: \(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// The id of a member of `group` (the youngest when `youngest`, by birth year; else the first listed).
    func someMember(group: String, youngest: Bool = false) throws -> String {
        let lines = try memberLines(group: group)
        let rows = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        let chosen = youngest ? rows.max { (Int($0[safe: 3] ?? "") ?? 0) < (Int($1[safe: 3] ?? "") ?? 0) } : rows.first
        return try #require(chosen?.first, "the demo has no member of group \(group)")
    }

    /// Registers a member with `member add` and returns the new id.
    func addMember(_ arguments: String...) throws -> String {
        let r = try run(["member", "add"] + arguments)
        try #require(r.status == 0, "member add failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The number of events in the log, from `verify` ("event chain: ok (N events)").
    func eventCount() throws -> Int {
        let r = try run("verify")
        try #require(r.status == 0, "verify failed: \(r.stdout) \(r.stderr)")
        let match = try #require(r.stdout.firstMatch(of: /event chain: ok \((\d+) events?\)/), "unexpected verify output: \(r.stdout)")
        return try #require(Int(match.1))
    }
}

/// The outcome of one `checkin --json`: exit status, raw output and the parsed decision object.
struct CheckInResult {
    var process: ProcessResult
    /// The decision object (empty when stdout was not JSON).
    var object: [String: Any]

    init(_ process: ProcessResult) throws {
        self.process = process
        let parsed = try? JSONSerialization.jsonObject(with: process.stdoutData)
        object = parsed as? [String: Any] ?? [:]
    }

    var status: Int32 { process.status }
    var json: String { process.stdout }
    var outcome: String? { object["outcome"] as? String }
    var direction: String? { object["direction"] as? String }
    var reason: String? { object["reason"] as? String }
    var isRepeat: Bool? { object["repeat"] as? Bool }
    var seq: Int? { (object["seq"] as? NSNumber)?.intValue }
    var at: String? { object["at"] as? String }
    var member: [String: Any]? { object["member"] as? [String: Any] }
    var memberID: String? { member?["id"] as? String }
    /// For failure messages.
    var summary: String { "exit \(status), stdout: \(process.stdout) stderr: \(process.stderr)" }
}

/// A local time on the demo day, 2026-11-28 in Shanghai: `at("10:00")` → `2026-11-28T10:00:00+08:00`.
func at(_ time: String, day: String = "2026-11-28") -> String {
    let t = time.count == 5 ? time + ":00" : time
    return "\(day)T\(t)+08:00"
}

/// The non-empty lines of `text`.
func lines(_ text: String) -> [String] {
    text.split(whereSeparator: \.isNewline).map(String.init)
}

/// True when `r` failed the way DESIGN.md §3.1 says errors fail: exit 1, one line on stderr, "jiayuan: …".
func isOneLineError(_ r: ProcessResult) -> Bool {
    let errLines = lines(r.stderr)
    return r.status == 1 && errLines.count == 1 && errLines[0].hasPrefix("jiayuan:")
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
