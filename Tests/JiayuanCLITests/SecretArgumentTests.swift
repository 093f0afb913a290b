import Foundation
import JiayuanHub
import JiayuanKiosk
import JiayuanSync
import JiayuanTestSupport
import Testing

/// Secrets never travel as arguments, where `ps` shows them (issue 13, item 4).
@Suite("Secrets off the command line", .blocking)
struct SecretArgumentTests {
    @Test("hub --database with a password in the address is a usage error; without one it opens")
    func databasePassword() throws {
        let dir = TemporaryDirectory("hub-secret")
        defer { dir.remove() }
        for address in [
            "postgres://jiayuan:S3cret@127.0.0.1:1/hub", "postgresql://u:p@localhost/x?sslmode=disable",
            "postgres://jiayuan@127.0.0.1:1/hub?password=S3cret",
        ] {
            let r = try Run.hub(["token", "list", "--data", dir.path, "--database", address])
            #expect(r.status == 64, "\(address): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(".pgpass"), "\(r.stderr)")
        }
        let sqlite = try Run.hub(["token", "list", "--data", dir.path, "--database", "sqlite:" + dir.path + "/hub.sqlite"])
        #expect(sqlite.status == 0, "\(sqlite.stderr)")
    }

    @Test("what counts as a password in a database address")
    func passwordDetection() {
        #expect(HubAddress.hasPassword("postgres://u:pw@h/db"))
        #expect(HubAddress.hasPassword("host=h password=pw dbname=x"))
        #expect(!HubAddress.hasPassword("postgres://u@h:5432/db"))
        #expect(!HubAddress.hasPassword("postgres://h:5432/db"), "a port is not a password")
        #expect(!HubAddress.hasPassword("sqlite:/var/lib/jiayuan-hub/hub.sqlite"))
    }

    @Test("no command offers a secret option in its help")
    func helpShowsNoSecretOptions() throws {
        for command in [["staff", "add"], ["upload"]] {
            let help = try Run.jiayuan(command + ["--help"]).stdout
            #expect(!help.contains("--pin ") && !help.contains("--pin\n") && !help.contains("--token "), "\(command): \(help)")
        }
        #expect(try Run.jiayuan(["staff", "add", "--help"]).stdout.contains("--pin-stdin"))
        #expect(try Run.jiayuan(["upload", "--help"]).stdout.contains("--token-file"))
    }
}
