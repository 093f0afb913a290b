import Foundation
import JiayuanDomain
import JiayuanStore

/// What `jiayuan init` created.
public struct InitResult: Sendable {
    public var config: KioskConfig
    /// Demo members with their cards (empty without `--demo`).
    public var demoMembers: [(Member, IssuedCard)]
}

extension DataDirectory {
    /// Creates the data directory: config, database (migrated), and a new card-signing key.
    /// Refuses a directory that already holds a kiosk, so nothing is overwritten.
    /// `configText` replaces the default `jiayuan.toml` (its `kiosk_id` line is set to `kioskID`).
    public func initialize(
        kioskID: String, keyID: UInt8 = 1, demo: Bool, configText: String? = nil, now: Date, rng: inout some RandomNumberGenerator
    ) throws -> InitResult {
        let fm = FileManager.default
        for existing in [configPath, databasePath, signingKeyPath] where fm.fileExists(atPath: existing) {
            throw KioskError("\(existing) already exists: this directory already holds a kiosk, nothing was changed")
        }
        var text = DefaultConfig.text(kioskID: kioskID, demo: demo)
        if let configText {
            text = configText.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                line.hasPrefix("kiosk_id") ? "kiosk_id = \"\(kioskID)\"" : String(line)
            }.joined(separator: "\n")
        }
        let config = try KioskConfig.parse(text, file: configPath, zones: .system)
        do {
            try fm.createDirectory(atPath: keysPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw KioskError("cannot create \(keysPath): \(error.localizedDescription)")
        }
        let key = CardSigningKey(keyID: keyID)
        try DataDirectory.writePrivateFile(signingKeyPath, contents: key.fileText)
        // The staff console's own certificate, for when it is put on the desk network (HTTPS only there).
        let console = ConsoleCertificate(data: self, config: config.console)
        if !console.exists {
            try console.create(
                hostNames: ConsoleCertificate.hostNames(console: config.console),
                addresses: ConsoleCertificate.addresses(console: config.console), now: now)
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        let database = try AppDatabase.open(path: databasePath)
        var seeded: [(Member, IssuedCard)] = []
        if demo {
            seeded = try DemoData.seed(
                database, key: key, today: LocalTime(now, in: config.timeZone).date, validityDays: config.cardValidityDays,
                now: now, rng: &rng)
            // A demo front-desk account for the staff console (demo data only; real desks add their own).
            _ = try database.addStaff(
                name: DemoData.staffName, role: .admin, pinHash: try PINHash.make(DemoData.staffPIN, rounds: demoPINRounds, using: &rng),
                by: nil, at: now)
        }
        return InitResult(config: config, demoMembers: seeded)
    }
}

/// The `jiayuan.toml` written by `jiayuan init`.
public enum DefaultConfig {
    /// The installed appliance's starting config (`kiosk/jiayuan.toml.example`): the centre's five venues,
    /// no demo mode, a USB scanner under the installer's udev name.
    public static func appliance(kioskID: String = "kiosk-1") -> String {
        text(kioskID: kioskID, demo: true)
            .replacingOccurrences(of: "demo = true", with: "demo = false")
            .replacingOccurrences(
                of: "name = \"lobby\"\nsource = \"fifo:scan.fifo\"",
                with:
                    "name = \"lobby\"\n# The installer's udev rule names a USB QR scanner /dev/jiayuan-scanner (see kiosk/scanner-rules.sh):\n# only devices with a scanner's USB id get it. Name yours here (lsusb shows the id) and run\n# /usr/lib/jiayuan/scanner-rules again:\n# usb_id = \"0c2e:0b61\"\nsource = \"evdev:/dev/jiayuan-scanner\""
            )
    }

