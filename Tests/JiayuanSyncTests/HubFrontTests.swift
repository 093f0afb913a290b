import Foundation
import JiayuanBench
import JiayuanDomain
import JiayuanHub
import JiayuanKiosk
import JiayuanProcess
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A private nginx running `hub/nginx.conf` as shipped (placeholders filled in) with a self-signed
/// certificate, on free loopback ports, in a temporary prefix (no root paths; `daemon off`).
final class PrivateNginx: @unchecked Sendable {
    let dir: String
    let port: Int
    let httpPort: Int
    let certificate: String
    private let process: ChildProcess

    static let binary = "/usr/sbin/nginx"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    init(dir: String, upstreams: [Int]) throws {
        self.dir = dir
        port = Loopback.freePort()
        httpPort = Loopback.freePort()
        certificate = dir + "/cert.pem"
        try FileManager.default.createDirectory(atPath: dir + "/tmp", withIntermediateDirectories: true)
        let made = try Run.program(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out", certificate,
            ])
        guard made.status == 0 else { throw KioskError("openssl could not make the certificate: \(made.stderr)") }
        var server = try String(contentsOfFile: Run.packageRoot + "/hub/nginx.conf", encoding: .utf8)
        let values = [
            "@SERVER_NAME@": "127.0.0.1", "@LISTEN@": "127.0.0.1:\(port)", "@HTTP_LISTEN@": "127.0.0.1:\(httpPort)",
            "@CERT@": certificate, "@KEY@": dir + "/key.pem", "@HUB_1@": "127.0.0.1:\(upstreams[0])",
            "@HUB_2@": "127.0.0.1:\(upstreams[1])",
        ]
        for (name, value) in values { server = server.replacingOccurrences(of: name, with: value) }
        let settings = server.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        guard !settings.contains(where: { $0.contains("@") }) else { throw KioskError("a placeholder of hub/nginx.conf was not filled in") }
        try server.write(toFile: dir + "/hub.conf", atomically: true, encoding: .utf8)
        // The main file: everything in the prefix; the access log names the instance of every request.
        let main = """
            \(getuid() == 0 ? "user root root;" : "")
            daemon off;
            worker_processes 1;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log notice;
            events { worker_connections 256; }
            http {
              log_format upstreams '$status $request_method $upstream_addr $upstream_status';
              access_log \(dir)/access.log upstreams;
              client_body_temp_path \(dir)/tmp/body;
              proxy_temp_path \(dir)/tmp/proxy;
              fastcgi_temp_path \(dir)/tmp/fastcgi;
              uwsgi_temp_path \(dir)/tmp/uwsgi;
              scgi_temp_path \(dir)/tmp/scgi;
              include \(dir)/hub.conf;
            }

            """
        try main.write(toFile: dir + "/nginx.conf", atomically: true, encoding: .utf8)
        let url = "https://127.0.0.1:\(port)/healthz"
        let cert = certificate
        process = try Run.startJiayuan(
            ["-p", dir, "-c", dir + "/nginx.conf", "-e", dir + "/error.log"], log: dir + "/nginx.out", poll: 0.05, binary: Self.binary
        ) {
            // Up once it answers over TLS (the instances may answer 502 before they listen: any HTTP status will do).
            let r = try? Run.program("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", cert, url])
            return (r?.stdout ?? "000") != "000"
        }
    }

    /// The front's HTTPS address.
    var url: String { "https://127.0.0.1:\(port)" }

    /// The instances (host:port) that answered, one per proxied request, from the access log.
    func upstreamsUsed() -> [String] {
        let log = (try? String(contentsOfFile: dir + "/access.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").flatMap { line in
            line.split(separator: " ").dropFirst(2).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: ",")) }
                .filter { $0.hasPrefix("127.0.0.1:") }
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite("The hub behind its TLS front (hub/nginx.conf), two instances on one PostgreSQL", .serialized, .blocking)
struct HubFrontTests {
    @Test(
        "a kiosk uploads through nginx over HTTPS with its CA file while one of two hubs is SIGKILLed: every event once",
        .enabled(if: TestPostgres.url != nil, "needs the private PostgreSQL server of kiosk/test.sh (JIAYUAN_TEST_POSTGRES_URL)"),
        .enabled(if: PrivateNginx.available, "needs nginx (kiosk/setup-deps.sh --tests installs it)"))
    func uploadThroughTheFront() throws {
        let dir = TemporaryDirectory("hub-front")
        defer { dir.remove() }
        let database = try #require(try TestPostgres.freshDatabase("jy_front"))
        let first = try HubProcess(data: dir.path + "/hub-1", database: database)
        let second = try HubProcess(data: dir.path + "/hub-2", database: database)
        defer {
            first.stop()
            second.stop()
        }
        let nginx = try PrivateNginx(dir: dir.path + "/nginx", upstreams: [first.port, second.port])
        defer { nginx.stop() }

        // Plain HTTP is never served: the TLS port and the HTTP port both redirect to https://.
        for plain in ["http://127.0.0.1:\(nginx.port)/healthz", "http://127.0.0.1:\(nginx.httpPort)/v1/events"] {
            let r = try Run.program("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", plain])
            #expect(r.stdout.hasPrefix("301 https://"), "\(plain): \(r.stdout)")
        }
        // HTTPS with the certificate trusted: the hub's health through the front, with HSTS.
        let health = try Run.program("/usr/bin/curl", ["-s", "-i", "--cacert", nginx.certificate, nginx.url + "/healthz"])
        #expect(health.stdout.hasPrefix("HTTP/1.1 200"), "\(health.stdout)")
        #expect(health.stdout.lowercased().contains("strict-transport-security: max-age="))
        #expect(health.stdout.contains("\"database\":\"ok\""))

