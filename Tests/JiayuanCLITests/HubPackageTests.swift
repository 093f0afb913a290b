import Foundation
import JiayuanTestSupport
import Testing

/// The hub's Debian package and unit, unpacked into throw-away roots (systemd cannot run here, so the
/// files, the users and directories its postinst makes, and the unit's verification are checked).
@Suite("Appliance: the hub's package and unit", .serialized)
struct HubPackageTests {
    static let root = Run.packageRoot

    /// Builds the hub's package with build-deb.sh and returns its path and file list.
    func build(_ dir: String) throws -> (deb: String, contents: String) {
        let build = try Run.program(
            "/bin/bash", [Self.root + "/kiosk/build-deb.sh", "--hub", "--binary", Run.hubBinary, "--out", dir, "--version", "9.9.9"])
        try #require(build.status == 0, "\(build.stderr)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (deb, try Run.program("/usr/bin/dpkg-deb", ["-c", deb]).stdout)
    }

    @Test("build-deb.sh --hub makes jiayuan-hub_<version>_<arch>.deb with the hub's files only; unpacked, they make its user and state")
    func packages() throws {
        let dir = TemporaryDirectory("hub-deb")
        defer { dir.remove() }
        let (deb, contents) = try build(dir.path)
        let arch = try Run.program("/usr/bin/dpkg", ["--print-architecture"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix("/jiayuan-hub_9.9.9_\(arch).deb"), "\(deb)")
        let info = try Run.program("/usr/bin/dpkg-deb", ["-I", deb]).stdout
        #expect(info.contains("Package: jiayuan-hub") && info.contains("libpq5") && info.contains("postinst"))
        for path in [
            "./usr/bin/jiayuan-hub", "./usr/lib/systemd/system/jiayuan-hub.service", "./usr/lib/sysusers.d/jiayuan-hub.conf",
            "./usr/lib/tmpfiles.d/jiayuan-hub.conf", "./usr/share/jiayuan-hub/nginx.conf", "./usr/share/jiayuan-hub/hub.env.example",
            "./usr/share/doc/jiayuan-hub/hub.md",
        ] {
            #expect(contents.contains(path + "\n"), "\(path) in the hub's package")
        }
        let hubFiles = contents.split(separator: "\n").compactMap { $0.split(separator: " ").last }.filter { !$0.hasSuffix("/") }
        #expect(hubFiles.allSatisfy { $0.contains("jiayuan-hub") }, "no kiosk file in the hub's package: \(hubFiles)")
        #expect(!contents.contains("./var/") && !contents.contains("./etc/"), "no data directory, users or settings are shipped")
        // postinst makes the user and directories and enables the unit; it does not start it.
        let control = dir.path + "/control"
        #expect(try Run.program("/usr/bin/dpkg-deb", ["-e", deb, control]).status == 0)
        let postinst = try String(contentsOfFile: control + "/postinst", encoding: .utf8)
        #expect(postinst.contains("systemd-sysusers /usr/lib/sysusers.d/jiayuan-hub.conf"))
        #expect(postinst.contains("systemd-tmpfiles --create /usr/lib/tmpfiles.d/jiayuan-hub.conf"))
        #expect(postinst.contains("systemctl enable jiayuan-hub.service"))
        #expect(!postinst.contains("systemctl start") && !postinst.contains("systemctl restart"))

        // Unpacked into a root, the shipped sysusers/tmpfiles entries make what postinst makes.
        let root = dir.path + "/root"
        #expect(try Run.program("/usr/bin/dpkg-deb", ["-x", deb, root]).status == 0)
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        let users = try Run.program("/usr/bin/systemd-sysusers", ["--root=" + root, root + "/usr/lib/sysusers.d/jiayuan-hub.conf"])
        #expect(users.status == 0, "\(users.stderr)")
        let dirs = try Run.program(
            "/usr/bin/systemd-tmpfiles", ["--create", "--root=" + root, root + "/usr/lib/tmpfiles.d/jiayuan-hub.conf"])
        #expect(dirs.status == 0, "\(dirs.stderr)")
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        let entry = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("jiayuan-hub:") })
        #expect(entry.hasSuffix(":/var/lib/jiayuan-hub:/usr/sbin/nologin"))
        let state = try FileManager.default.attributesOfItem(atPath: root + "/var/lib/jiayuan-hub")
        #expect((state[.posixPermissions] as? Int) == 0o700)
        #expect((state[.ownerAccountID] as? NSNumber)?.stringValue == String(entry.split(separator: ":")[2]))
        #expect(FileManager.default.fileExists(atPath: root + "/etc/jiayuan-hub"))
        // The packaged program runs.
        let help = try Run.program(root + "/usr/bin/jiayuan-hub", ["--help"])
        #expect(help.status == 0 && help.stdout.contains("serve"))
    }

    @Test("the hub's unit is Type=notify with a watchdog, verifies, and its exposure is 2.5 or lower")
    func unit() throws {
        let dir = TemporaryDirectory("hub-unit")
        defer { dir.remove() }
        // The unit and the program where the package puts them (the package itself: the test above).
        let root = dir.path + "/root"
        let units = root + "/usr/lib/systemd/system"
        try FileManager.default.createDirectory(atPath: units, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/usr/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.root + "/systemd/jiayuan-hub.service", toPath: units + "/jiayuan-hub.service")
        try FileManager.default.copyItem(atPath: Run.hubBinary, toPath: root + "/usr/bin/jiayuan-hub")
        // systemd-analyze resolves targets inside the root: give it the host's.
        for name in try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/systemd/system") where name.hasSuffix(".target") {
            try? FileManager.default.copyItem(atPath: "/usr/lib/systemd/system/" + name, toPath: units + "/" + name)
        }
        let verify = try Run.program("/usr/bin/systemd-analyze", ["verify", "--root=" + root, "jiayuan-hub.service"])
        #expect(verify.status == 0)
        #expect(verify.stdout.isEmpty && verify.stderr.isEmpty, "systemd-analyze verify: \(verify.stdout)\(verify.stderr)")
        let security = try Run.program("/usr/bin/systemd-analyze", ["security", "--offline=true", units + "/jiayuan-hub.service"])
        let line = try #require(security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(Double(line.split(separator: ":").last!.split(separator: " ").first ?? ""))
        print("systemd-analyze security jiayuan-hub.service: \(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))")
        #expect(score <= 2.5, "\(line)")
        let text = try String(contentsOfFile: units + "/jiayuan-hub.service", encoding: .utf8)
        let settings = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        for setting in [
            "Type=notify", "WatchdogSec=30", "Restart=on-failure", "User=jiayuan-hub", "StateDirectory=jiayuan-hub",
            "EnvironmentFile=-/etc/jiayuan-hub/hub.env", "NoNewPrivileges=yes", "CapabilityBoundingSet=",
        ] {
            #expect(settings.contains(setting), "jiayuan-hub.service sets \(setting)")
        }
    }
}