    /// The config text; `demo` adds the five venues of the home centre (DESIGN.md §1).
    public static func text(kioskID: String, demo: Bool) -> String {
        let header = """
            # Jiayuan kiosk settings. Times are local to time_zone; money is in fen (1 yuan = 100 fen).
            # After editing, check the file with `jiayuan doctor` or any command: mistakes are reported with the line.

            kiosk_id = "\(kioskID)"
            centre_id = "jinan-jiayuan"
            time_zone = "Asia/Shanghai"

            [checkin]
            # The identical code again within this many seconds shows the same result and records nothing.
            debounce_seconds = 5
            # A second scan sooner than this after check-in is not a check-out.
            minimum_stay_seconds = 60

            [cards]
            validity_days = 1825

            [printer]
            # "file:DIR" writes each print job as a file (the default, no printer needed); "cups:QUEUE" prints through CUPS.
            target = "file:prints"
            # Receipt paper: "80mm" (48 columns) or "58mm" (32 columns).
            paper = "80mm"
            # cups_server = "localhost:631"   # default: $CUPS_SERVER, else localhost

            # [upload]
            # # The district hub; the token comes from `jiayuan-hub token add KIOSK --centre CENTRE` on the hub.
            # hub = "https://hub.example.org"
            # token = "jyt_…"
            # batch_size = 500          # events per request
            # interval_seconds = 15     # how often to look for new events when everything is sent
            # timeout_seconds = 30      # a request without an answer is given up and retried
            # retry_max_seconds = 300   # the longest wait between retries (doubling from 1 s, with jitter)
            # ca_file = "/etc/jiayuan/hub-ca.pem"   # the district's CA (PEM) when the hub's certificate is its own

            [services]
            # One meal order (送餐/订餐) in fen; free for low-income members.
            meal_fen = 1000

            [server]
            # The resident screen and its API: this machine only (any other host is refused at start-up).
            host = "127.0.0.1"
            port = 8080

            [console]
            # The staff console's own door. On 127.0.0.1 it is plain HTTP for this machine; to reach it from a desk PC
            # set host = "0.0.0.0" (or this machine's LAN address): it is then HTTPS only, with tls_cert/tls_key or
            # the self-signed certificate in keys/ (`jiayuan console cert` prints its fingerprint).
            host = "127.0.0.1"
            port = 8443
            # tls_cert = "/etc/jiayuan/console.pem"
            # tls_key = "/etc/jiayuan/console.key"

            [screen]
            # Speak each result in Mandarin (members flagged blind always hear it).
            voice = true
            demo = \(demo)

            # Barcode scanners: evdev:/dev/input/by-id/…-event-kbd (grabbed exclusively), serial:/dev/ttyACM0,
            # stdin or fifo:PATH. Bind one to a venue with venue = "gym"; unbound scanners let the member choose.
            [[scanner]]
            name = "lobby"
            source = "fifo:scan.fifo"

            # Venues. hours: "HH:MM-HH:MM" (may pass midnight) or "24h". checkout: "optional" (a second scan checks out)
            # or "required". groups: who may enter (empty = everyone): resident, elder, child, veteran, serviceman,
            # military_family. at_closing: "checkout" (automatic) or "alert" (staff are told). receipt: never, ask, always.

            """
        if !demo {
            return header + """
                [[venue]]
                id = "main"
                name = { zh = "活动室", en = "Activity Room" }
                hours = "08:00-20:00"
                capacity = 50
                checkout = "optional"
                max_stay_minutes = 240

                """
        }
        return header + """
            [[venue]]
            id = "gym"
            name = { zh = "我型我塑健身房", en = "Gym" }
            hours = "06:00-21:00"
            capacity = 30
            checkout = "optional"
            max_stay_minutes = 180
            min_age = 14
            groups = []

            [[venue]]
            id = "library"
            name = { zh = "悦读图书厅", en = "Reading Room" }
            hours = "08:30-20:30"
            capacity = 60
            checkout = "optional"
            max_stay_minutes = 240

            [[venue]]
            id = "daycare"
            name = { zh = "老年人日间照料中心", en = "Elderly Day Care" }
            hours = "07:30-18:00"
            capacity = 40
            checkout = "required"
            groups = ["elder"]
            at_closing = "alert"
            receipt = "always"

            [venue.fees]
            half_day_fen = 1000
            full_day_fen = 1800
            lunch_fen = 800
            half_day_minutes = 240
            lunch_time = "12:00"

            [[venue]]
            id = "kids"
            name = { zh = "暑期课业辅导", en = "Summer Homework Club" }
            hours = "08:00-17:30"
            capacity = 25
            checkout = "required"
            guardian_code = true
            groups = ["child"]
            at_closing = "alert"
            receipt = "always"

            [[venue]]
            id = "veterans"
            name = { zh = "绿色双拥港", en = "Green Harbour" }
            hours = "24h"
            capacity = 50
            checkout = "optional"
            max_stay_minutes = 240
            groups = ["veteran", "serviceman", "military_family"]
            legacy_cards = true

            """
    }
}