        // A kiosk with a few thousand events, trusting the front's certificate through [upload] ca_file.
        let events: Int64 = 4000
        let data = dir.path + "/kiosk-a"
        #expect(try Run.jiayuan(["init", "--data", data, "--kiosk-id", "kiosk-a"]).status == 0)
        let token = try first.addToken(kiosk: "kiosk-a", centre: "jinan-jiayuan")
        func configure(_ data: String, caFile: String?) throws {
            var config = try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8)
            config += """

                [upload]
                hub = "\(nginx.url)"
                token = "\(token)"
                batch_size = 25
                timeout_seconds = 10
                retry_max_seconds = 1
                interval_seconds = 1
                \(caFile.map { "ca_file = \"\($0)\"" } ?? "")

                """
            try config.write(toFile: data + "/jiayuan.toml", atomically: true, encoding: .utf8)
        }
        try configure(data, caFile: nginx.certificate)
        try SyntheticLog.append(
            to: try DataDirectory(path: data).openDatabase(), count: Int(events), venues: ["gym", "library", "daycare"], seed: 14)

        // The certificate is really checked: the same kiosk without the CA file is refused, in plain words.
        let untrusting = dir.path + "/kiosk-untrusting"
        #expect(try Run.jiayuan(["init", "--data", untrusting, "--kiosk-id", "kiosk-a"]).status == 0)
        try configure(untrusting, caFile: nil)
        try SyntheticLog.append(to: try DataDirectory(path: untrusting).openDatabase(), count: 10, venues: ["gym"], seed: 1)
        let refused = try Run.jiayuan(["upload", "--once", "--data", untrusting])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("certificate is not trusted") && refused.stderr.contains("ca_file"), "\(refused.stderr)")
        let store = try openHubStore(database: database, dataDirectory: dir.path + "/hub-1")
        #expect(try store.eventCount(kiosk: "kiosk-a") == 0, "nothing crossed an untrusted connection")

        // Upload in the background; SIGKILL one instance while the backlog flows.
        let upload = ChildProcess()
        upload.executableURL = URL(fileURLWithPath: Run.jiayuanBinary)
        upload.arguments = ["upload", "--data", data]
        upload.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let uploadLog = dir.path + "/upload.log"
        FileManager.default.createFile(atPath: uploadLog, contents: nil)
        upload.standardError = FileHandle(forWritingAtPath: uploadLog)
        try upload.run()
        let deadline = Date().addingTimeInterval(120)
        var held: Int64 = 0
        while held < 600, Date() < deadline {
            held = (try? store.eventCount(kiosk: "kiosk-a")) ?? held
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(held >= 600 && held < events, "one instance is killed mid-run (\(held) of \(events) held)")
        first.kill()
        let uploadDeadline = Date().addingTimeInterval(180)
        while upload.isRunning, Date() < uploadDeadline { Thread.sleep(forTimeInterval: 0.05) }
        if upload.isRunning { upload.terminate() }
        upload.waitUntilExit()
        let uploadErrors = (try? String(contentsOfFile: uploadLog, encoding: .utf8)) ?? ""
        #expect(upload.terminationStatus == 0, "jiayuan upload finished through the surviving instance: \(uploadErrors.suffix(1500))")

        // Every event at the hub exactly once, the chain verifies, and both instances took batches.
        #expect(try store.eventCount(kiosk: "kiosk-a") == events)
        #expect(try store.verifyChain(kiosk: "kiosk-a") == nil)
        #expect(try store.kiosks().first { $0.id == "kiosk-a" }?.lastSeq == events)
        let list = try Run.hub(["token", "list", "--database", database])
        #expect(list.stdout.contains("kiosk-a\tcentre jinan-jiayuan\tthrough seq \(events)"), "\(list.stdout)")
        let used = Set(nginx.upstreamsUsed())
        #expect(used.contains("127.0.0.1:\(first.port)") && used.contains("127.0.0.1:\(second.port)"), "both instances served: \(used)")
        #expect(try DataDirectory(path: data).openDatabase().uploadState().backlog == 0)
    }
}

