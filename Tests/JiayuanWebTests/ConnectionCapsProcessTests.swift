import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHTTP
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan serve` as a real process, optionally under a descriptor limit (`prlimit`), with a notify socket
/// standing in for systemd's: the caps of issue 13, item 3, tried as an attacker on loopback would.
final class CappedServe: @unchecked Sendable {
    let dir = TemporaryDirectory("caps")
    let data: String
    let port = Loopback.freePort()
    let notify: Int32
    let log: String
    let cardCode: String
    private var process: ChildProcess?

    /// A demo kiosk whose veterans' corner (open all day, so no test depends on the hour) prints a receipt
    /// at every check-in, started under at most `descriptors` open files when given.
    init(descriptors: Int? = nil) throws {
        data = dir.path + "/data"
        log = dir.path + "/serve.log"
        let initialized = try Run.jiayuan(["init", "--demo", "--data", data])
        guard initialized.status == 0 else { throw KioskError("init failed: \(initialized.stderr)") }
        let configPath = data + "/jiayuan.toml"
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
            .replacingOccurrences(of: "legacy_cards = true", with: "legacy_cards = true\nreceipt = \"always\"")
            .replacingOccurrences(of: "port = 8443", with: "port = \(Loopback.freePort())")  // a console door of its own
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        cardCode = try Run.jiayuan(["card", "show", "M000001", "--data", data]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        notify = ServeProcessTests.notifySocket(dir.path + "/notify.sock")
        var arguments = ["serve", "--data", data, "--port", String(port), "--no-scanners", "--assets", Run.packageRoot + "/assets"]
        var binary = Run.jiayuanBinary
        if let descriptors {
            arguments = ["--nofile=\(descriptors):\(descriptors)", Run.jiayuanBinary] + arguments
            binary = "/usr/bin/prlimit"
        }
        let client = HTTPClient(timeout: .seconds(2), connectTimeout: .seconds(1))
        let health = url + "/healthz"
        process = try Run.startJiayuan(
            arguments, log: log, environment: ["NOTIFY_SOCKET": dir.path + "/notify.sock", "WATCHDOG_USEC": "1000000"], timeout: 30,
            poll: 0.05, binary: binary
        ) { (try? client.get(health))?.status == 200 }
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// The status of `GET path` within `timeout` seconds, nil when no answer came.
    func get(_ path: String, timeout: Int = 5) -> Int? {
        try? HTTPClient(timeout: .seconds(timeout), connectTimeout: .seconds(timeout)).get(url + path).status
    }

    /// Polls `GET /healthz` until it answers 200, at most `within` seconds.
    func healthy(within: Double) -> Bool {
        let deadline = Date().addingTimeInterval(within)
        while Date() < deadline {
            if get("/healthz") == 200 { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    /// One check-in through the API: the status and body, nil when no answer came.
    func checkIn(_ code: String, venue: String) -> (Int, String)? {
        let body = Array(#"{"code":"\#(code)","venue":"\#(venue)"}"#.utf8)
        guard
            let r = try? HTTPClient(timeout: .seconds(5), connectTimeout: .seconds(5)).post(
                url + "/api/checkin", headers: [("Content-Type", "application/json")], body: body)
        else { return nil }
        return (r.status, r.text)
    }

    /// Files the print spooler wrote.
    var printed: [String] { (try? FileManager.default.contentsOfDirectory(atPath: data + "/prints")) ?? [] }

    /// The sd_notify messages received since the last call.
    func notifications() -> [String] { ServeProcessTests.receiveAll(notify) }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Opens up to `count` event streams within 30 s; with `waitForFirstBytes` each one is open (its first
    /// event read) before the next.
    func openStreams(_ count: Int, waitForFirstBytes: Bool) -> [RawSocket] {
        let deadline = Date().addingTimeInterval(30)
        return (0..<count).compactMap { _ in
            guard Date() < deadline, let s = RawSocket(port: port, timeout: 1) else { return nil }
            s.send("GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            if waitForFirstBytes { _ = s.read(timeout: 5) { $0.contains("retry: 2000") } }
            return s
        }
    }

    /// Opens up to `count` connections within 30 s that send part of a request and never finish it
    /// (slowloris): half only send part of the head, half a whole head promising a body they never send.
    func openHalfSent(_ count: Int) -> [RawSocket] {
        let deadline = Date().addingTimeInterval(30)
        return (0..<count).compactMap { i in
            guard Date() < deadline, let s = RawSocket(port: port, timeout: 1) else { return nil }
            if i % 2 == 0 {
                s.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            } else {
                s.send(
                    "POST /api/checkin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"code\":"
                )
            }
            return s
        }
    }

    /// Sends SIGTERM and waits at most `grace` seconds for the process to end, then kills it; true when it
    /// ended by itself. Blocks: call it through `onThread`.
    @discardableResult
    func terminate(grace: Double = 15) -> Bool {
        guard let p = process, p.isRunning else { return true }
        p.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while p.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        guard p.isRunning else { return true }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return false
    }

    /// Stops the process (killing it if it does not stop) and removes its files.
    func stop() {
        terminate()
        close(notify)
        dir.remove()
    }
}

@Suite("Caps that keep the kiosk answering (jiayuan serve)", .blocking, .serialized)
struct ConnectionCapsProcessTests {
    /// Runs `body` against a fresh `jiayuan serve`, then stops it (off the cooperative pool) whatever happened.
    func withServe(descriptors: Int? = nil, _ body: (CappedServe) async throws -> Void) async throws {
        let serve = try await onThread { Result { try CappedServe(descriptors: descriptors) } }.get()
        do {
            try await body(serve)
        } catch {
            await onThread { serve.stop() }
            throw error
        }
        await onThread { serve.stop() }
    }

    @Test("forty event streams: the oldest are closed, sixteen stay open, /healthz answers")
    func streamsAreCapped() async throws {
        try await withServe { serve in
            let streams = await onThread { serve.openStreams(40, waitForFirstBytes: true) }
            defer { for s in streams { s.close() } }
            #expect(streams.count == 40)
            let oldest = Array(streams.prefix(24))
            let newest = Array(streams.suffix(16))
            let closed = await onThread { RawSocket.waitClosed(oldest, timeout: 20) }
            #expect(closed == 24, "the 24 oldest streams are closed by the kiosk")
            let stillOpen = await onThread { newest.filter { !$0.read(timeout: 0.2).closed }.count }
            #expect(stillOpen == 16, "the 16 newest stay open")
            #expect(await onThread { serve.get("/healthz") } == 200)
            // 60 s only bounds a failure (the old kiosk never stopped with streams open).
            #expect(await onThread { serve.terminate(grace: 60) }, "SIGTERM stops the kiosk while streams are open")
        }
    }

    @Test("120 half-sent requests are closed after the time limit while /healthz answers")
    func slowRequestsAreClosed() async throws {
        try await withServe { serve in
            let slow = await onThread { serve.openHalfSent(120) }
            defer { for s in slow { s.close() } }
            #expect(slow.count == 120)
            #expect(await onThread { serve.get("/healthz") } == 200, "answers while they hang")
            // The kiosk's limit is 10 s; 60 s only bounds a failure.
            let closed = await onThread { RawSocket.waitClosed(slow, timeout: 60) }
            #expect(closed == 120, "every half-sent request was closed by the kiosk")
            #expect(await onThread { serve.get("/healthz") } == 200)
        }
    }

    @Test(
        "under a 256-descriptor limit, 600 streams and 600 half-sent requests leave /healthz, check-ins, the print spooler and the watchdog working"
    )
    func descriptorExhaustion() async throws {
        try await withServe(descriptors: 256) { serve in
            let attack = await onThread { serve.openStreams(600, waitForFirstBytes: false) + serve.openHalfSent(600) }
            defer { for s in attack { s.close() } }
            _ = await onThread { serve.notifications() }
            #expect(await onThread { serve.healthy(within: 60) }, "/healthz answers during the attack")
            let answer = await onThread { serve.checkIn(serve.cardCode, venue: "veterans") }
            #expect(
                answer?.0 == 200 && answer?.1.contains("\"outcome\":\"accepted\"") == true,
                "a check-in is answered: \(answer.map { "\($0.0) \($0.1)" } ?? "no answer")")
            let printed = await onThread {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline, serve.printed.isEmpty { Thread.sleep(forTimeInterval: 0.2) }
                return serve.printed.count
            }
            #expect(printed >= 1, "the spooler printed the receipt")
            let pings = await onThread {
                Thread.sleep(forTimeInterval: 2)
                return serve.notifications().filter { $0.contains("WATCHDOG=1") }.count
            }
            #expect(pings > 0, "the watchdog still pings: the kiosk answers through its own door")
            #expect(!serve.logText.contains("Too many open files"), "no part of the kiosk ran out of descriptors")
        }
    }
}
