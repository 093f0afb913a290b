import Foundation
import JiayuanBench
import JiayuanKiosk
import JiayuanTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The installer, the units and the package, staged into throw-away roots (systemd cannot run here, so
/// the files, users and unit verification are checked; DESIGN of issue 7).
@Suite("Appliance: installer, units, package", .blocking, .serialized)
struct ApplianceTests {
    static let root = Run.packageRoot

    func install(_ dest: String, _ extra: [String] = []) throws -> ProcessResult {
        try Run.program("/bin/bash", [Self.root + "/kiosk/install.sh", "--root", dest, "--binary", Run.jiayuanBinary] + extra)
    }

    @Test("install.sh runs clean twice into a fresh root: files, users, data directory kept; uninstall keeps the data")
    func installTwice() throws {
        let dir = TemporaryDirectory("install")
        defer { dir.remove() }
        let dest = dir.path + "/root"
        let first = try install(dest, ["--kiosk-id", "lobby-1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created kiosk lobby-1"))
        for file in [
            "usr/bin/jiayuan", "usr/share/jiayuan/assets/index.html", "usr/share/jiayuan/jiayuan.toml.example",
            "usr/lib/systemd/system/jiayuan.service", "usr/lib/systemd/system/jiayuan-display.service",
            "usr/lib/systemd/system/jiayuan-backup.service", "usr/lib/systemd/system/jiayuan-backup.timer",
            "usr/lib/sysusers.d/jiayuan.conf", "usr/lib/tmpfiles.d/jiayuan.conf", "etc/udev/rules.d/70-jiayuan-scanners.rules",
            "var/lib/jiayuan/jiayuan.toml", "var/lib/jiayuan/jiayuan.sqlite", "var/lib/jiayuan/keys/card-signing.key",
            "usr/share/doc/jiayuan/install.md", "usr/share/doc/jiayuan/staff-guide.md", "usr/share/doc/jiayuan/screenshots/staff-home.png",
        ] {
            #expect(FileManager.default.fileExists(atPath: dest + "/" + file), "\(file) installed")
        }
        let passwd = try String(contentsOfFile: dest + "/etc/passwd", encoding: .utf8)
        #expect(passwd.contains("jiayuan:x:") && passwd.contains("jiayuan-display:x:") && passwd.contains("/usr/sbin/nologin"))
        let uid = passwd.split(separator: "\n").first { $0.hasPrefix("jiayuan:") }!.split(separator: ":")[2]
        let data = dest + "/var/lib/jiayuan"
        let attributes = try FileManager.default.attributesOfItem(atPath: data)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
        #expect((attributes[.ownerAccountID] as? NSNumber)?.stringValue == String(uid), "the data directory belongs to the jiayuan user")
        // The installed config is the example with this kiosk's id and passes the kiosk's own checks.
        let config = try String(contentsOfFile: data + "/jiayuan.toml", encoding: .utf8)
        #expect(config.contains("kiosk_id = \"lobby-1\"") && config.contains("evdev:/dev/jiayuan-scanner"))
        let doctor = try Run.jiayuan(["doctor", "--data", data])
        #expect(doctor.stdout.contains("OK    config"))
        // A check-in recorded between installs survives the second run.
        let card = try Run.jiayuan(["member", "add", "--name", "王秀英", "--group", "elder", "--born", "1948", "--data", data])
        #expect(card.status == 0, "\(card.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: data + "/jiayuan.sqlite"))
        let second = try install(dest)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("keeping the existing data directory"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: data + "/jiayuan.sqlite")) == before)
        #expect(
            try String(contentsOfFile: dest + "/etc/passwd", encoding: .utf8).components(separatedBy: "jiayuan:x:").count == 2,
            "no second user")
        // Uninstall: the program goes, the data stays.
        let un = try Run.program("/bin/bash", [Self.root + "/kiosk/uninstall.sh", "--root", dest])
        #expect(un.status == 0)
        #expect(!FileManager.default.fileExists(atPath: dest + "/usr/bin/jiayuan"))
        #expect(!FileManager.default.fileExists(atPath: dest + "/usr/lib/systemd/system/jiayuan.service"))
        #expect(FileManager.default.fileExists(atPath: data + "/jiayuan.sqlite"))
    }

    @Test("every unit passes systemd-analyze verify; the daemon's exposure is 2.5 or lower")
    func unitsVerify() throws {
        let dir = TemporaryDirectory("units")
        defer { dir.remove() }
        let dest = dir.path + "/root"
        #expect(try install(dest, ["--no-init"]).status == 0)
        // systemd-analyze resolves targets and executables inside the root: give it the host's targets and
        // the display's programs (cage, chromium, sh from Debian's packages).
        let units = dest + "/usr/lib/systemd/system"
        for name in try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/systemd/system") where name.hasSuffix(".target") {
            try? FileManager.default.copyItem(atPath: "/usr/lib/systemd/system/" + name, toPath: units + "/" + name)
        }
        for program in ["/usr/bin/cage", "/usr/bin/chromium", "/usr/bin/curl", "/bin/sh"]
        where FileManager.default.fileExists(atPath: program) {
            try FileManager.default.createDirectory(
                atPath: dest + (program as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The program itself, not a symlink to it (/bin/sh is a link to dash).
            try? FileManager.default.copyItem(atPath: URL(fileURLWithPath: program).resolvingSymlinksInPath().path, toPath: dest + program)
        }
        let names = ["jiayuan.service", "jiayuan-backup.service", "jiayuan-backup.timer", "jiayuan-display.service"]
        let verify = try Run.program("/usr/bin/systemd-analyze", ["verify", "--root=" + dest] + names)
        #expect(verify.status == 0)
        #expect(verify.stdout.isEmpty && verify.stderr.isEmpty, "systemd-analyze verify: \(verify.stdout)\(verify.stderr)")
        for unit in ["jiayuan.service", "jiayuan-backup.service"] {
            let security = try Run.program("/usr/bin/systemd-analyze", ["security", "--offline=true", units + "/" + unit])
            let line = try #require(security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") })
            let score = try #require(Double(line.split(separator: ":").last!.split(separator: " ").first ?? ""))
            print("systemd-analyze security \(unit): \(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces))")
            #expect(score <= 2.5, "\(line)")
        }
        // Caps that keep a flood from starving the machine (issue 13), and scanner rights without `input`.
        let unit = try String(contentsOfFile: units + "/jiayuan.service", encoding: .utf8)
        let settings = unit.split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        for line in ["LimitNOFILE=4096", "MemoryMax=512M", "TasksMax=256", "SupplementaryGroups=jiayuan-scanner dialout lp"] {
            #expect(settings.contains(line), "jiayuan.service sets \(line)")
        }
        #expect(!settings.contains { $0.hasPrefix("SupplementaryGroups=") && $0.split(separator: " ").contains { $0.hasSuffix("input") } })
    }

    @Test("the udev rules give exactly the scanners' USB ids (found, or usb_id in the config) to jiayuan-scanner, never a name glob")
    func scannerRulesByID() throws {
        let dir = TemporaryDirectory("scanner-rules")
        defer { dir.remove() }
        let dest = dir.path + "/root"
        let first = try install(dest, ["--kiosk-id", "lobby-1"])
        #expect(first.status == 0, "\(first.stderr)")
        let rulesPath = dest + "/etc/udev/rules.d/70-jiayuan-scanners.rules"
        let staged = try String(contentsOfFile: rulesPath, encoding: .utf8)
        #expect(!staged.contains("SUBSYSTEM=="), "staging looks at no hardware and the example names no id: \(staged)")
        #expect(FileManager.default.isExecutableFile(atPath: dest + "/usr/lib/jiayuan/scanner-rules"))
        let group = try String(contentsOfFile: dest + "/etc/group", encoding: .utf8)
        let scannerGroup = try #require(group.split(separator: "\n").first { $0.hasPrefix("jiayuan-scanner:") })
        #expect(scannerGroup.hasSuffix(":jiayuan"), "the kiosk user is in jiayuan-scanner: \(scannerGroup)")
        #expect(!group.split(separator: "\n").contains { $0.hasPrefix("input:") && $0.hasSuffix("jiayuan") })

        // A fake machine: a Honeywell scanner the config names by path, a Zebra scanner just plugged in, an
        // ordinary keyboard, and a keyboard that calls itself a QR scanner (the old rule's name glob took it).
        let hw = dir.path + "/hw"
        func device(_ event: String, _ byID: String, vendor: String, product: String) throws {
            let usb = hw + "/sys/devices/pci0000:00/usb1/\(event)-usb"
            let input = usb + "/1-1:1.0/input/input-\(event)"
            try FileManager.default.createDirectory(atPath: input + "/" + event, withIntermediateDirectories: true)
            try Data((vendor + "\n").utf8).write(to: URL(fileURLWithPath: usb + "/idVendor"))
            try Data((product + "\n").utf8).write(to: URL(fileURLWithPath: usb + "/idProduct"))
            try FileManager.default.createDirectory(atPath: hw + "/sys/class/input/" + event, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: hw + "/sys/class/input/\(event)/device",
                withDestinationPath: "../../../devices/pci0000:00/usb1/\(event)-usb/1-1:1.0/input/input-\(event)")
            try FileManager.default.createDirectory(atPath: hw + "/dev/input/by-id", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: hw + "/dev/input/" + event, contents: Data())
            try FileManager.default.createSymbolicLink(atPath: hw + "/dev/input/by-id/" + byID, withDestinationPath: "../" + event)
        }
        try device("event5", "usb-Honeywell_Imaging_1900-event-kbd", vendor: "0C2E", product: "0B61")
        try device("event7", "usb-Symbol_DS2208-event-kbd", vendor: "05e0", product: "1200")
        try device("event3", "usb-Logitech_K120-event-kbd", vendor: "046d", product: "c31c")
        try device("event9", "usb-Cheap_QR_Scanner_Keyboard-event-kbd", vendor: "1234", product: "5678")
        let configPath = dest + "/var/lib/jiayuan/jiayuan.toml"
        var config = try String(contentsOfFile: configPath, encoding: .utf8)
        config = config.replacingOccurrences(
            of: "source = \"evdev:/dev/jiayuan-scanner\"",
            with:
                "source = \"evdev:/dev/input/by-id/usb-Honeywell_Imaging_1900-event-kbd\"\n\n[[scanner]]\nname = \"desk\"\nusb_id = \"1A86:E026\"\nsource = \"serial:/dev/ttyACM0\""
        )
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect(try Run.jiayuan(["doctor", "--data", dest + "/var/lib/jiayuan"]).stdout.contains("OK    config"), "usb_id is a valid key")

        let second = try install(dest, ["--hardware-root", hw])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("udev: 3 scanner id(s)"), "\(second.stdout)")
        let rules = try String(contentsOfFile: rulesPath, encoding: .utf8)
        let active = rules.split(separator: "\n").filter { !$0.hasPrefix("#") }
        for (vendor, product) in [("0c2e", "0b61"), ("05e0", "1200"), ("1a86", "e026")] {
            #expect(
                active.contains {
                    $0.contains("SUBSYSTEM==\"input\"") && $0.contains("ATTRS{idVendor}==\"\(vendor)\", ATTRS{idProduct}==\"\(product)\"")
                },
                "\(vendor):\(product) has an input rule: \(rules)")
        }
        #expect(
            !rules.contains("046d") && !rules.contains("1234"), "an ordinary keyboard and a self-named \"scanner\" get nothing: \(rules)")
        #expect(!rules.contains("ATTRS{name}"), "no rule matches a device by its name")
        #expect(active.filter { $0.contains("GROUP=") }.allSatisfy { $0.contains("GROUP=\"jiayuan-scanner\"") })
        #expect(active.filter { $0.contains("SUBSYSTEM==") }.count == 6, "one input and one serial rule per id")
    }

    @Test("build-deb.sh makes a package with the program, units, the rules' generator and maintainer scripts")
    func debianPackage() throws {
        let dir = TemporaryDirectory("deb")
        defer { dir.remove() }
        let build = try Run.program(
            "/bin/bash", [Self.root + "/kiosk/build-deb.sh", "--binary", Run.jiayuanBinary, "--out", dir.path, "--version", "9.9.9"])
        #expect(build.status == 0, "\(build.stderr)")
        let deb = build.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix("_9.9.9_amd64.deb") || deb.hasSuffix(".deb"))
        let info = try Run.program("/usr/bin/dpkg-deb", ["-I", deb])
        #expect(info.stdout.contains("Package: jiayuan") && info.stdout.contains("Depends:") && info.stdout.contains("libqrencode4"))
        #expect(info.stdout.contains("postinst") && info.stdout.contains("prerm"))
        let contents = try Run.program("/usr/bin/dpkg-deb", ["-c", deb]).stdout
        for path in [
            "./usr/bin/jiayuan", "./usr/lib/systemd/system/jiayuan.service", "./usr/lib/sysusers.d/jiayuan.conf",
            "./usr/lib/jiayuan/scanner-rules", "./usr/share/jiayuan/assets/index.html", "./usr/share/doc/jiayuan/install.md",
            "./usr/share/doc/jiayuan/staff-guide.md", "./usr/share/doc/jiayuan/screenshots/staff-floor.png",
        ] {
            #expect(contents.contains(path), "\(path) in the package")
        }
        // The udev rules name the target's scanners: postinst writes them there; none are shipped.
        #expect(!contents.contains("70-jiayuan-scanners.rules"), "the build machine's rules are not shipped")
        let control = dir.path + "/control"
        #expect(try Run.program("/usr/bin/dpkg-deb", ["-e", deb, control]).status == 0)
        #expect(try String(contentsOfFile: control + "/postinst", encoding: .utf8).contains("/usr/lib/jiayuan/scanner-rules"))
        #expect(!contents.contains("./var/") && !contents.contains("./etc/passwd"), "no data directory or users are shipped")
        // The hub is a package of its own (HubPackageTests); the kiosk needs neither its files nor libpq.
        #expect(!contents.contains("jiayuan-hub") && !info.stdout.contains("libpq"), "nothing of the hub in the kiosk's package")
    }

    @Test("the example config is the appliance default and is valid")
    func exampleConfig() throws {
        let printed = try Run.jiayuan(["init", "--print-appliance-config"])
        let file = try String(contentsOfFile: Self.root + "/kiosk/jiayuan.toml.example", encoding: .utf8)
        #expect(printed.stdout == file, "kiosk/jiayuan.toml.example is regenerated with `jiayuan init --print-appliance-config`")
    }

    /// The release binary with the Swift runtime linked in (kiosk/test.sh builds it), which runs in a root
    /// without the toolchain.
    static let applianceBinary = ProcessInfo.processInfo.environment["JIAYUAN_TEST_APPLIANCE_BINARY"].flatMap { $0.isEmpty ? nil : $0 }

    @Test(
        "install.sh runs clean twice as root inside a fresh Debian 12 root made with debootstrap; the units verify there",
        .enabled(if: applianceBinary != nil && getuid() == 0, "needs root and JIAYUAN_TEST_APPLIANCE_BINARY (kiosk/test.sh sets both)"),
        .timeLimit(.minutes(15)))
    func installInDebianRoot() throws {
        let dir = TemporaryDirectory("debootstrap")
        defer { dir.remove() }
        let root = dir.path + "/bookworm"
        let mirror = ProcessInfo.processInfo.environment["JIAYUAN_DEBIAN_MIRROR"] ?? "http://deb.debian.org/debian"
        let boot = try Run.program("/usr/sbin/debootstrap", ["--variant=minbase", "bookworm", root, mirror])
        try #require(boot.status == 0, "debootstrap: \(boot.stderr.suffix(2000))")
        // No services start inside the root; its packages' scripts are told so.
        try "#!/bin/sh\nexit 101\n".write(toFile: root + "/usr/sbin/policy-rc.d", atomically: true, encoding: .utf8)
        chmod(root + "/usr/sbin/policy-rc.d", 0o755)
        try? FileManager.default.removeItem(atPath: root + "/etc/resolv.conf")
        try FileManager.default.copyItem(atPath: "/etc/resolv.conf", toPath: root + "/etc/resolv.conf")
        #expect(try Run.program("/usr/bin/mount", ["-t", "proc", "proc", root + "/proc"]).status == 0)
        defer { _ = try? Run.program("/usr/bin/umount", ["-l", root + "/proc"]) }
        let source = root + "/opt/jiayuan-src"
        try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
        for item in ["kiosk", "systemd", "assets", "docs", "README.md"] {
            try FileManager.default.copyItem(atPath: Self.root + "/" + item, toPath: source + "/" + item)
        }
        try FileManager.default.copyItem(atPath: try #require(Self.applianceBinary), toPath: root + "/opt/jiayuan")
        func inRoot(_ command: String) throws -> ProcessResult {
            try Run.program("/usr/sbin/chroot", [root, "/bin/bash", "-c", command])
        }
        let first = try inRoot("cd /opt/jiayuan-src && bash kiosk/install.sh --binary /opt/jiayuan --kiosk-id lobby-1")
        #expect(first.status == 0, "first install: \(first.stdout.suffix(1500)) \(first.stderr.suffix(1500))")
        #expect(first.stdout.contains("created kiosk lobby-1"))
        let second = try inRoot("cd /opt/jiayuan-src && bash kiosk/install.sh --binary /opt/jiayuan")
        #expect(second.status == 0, "second install: \(second.stderr.suffix(1500))")
        #expect(second.stdout.contains("keeping the existing data directory"))
        let passwd = try String(contentsOfFile: root + "/etc/passwd", encoding: .utf8)
        #expect(passwd.contains("\njiayuan:x:") && passwd.contains("\njiayuan-display:x:"))
        // The program runs in the Debian root as its own user, on the installed data directory.
        let doctor = try inRoot("runuser -u jiayuan -- /usr/bin/jiayuan doctor --data /var/lib/jiayuan")
        #expect(doctor.stdout.contains("OK    config") && doctor.stdout.contains("OK    database"), "\(doctor.stdout) \(doctor.stderr)")
        #expect(doctor.stdout.contains("not plugged in"), "the example config's scanner is reported missing in plain words")
        // The units verify against the root's own systemd, cage and chromium.
        let verify = try Run.program(
            "/usr/bin/systemd-analyze",
            ["verify", "--root=" + root, "jiayuan.service", "jiayuan-backup.service", "jiayuan-backup.timer", "jiayuan-display.service"])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stderr)")
        let un = try inRoot("cd /opt/jiayuan-src && bash kiosk/uninstall.sh")
        #expect(un.status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/bin/jiayuan"))
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/jiayuan/jiayuan.sqlite"))
    }

    @Test(
        "the appliance build's idle kiosk stays within 35 MB resident (issue 4; docs/memory.md)",
        .enabled(if: applianceBinary != nil, "needs JIAYUAN_TEST_APPLIANCE_BINARY (kiosk/test.sh sets it)"))
    func idleMemory() throws {
        let binary = try #require(Self.applianceBinary)
        let dir = TemporaryDirectory("idle-rss")
        defer { dir.remove() }
        let data = dir.path + "/data"
        let made = try Run.program(binary, ["init", "--demo", "--data", data])
        try #require(made.status == 0, "\(made.stderr)")
        let port = Loopback.freePort()
        let health = "http://127.0.0.1:\(port)/healthz"
        let serve = try Run.startJiayuan(
            ["serve", "--data", data, "--port", String(port), "--console-port", "0", "--no-scanners", "--assets", Self.root + "/assets"],
            log: dir.path + "/serve.log", timeout: 30, poll: 0.1, binary: binary
        ) { (try? Run.program("/usr/bin/curl", ["-sf", "-o", "/dev/null", health]).status) == 0 }
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        // A screen's worth of requests, then idle.
        for path in ["/", "/assets/app.js", "/api/occupancy", "/healthz"] {
            #expect(try Run.program("/usr/bin/curl", ["-sf", "-o", "/dev/null", "http://127.0.0.1:\(port)" + path]).status == 0, "\(path)")
        }
        Thread.sleep(forTimeInterval: 2)
        let status = try String(contentsOfFile: "/proc/\(serve.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? ""))
        #expect(kib <= 35 * 1024, "idle RSS \(kib) KiB is over the 35 MB budget")
        #expect(kib > 4 * 1024, "the reading is of a real server (\(kib) KiB)")
    }
}
