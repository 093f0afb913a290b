import Foundation
import GRDB
import JiayuanDomain
import JiayuanKit
import JiayuanStore
import Testing

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date
    init(_ start: Date) { now = start }
    func read() -> Date { lock.withLock { now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}

@Suite("Staff accounts, log-in and sessions")
struct StaffAuthTests {
    let clock = TestClock(Date(timeIntervalSince1970: 1_795_000_000))

    func setUp() throws -> StaffAuth {
        let db = try AppDatabase.inMemory()
        var rng = SystemRandomNumberGenerator()
        _ = try db.addStaff(name: "王芳", role: .desk, pinHash: try PINHash.make("204719", using: &rng), by: nil, at: clock.read())
        let clock = self.clock
        return StaffAuth(database: db, clock: { clock.read() })
    }

    @Test("PIN hashes are salted PBKDF2-SHA256 and verify only the right PIN")
    func hashes() throws {
        var rng = SystemRandomNumberGenerator()
        let a = try PINHash.make("204719", using: &rng)
        let b = try PINHash.make("204719", using: &rng)
        #expect(a != b, "a fresh salt each time")
        #expect(a.hasPrefix("pbkdf2-sha256$600000$"))
        #expect(PINHash.verify("204719", against: a) && PINHash.verify("204719", against: b))
        #expect(!PINHash.verify("204718", against: a))
        #expect(!PINHash.verify("204719", against: "pbkdf2-sha256$1$x$y") && !PINHash.verify("204719", against: "plain"))
    }

    @Test("log-in gives a session; the cookie finds it until 30 minutes idle; logout ends it")
    func sessions() throws {
        let auth = try setUp()
        let s = try auth.login(name: "王芳", pin: "204719")
        #expect(s.token.count == 64 && s.csrf.count == 64 && s.staff.name == "王芳")
        clock.advance(29 * 60)
        #expect(try auth.session(token: s.token)?.0.name == "王芳", "a request keeps it alive")
        clock.advance(29 * 60)
        #expect(try auth.session(token: s.token) != nil)
        clock.advance(30 * 60)
        #expect(try auth.session(token: s.token) == nil, "idle for 30 minutes: gone")
        let again = try auth.login(name: "王芳", pin: "204719")
        try auth.logout(token: again.token)
        #expect(try auth.session(token: again.token) == nil)
    }

    @Test("a forged or altered cookie finds nothing; the CSRF token must match exactly")
    func forged() throws {
        let auth = try setUp()
        let s = try auth.login(name: "王芳", pin: "204719")
        var altered = Array(s.token)
        altered[0] = altered[0] == "a" ? "b" : "a"
        #expect(try auth.session(token: String(altered)) == nil)
        #expect(try auth.session(token: "") == nil && auth.session(token: String(repeating: "0", count: 64)) == nil)
        #expect(StaffAuth.csrfMatches(s.csrf, s.csrf))
        #expect(!StaffAuth.csrfMatches(nil, s.csrf) && !StaffAuth.csrfMatches("", s.csrf) && !StaffAuth.csrfMatches(String(s.csrf.dropLast()) + "x", s.csrf))
    }

    @Test("five wrong PINs lock the account for 15 minutes, logged in the audit; a wrong name says the same")
    func lockout() throws {
        let auth = try setUp()
        for _ in 0..<4 {
            #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "000001") }
        }
        let fifth = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "000001") }
        #expect(fifth?.lockedUntil == clock.read().addingTimeInterval(900))
        #expect(fifth?.lockedAccount != nil, "the attempt that locks the account names it for the server log")
        let locked = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "204719") }
        #expect(locked?.message.contains("locked") == true, "the right PIN is refused while locked")
        #expect(locked?.lockedAccount == nil, "only the attempt that locks it is logged")
        #expect(try auth.database.auditLog().contains { $0.action == "staff.locked" && $0.staff == "王芳" })
        clock.advance(15 * 60)
        #expect(try auth.login(name: "王芳", pin: "204719").staff.name == "王芳")
        let unknown = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "nobody", pin: "204719") }
        #expect(unknown?.message == "wrong name or PIN")
    }

    @Test("the audit log is append-only")
    func auditAppendOnly() throws {
        let auth = try setUp()
        _ = try auth.login(name: "王芳", pin: "204719")
        #expect(try auth.database.auditLog().map(\.action) == ["staff.login", "staff.add"])
        #expect(throws: (any Error).self) { try auth.database.writer.write { try $0.execute(sql: "DELETE FROM audit") } }
        #expect(throws: (any Error).self) { try auth.database.writer.write { try $0.execute(sql: "UPDATE audit SET action = 'x'") } }
    }
}