@Suite("jiayuan-hub serve under systemd: READY, WATCHDOG while the database answers, STOPPING", .serialized, .blocking)
struct HubSystemdTests {
    /// Waits (polling the socket) until `text` arrives, or `timeout` seconds.
    func wait(for text: String, on socket: NotifySocket, timeout: Double = 30) -> String {
        var seen = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !seen.contains(text), Date() < deadline {
            seen += socket.drain()
            Thread.sleep(forTimeInterval: 0.05)
        }
        return seen
    }

    func healthStatus(_ hub: HubProcess) throws -> String {
        try Run.program("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", hub.url + "/healthz"]).stdout
    }

    @Test("READY=1 once listening, WATCHDOG=1 pings, STOPPING=1 and exit 0 on SIGTERM", arguments: Backend.available)
    func notifies(backend: Backend) throws {
        let dir = TemporaryDirectory("hub-notify")
        defer { dir.remove() }
        let socket = try NotifySocket(path: dir.path + "/notify.sock")
        defer { socket.close() }
        let database = backend == .postgresql ? try TestPostgres.freshDatabase("jy_notify") : nil
        let hub = try HubProcess(
            data: dir.path + "/hub", database: database, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000"])
        defer { hub.stop() }
        let ready = wait(for: "WATCHDOG=1", on: socket)
        #expect(ready.contains("READY=1"), "\(ready)")
        #expect(ready.contains("WATCHDOG=1"), "\(ready)")
        #expect(!ready.contains("STOPPING=1"))
        #expect(try healthStatus(hub) == "200")

        if backend == .postgresql, let url = TestPostgres.url, let slash = url.lastIndex(of: "/") {
            // The database goes away: /healthz says 503 and the pings stop, so systemd would restart the hub.
            let admin = String(url[..<slash]) + "/postgres"
            #expect(try Run.program("/usr/bin/psql", [admin, "-qc", "DROP DATABASE jy_notify WITH (FORCE)"]).status == 0)
            #expect(try healthStatus(hub) == "503")
            Thread.sleep(forTimeInterval: 1.5)  // a ping already on its way may still land
            _ = socket.drain()
            Thread.sleep(forTimeInterval: 2)
            #expect(!socket.drain().contains("WATCHDOG=1"), "no pings while the database does not answer")
            // It comes back: so do the pings and the health check.
            #expect(try Run.program("/usr/bin/psql", [admin, "-qc", "CREATE DATABASE jy_notify"]).status == 0)
            #expect(wait(for: "WATCHDOG=1", on: socket).contains("WATCHDOG=1"), "pings resume with the database")
            #expect(try healthStatus(hub) == "200")
        }

        #expect(hub.terminate() == 0, "SIGTERM is a graceful stop")
        #expect(socket.drain().contains("STOPPING=1"))
    }
}
