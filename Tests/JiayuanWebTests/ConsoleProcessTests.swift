import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

/// The staff console's door on a real `jiayuan serve`: HTTPS off loopback with the certificate whose
/// fingerprint `jiayuan console cert` prints, the sign-in throttle under a storm from another computer,
/// and thousands of hostile requests to every POST route. Everything talks to loopback only (127.0.0.2 and
/// up stand in for other computers on the desk network).
@Suite("Staff console process", .blocking, .serialized)
struct ConsoleProcessTests {
    /// A demo kiosk serving the console on `consoleHost` (the resident door stays on 127.0.0.1).
    final class Kiosk: @unchecked Sendable {
        let dir = TemporaryDirectory("console-process")
        let data: String
        let port = Loopback.freePort()
        let consolePort = Loopback.freePort()
        var process: ChildProcess!
        var log: String { dir.path + "/serve.log" }

        init(consoleHost: String) throws {
            data = dir.path + "/data"
            let made = try Run.jiayuan(["init", "--demo", "--data", data])
            guard made.status == 0 else { throw RawHTTP.Failure("init: \(made.stderr)") }
            let log = self.log
            process = try Run.startJiayuan(
                [
                    "serve", "--data", data, "--port", String(port), "--console-host", consoleHost, "--console-port", String(consolePort),
                    "--no-scanners",
                    "--assets", Run.packageRoot + "/assets",
                ], log: log, timeout: 60, poll: 0.05
            ) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("staff console ready") }
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            dir.remove()
        }
    }

    static func form(_ fields: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Array(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
    }

    /// Logs in from `source` over plain HTTP; the session cookie and the page's form token.
    static func logIn(port: Int, source: String, name: String = DemoData.staffName, pin: String = DemoData.staffPIN) throws -> (
        session: String, csrf: String
    ) {
        let page = try RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: port, source: source)
        guard let token = page.cookie("jy_login") else { throw RawHTTP.Failure("no log-in cookie: \(page.status)") }
        let reply = try RawHTTP.send(
            RawHTTP.request(
                "POST", "/staff/login", headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "jy_login=\(token)")],
                body: form([("csrf", token), ("name", name), ("pin", pin)])), port: port, source: source)
        guard reply.status == 303, let session = reply.cookie("jy_staff") else {
            throw RawHTTP.Failure("log-in refused: \(reply.status) \(reply.text.prefix(300))")
        }
        let home = try RawHTTP.send(
            RawHTTP.request("GET", "/staff", headers: [("Cookie", "jy_staff=\(session)")]), port: port, source: source)
        guard let r = home.text.range(of: "name=\"csrf\" value=\"") else { throw RawHTTP.Failure("no form token on the first page") }
        return (session, String(home.text[r.upperBound...].prefix(64)))
    }

    @Test("on 0.0.0.0 the console answers HTTPS only, with the certificate `console cert` fingerprints, and Secure cookies")
    func tlsDoor() async throws {
        let kiosk = try Kiosk(consoleHost: "0.0.0.0")
        defer { kiosk.stop() }
        let port = kiosk.consolePort
        let cert = try Run.jiayuan(["console", "cert", "--data", kiosk.data])
        #expect(cert.status == 0)
        let printed = try #require(cert.stdout.split(separator: " ").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(printed.count == 95, "32 hex pairs with colons: \(printed)")
        let served = try await RawHTTP.offPool {
            try Run.program(
                "/bin/sh",
                [
                    "-c",
                    "openssl s_client -connect 127.0.0.1:\(port) -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256",
                ])
        }
        #expect(
            served.stdout.uppercased().contains(printed.uppercased()), "the browser sees \(served.stdout), the desk was told \(printed)")
        let old = try await RawHTTP.offPool {
            try Run.program("/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -tls1_1 </dev/null 2>&1; echo EXIT=$?"])
        }
        #expect(
            !old.stdout.contains("EXIT=0") || old.stdout.contains("no protocols available"),
            "TLS 1.1 is not spoken: \(old.stdout.suffix(300))")

        let page = try await RawHTTP.offPool {
            try Run.program("/usr/bin/curl", ["-sk", "-D", "-", "https://127.0.0.1:\(port)/staff/login"])
        }
        #expect(page.stdout.contains("HTTP/1.1 200") && page.stdout.contains("员工登录"))
        let cookieLine = try #require(page.stdout.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: jy_login=") })
        #expect(cookieLine.contains("Secure") && cookieLine.contains("HttpOnly") && cookieLine.contains("SameSite=Strict"), "\(cookieLine)")
        #expect(page.stdout.contains("Content-Security-Policy: default-src 'none'"))

        let plain = try await RawHTTP.offPool { try RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: port, timeout: 10) }
        #expect(plain.status == 0 && !plain.text.contains("<html"), "plain HTTP gets no page: \(plain.status) \(plain.text.prefix(80))")

        // The resident door stays on loopback and never serves the console.
        let resident = try await RawHTTP.offPool { try RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: kiosk.port) }
        #expect(resident.status == 404)
        let log = (try? String(contentsOfFile: kiosk.log, encoding: .utf8)) ?? ""
        #expect(
            log.contains("https://0.0.0.0:\(port)") || log.contains("https://[::]:\(port)") || log.contains("https://"),
            "\(log.suffix(500))")
    }

    @Test("a log-in storm from one computer gets 429 while another signs in and loads pages within a second")
    func throttle() async throws {
        let kiosk = try Kiosk(consoleHost: "127.0.0.1")
        defer { kiosk.stop() }
        let port = kiosk.consolePort
        final class Storm: @unchecked Sendable {
            let lock = NSLock()
            var statuses: [Int] = []
            var stop = false
        }
        let storm = Storm()
        let stormer = Thread {
            guard let page = try? RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: port, source: "127.0.0.2"),
                let token = page.cookie("jy_login")
            else { return }
            for i in 0..<300 {
                if storm.lock.withLock({ storm.stop }) { break }
                let reply = try? RawHTTP.send(
                    RawHTTP.request(
                        "POST", "/staff/login",
                        headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "jy_login=\(token)")],
                        body: Self.form([("csrf", token), ("name", DemoData.staffName), ("pin", String(100000 + i))])), port: port,
                    source: "127.0.0.2")
                storm.lock.withLock { storm.statuses.append(reply?.status ?? 0) }
            }
        }
        stormer.start()
        // Wait until the throttle has started refusing the stormer.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !storm.lock.withLock({ storm.statuses.contains(429) }) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(storm.lock.withLock { storm.statuses.contains(429) }, "the storm was throttled")

        // Meanwhile the desk signs in from its own computer and works.
        let (session, _) = try await RawHTTP.offPool { try Self.logIn(port: port, source: "127.0.0.1") }
        var slowest = 0.0
        for _ in 0..<5 {
            let started = Date()
            let page = try await RawHTTP.offPool {
                try RawHTTP.send(RawHTTP.request("GET", "/staff/floor", headers: [("Cookie", "jy_staff=\(session)")]), port: port)
            }
            slowest = max(slowest, Date().timeIntervalSince(started))
            #expect(page.status == 200)
        }
        storm.lock.withLock { storm.stop = true }
        while !stormer.isFinished { try await Task.sleep(for: .milliseconds(20)) }
        #expect(slowest < 1, "a page during the storm took \(slowest) s")

        let statuses = storm.lock.withLock { storm.statuses }
        #expect(statuses.prefix(10).allSatisfy { $0 == 401 }, "ten tries a minute are allowed: \(statuses.prefix(12))")
        #expect(statuses.dropFirst(10).allSatisfy { $0 == 429 }, "then only 429 (no PIN is hashed): \(Set(statuses))")
        // The stormer's wrong PINs locked only the stormer's computer: the account still signs in elsewhere.
        _ = try await RawHTTP.offPool { try Self.logIn(port: port, source: "127.0.0.3") }
        let retry = try await RawHTTP.offPool {
            try RawHTTP.send(
                RawHTTP.request(
                    "POST", "/staff/login", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                    body: Self.form([("name", "x")])),
                port: port, source: "127.0.0.2")
        }
        #expect(retry.status == 429 && Int(retry.header("Retry-After") ?? "") != nil, "429 says when to try again")
    }

    @Test("thousands of random forms, content types and cookies on every console POST route: no 5xx, the kiosk keeps answering")
    func fuzzPostRoutes() async throws {
        let kiosk = try Kiosk(consoleHost: "127.0.0.1")
        defer { kiosk.stop() }
        let port = kiosk.consolePort
        let residentPort = kiosk.port
        let failures = try await RawHTTP.offPool { () throws -> [String] in
            let (session, csrf) = try Self.logIn(port: port, source: "127.0.0.3")
            var rng = SeededRandom(seed: 20261206)
            let routes = [
                "/staff/login", "/staff/logout", "/staff/floor/checkin", "/staff/floor/paid", "/staff/slips", "/staff/prints/1/reprint",
                "/staff/prints/x/reprint", "/staff/members/new", "/staff/members/M000001/card", "/staff/members/M000002/print-card",
                "/staff/members/M000003/deactivate", "/staff/members/M000003/reactivate", "/staff/members/M000004/edit",
                "/staff/members/M000005/legacy",
                "/staff/members/M99/edit", "/staff/members/%FF/card",
            ]
            let fields = [
                "csrf", "name", "pin", "member", "venue", "guardian_code", "seq", "kind", "action", "requested_by", "address", "problem",
                "meal",
                "portions", "delivery_address", "note", "service", "group", "born", "phone", "guardians", "flag_blind", "flag_low_income",
                "number",
            ]
            let values = [
                "", "=", "&", "%", "%zz", "%00", "%FF%FE", "+", "王秀英", "\"\u{301}", "<script>", "M000001", "M", "gym", "kids", "daycare",
                "print",
                "preview", "repair", "meal", "queue", "elder", "child", "1948", "99999999999999999999", "-1", "JYK:ABC", "JY1:AAAA", "[]",
                "a[b]",
                String(repeating: "x", count: 3000), "\u{0}", "\r\n", "1e9",
            ]
            let types = [
                "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=gbk", "multipart/form-data; boundary=--x",
                "application/json", "text/plain", "", "\u{1}garbage",
            ]
            func pick<T>(_ a: [T]) -> T { a[Int.random(in: 0..<a.count, using: &rng)] }
            var failures: [String] = []
            // The attacks that once stopped the process ("Index out of range" in a hand-written form parser).
            for body in ["=", "name=x&=&pin=1", "&&&=&", "%", "csrf=%zz"] {
                for route in ["/staff/login", "/staff/floor/checkin"] {
                    let reply = try RawHTTP.send(
                        RawHTTP.request(
                            "POST", route,
                            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "jy_staff=\(session)")],
                            body: Array(body.utf8)),
                        port: port, source: "127.0.0.4")
                    if !(400..<500).contains(reply.status) { failures.append("POST \(route) \(body) → \(reply.status)") }
                }
            }
            for i in 0..<3000 {
                let route = pick(routes)
                var body: [UInt8]
                switch Int.random(in: 0..<4, using: &rng) {
                case 0:
                    body = (0..<Int.random(in: 0..<600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                case 1:
                    var parts: [String] = []
                    for _ in 0..<Int.random(in: 0..<12, using: &rng) {
                        let key =
                            Int.random(in: 0..<5, using: &rng) == 0
                            ? pick(["", "[", "a[]", "a[0]", "a[b][c]", "csrf[]", "%", "name[x]"]) : pick(fields)
                        parts.append(Int.random(in: 0..<6, using: &rng) == 0 ? key : "\(key)=\(pick(values))")
                    }
                    body = Array(parts.joined(separator: pick(["&", "&&", ";", "&"])).utf8)
                default:
                    // A well-formed form with the real token (past the middleware, into the handlers), except log-out.
                    var f: [(String, String)] = route == "/staff/logout" ? [] : [("csrf", csrf)]
                    for _ in 0..<Int.random(in: 0..<8, using: &rng) { f.append((pick(fields.filter { $0 != "csrf" }), pick(values))) }
                    var seen = Set<String>()
                    body = Self.form(f.filter { seen.insert($0.0).inserted })
                }
                var headers: [(String, String)] = []
                let type = pick(types)
                if !type.isEmpty { headers.append(("Content-Type", type)) }
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: break
                case 1: headers.append(("Cookie", "jy_staff=\(pick(["", "x", String(repeating: "0", count: 64), "=;;=", "%FF"]))"))
                case 2: headers.append(("Cookie", "jy_staff=\(session); jy_login=\(pick(Array(values.prefix(8))))"))
                default: headers.append(("Cookie", "jy_staff=\(session)"))
                }
                let source = "127.0.0.\(10 + i % 20)"
                let reply = try RawHTTP.send(RawHTTP.request("POST", route, headers: headers, body: body), port: port, source: source)
                if reply.status >= 500 || reply.status == 0 {
                    failures.append(
                        "#\(i) POST \(route) [\(type)] \(String(decoding: body.prefix(120), as: UTF8.self)) → \(reply.status) \(reply.text.prefix(200))"
                    )
                    if failures.count > 10 { break }
                }
            }
            let health = try RawHTTP.send(RawHTTP.request("GET", "/healthz"), port: residentPort)
            if health.status != 200 { failures.append("healthz after the fuzz: \(health.status)") }
            let home = try RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: port)
            if home.status != 200 { failures.append("the console after the fuzz: \(home.status)") }
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(kiosk.process.isRunning, "the kiosk is still running")
    }

    @Test("the console's door has the resident door's caps: half-sent requests are closed while the log-in page still answers")
    func slowRequests() async throws {
        let kiosk = try Kiosk(consoleHost: "127.0.0.1")
        defer { kiosk.stop() }
        let port = kiosk.consolePort
        let (closed, page) = try await RawHTTP.offPool { () throws -> (Int, Int) in
            let sockets = (0..<40).compactMap { _ in RawSocket(port: port) }
            for s in sockets { _ = s.send("POST /staff/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nname=") }
            let page = try RawHTTP.send(RawHTTP.request("GET", "/staff/login"), port: port).status
            // The door gives 10 s to send a whole request; the bound only limits how long a failure takes.
            let closed = RawSocket.waitClosed(sockets, timeout: 60)
            sockets.forEach { $0.close() }
            return (closed, page)
        }
        #expect(page == 200, "the console answers while 40 requests hang")
        #expect(closed == 40, "every half-sent request was closed: \(closed)")
    }
}
