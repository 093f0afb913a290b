import Foundation
import GRDB
import JiayuanDomain
import JiayuanKiosk
import JiayuanTestSupport
import Testing

@testable import JiayuanStore

/// A clock the test moves.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Date
    init(_ start: Date) { now = start }
    func read() -> Date { lock.withLock { now } }
    func advance(_ seconds: TimeInterval) { lock.withLock { now = now.addingTimeInterval(seconds) } }
}

@Suite("Staff accounts, log-in and sessions", .blocking)
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
        let s = try auth.login(name: "王芳", pin: "204719", source: "127.0.0.1")
        #expect(s.token.count == 64 && s.csrf.count == 64 && s.staff.name == "王芳")
        clock.advance(29 * 60)
        #expect(try auth.session(token: s.token)?.0.name == "王芳", "a request keeps it alive")
        clock.advance(29 * 60)
        #expect(try auth.session(token: s.token) != nil)
        clock.advance(30 * 60)
        #expect(try auth.session(token: s.token) == nil, "idle for 30 minutes: gone")
        let again = try auth.login(name: "王芳", pin: "204719", source: "127.0.0.1")
        try auth.logout(token: again.token)
        #expect(try auth.session(token: again.token) == nil)
    }

    @Test("a forged or altered cookie finds nothing; the CSRF token must match exactly")
    func forged() throws {
        let auth = try setUp()
        let s = try auth.login(name: "王芳", pin: "204719", source: "127.0.0.1")
        var altered = Array(s.token)
        altered[0] = altered[0] == "a" ? "b" : "a"
        #expect(try auth.session(token: String(altered)) == nil)
        #expect(try auth.session(token: "") == nil && auth.session(token: String(repeating: "0", count: 64)) == nil)
        #expect(StaffAuth.csrfMatches(s.csrf, s.csrf))
        #expect(
            !StaffAuth.csrfMatches(nil, s.csrf) && !StaffAuth.csrfMatches("", s.csrf)
                && !StaffAuth.csrfMatches(String(s.csrf.dropLast()) + "x", s.csrf))
    }

    @Test("five wrong PINs lock that computer out of the name for 15 minutes (audited); another computer still signs in")
    func lockout() throws {
        let auth = try setUp()
        for _ in 0..<4 {
            #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "000001", source: "192.168.1.66") }
        }
        let fifth = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "000001", source: "192.168.1.66") }
        #expect(fifth?.lockedUntil == clock.read().addingTimeInterval(900))
        #expect(fifth?.lockedNow == true, "the attempt that locks is logged once")
        let locked = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "204719", source: "192.168.1.66") }
        #expect(
            locked?.message == StaffAuth.refusalMessage(auth.policy), "the right PIN is refused from the locked computer, in the same words"
        )
        #expect(locked?.lockedNow == false)
        #expect(
            try auth.login(name: "王芳", pin: "204719", source: "192.168.1.20").staff.name == "王芳",
            "the desk's own computer is not locked out")
        #expect(
            try auth.database.auditLog().contains { $0.action == "staff.locked" && $0.staff == "王芳" && $0.detail.contains("192.168.1.66") })
        clock.advance(15 * 60)
        #expect(try auth.login(name: "王芳", pin: "204719", source: "192.168.1.66").staff.name == "王芳")
    }

    @Test("an unknown name and a wrong PIN get the same words, count the same way, and never say how many tries are left")
    func sameWords() throws {
        let auth = try setUp()
        let unknown = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "nobody", pin: "204719", source: "10.0.0.9") }
        let wrong = #expect(throws: StaffAuth.LoginRefused.self) { try auth.login(name: "王芳", pin: "999999", source: "10.0.0.9") }
        #expect(unknown?.message == wrong?.message && unknown?.message.contains("tries left") == false)
        for _ in 0..<4 { _ = try? auth.login(name: "nobody", pin: "204719", source: "10.0.0.9") }
        let lockedUnknown = #expect(throws: StaffAuth.LoginRefused.self) {
            try auth.login(name: "nobody", pin: "204719", source: "10.0.0.9")
        }
        #expect(lockedUnknown?.message == wrong?.message, "a lock on an unknown name looks like a lock on a real one")
        try auth.database.unlockStaff(name: "王芳", by: nil, at: clock.read())
    }

    @Test("the audit log is append-only")
    func auditAppendOnly() throws {
        let auth = try setUp()
        _ = try auth.login(name: "王芳", pin: "204719", source: "127.0.0.1")
        #expect(try auth.database.auditLog().map(\.action) == ["staff.login", "staff.add"])
        #expect(try auth.database.auditLog().first?.detail == "from 127.0.0.1")
        #expect(throws: (any Error).self) { try auth.database.writer.write { try $0.execute(sql: "DELETE FROM audit") } }
        #expect(throws: (any Error).self) { try auth.database.writer.write { try $0.execute(sql: "UPDATE audit SET action = 'x'") } }
    }
}
