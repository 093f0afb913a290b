import Foundation

/// A problem in `jiayuan.toml`, with the line it is on.
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    /// Creates an error.
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message`.
    public var description: String { "\(file):\(line): \(message)" }
}

/// The kiosk's settings, read from `jiayuan.toml`.
public struct KioskConfig: Sendable {
    /// This kiosk's id in the district (also the upload identity).
    public var kioskID: String
    /// The home centre this kiosk belongs to.
    public var centreID: String
    /// The zone local times are shown and counted in (for fixed zones a fixed-offset `TimeZone`, see
    /// `ZoneResolver`).
    public var timeZone: TimeZone
    /// The zone's name as configured (`Asia/Shanghai`), for the screen's clock and for people.
    public var timeZoneName: String
    public var debounceSeconds: Double
    public var minimumStaySeconds: Double
    /// How long a new card is valid.
    public var cardValidityDays: Int
    /// Where slips and receipts go (`file:DIR` or `cups:QUEUE`).
    public var printerTarget: String
    /// Receipt paper: `80mm` (48 columns) or `58mm` (32 columns).
    public var paper: String = "80mm"
    /// The CUPS server for `cups:` targets (`host:port` or a socket path); nil means `CUPS_SERVER` or localhost.
    public var cupsServer: String?
    /// Price of one meal order in fen (free for low-income members).
    public var mealFen: Int = 1000
    /// Barcode scanners feeding the kiosk.
    public var scanners: [ScannerConfig] = []
    /// Speak every result (members flagged `blind` always hear it).
    public var voice: Bool = true
    /// Demo mode: the screen offers a "demo scan" button.
    public var demo: Bool = false
    /// Where `jiayuan serve` listens (loopback unless configured).
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    /// The staff console's own door (`[console]`).
    public var console = ConsoleConfig()
    /// `[upload]`: where and how the attendance log goes to the district hub.
    public var upload = UploadConfig()
    public var venues: [Venue]

    /// Creates a config.
    public init(
        kioskID: String, centreID: String = "centre-1", timeZone: TimeZone, debounceSeconds: Double = 5,
        minimumStaySeconds: Double = 60, cardValidityDays: Int = 1825, printerTarget: String = "file:prints",
        venues: [Venue]
    ) {
        self.kioskID = kioskID
        self.centreID = centreID
        self.timeZone = timeZone
        self.timeZoneName = timeZone.identifier
        self.debounceSeconds = debounceSeconds
        self.minimumStaySeconds = minimumStaySeconds
        self.cardValidityDays = cardValidityDays
        self.printerTarget = printerTarget
        self.venues = venues
    }

    /// The timing rules for the engine.
    public var policy: CheckInPolicy {
        CheckInPolicy(debounceSeconds: debounceSeconds, minimumStaySeconds: minimumStaySeconds, timeZone: timeZone)
    }

    /// The venue with this id.
    public func venue(_ id: String) -> Venue? { venues.first { $0.id == id } }

    /// Parses the text of `jiayuan.toml`; `file` names it in errors; `zones` turns time-zone names into zones
    /// (the kiosk passes one that reads the system's zone files, see `ZoneResolver`).
    public static func parse(_ text: String, file: String, zones: ZoneResolver = .foundation) throws(ConfigError) -> KioskConfig {
        let root: TOMLTable
        do {
            root = try TOML.parse(text)
        } catch let e as TOMLError {
            throw ConfigError(file: file, line: e.line, message: e.message)
        } catch {
            throw ConfigError(file: file, line: 1, message: "\(error)")
        }
        let reader = TableReader(table: root, file: file, path: "")
        try reader.allow([
            "kiosk_id", "centre_id", "time_zone", "checkin", "cards", "printer", "services", "server", "console", "screen", "scanner",
            "venue", "upload",
        ])
        let kioskID = try reader.identifier("kiosk_id") ?? "kiosk-1"
        let centreID = try reader.identifier("centre_id") ?? "centre-1"
        let zoneName = try reader.string("time_zone") ?? "Asia/Shanghai"
        guard let zone = zones.zone(named: zoneName) else {
            throw reader.error("time_zone", "unknown time zone \"\(zoneName)\" (use a name like \"Asia/Shanghai\")")
        }

        let checkin = try reader.table("checkin")
        try checkin?.allow(["debounce_seconds", "minimum_stay_seconds"])
        let debounce = try checkin?.integer("debounce_seconds", in: 0...3600) ?? 5
        let minStay = try checkin?.integer("minimum_stay_seconds", in: 0...86400) ?? 60

        let cards = try reader.table("cards")
        try cards?.allow(["validity_days"])
        let validity = try cards?.integer("validity_days", in: 1...36500) ?? 1825

        let printer = try reader.table("printer")
        try printer?.allow(["target", "paper", "cups_server"])
        let target = try printer?.string("target") ?? "file:prints"
        guard target.hasPrefix("file:") || target.hasPrefix("cups:"), target.count > 5 else {
            throw printer!.error("target", "the printer target must look like \"file:DIR\" or \"cups:QUEUE\", not \"\(target)\"")
        }

        let paper = try printer?.string("paper") ?? "80mm"
        guard paper == "80mm" || paper == "58mm" else {
            throw printer!.error("paper", "\"printer.paper\" must be \"80mm\" or \"58mm\", not \"\(paper)\"")
        }
        let cupsServer = try printer?.string("cups_server")
        let services = try reader.table("services")
        try services?.allow(["meal_fen"])
        let mealFen = try services?.integer("meal_fen", in: 0...1_000_000) ?? 1000

        let server = try reader.table("server")
        try server?.allow(["host", "port"])
        let host = try server?.string("host") ?? "127.0.0.1"
        if let problem = KioskConfig.residentHostProblem(host) { throw server!.error("host", problem) }
        let port = try server?.integer("port", in: 1...65535) ?? 8080
        let consoleTable = try reader.table("console")
        try consoleTable?.allow(["host", "port", "tls_cert", "tls_key"])
        var console = ConsoleConfig()
        if let consoleTable {
            console.host = try consoleTable.string("host") ?? console.host
            guard !console.host.isEmpty, console.host.unicodeScalars.allSatisfy({ $0.isASCII && !$0.properties.isWhitespace }) else {
                throw consoleTable.error("host", "the console's host is an address like \"0.0.0.0\" or \"192.168.1.20\"")
            }
            console.port = try consoleTable.integer("port", in: 1...65535) ?? console.port
            console.tlsCert = try consoleTable.string("tls_cert").flatMap { $0.isEmpty ? nil : $0 }
            console.tlsKey = try consoleTable.string("tls_key").flatMap { $0.isEmpty ? nil : $0 }
            if (console.tlsCert == nil) != (console.tlsKey == nil) {
                throw consoleTable.error(
                    console.tlsCert == nil ? "tls_key" : "tls_cert",
                    "give both tls_cert and tls_key, or neither (then the kiosk's own certificate in keys/ is used)")
            }
        }
        if console.port == port, console.host == host || !KioskConfig.isLoopbackHost(console.host) {
            throw ConfigError(
                file: file, line: consoleTable?.table.line ?? root.line,
                message: "the staff console and the resident screen cannot share port \(port)")
        }
        let upload = try reader.table("upload")
        try upload?.allow([
            "hub", "token", "batch_size", "interval_seconds", "timeout_seconds", "retry_max_seconds", "allow_http", "ca_file",
        ])
        var uploadConfig = UploadConfig()
        if let upload {
            uploadConfig.allowHTTP = try upload.bool("allow_http") ?? false
            if let hub = try upload.string("hub"), !hub.isEmpty {
                guard UploadConfig.isHubURL(hub) else {
                    throw upload.error(
                        "hub", "the hub must be an address like \"https://hub.example.org\" or \"http://127.0.0.1:8090\", not \"\(hub)\"")
                }
                if let problem = UploadConfig.cleartextProblem(hub, allowHTTP: uploadConfig.allowHTTP) {
                    throw upload.error("hub", problem)
                }
                uploadConfig.hub = hub
            }
            uploadConfig.token = try upload.string("token").flatMap { $0.isEmpty ? nil : $0 }
            uploadConfig.batchSize = try upload.integer("batch_size", in: 1...5000) ?? 500
            uploadConfig.intervalSeconds = try upload.integer("interval_seconds", in: 1...86400) ?? 15
            uploadConfig.timeoutSeconds = try upload.integer("timeout_seconds", in: 1...600) ?? 30
            uploadConfig.retryMaxSeconds = try upload.integer("retry_max_seconds", in: 1...3600) ?? 300
            if let caFile = try upload.string("ca_file"), !caFile.isEmpty {
                if let problem = UploadConfig.caFileProblem(caFile, hub: uploadConfig.hub) { throw upload.error("ca_file", problem) }
                uploadConfig.caFile = caFile
            }
        }
        let screen = try reader.table("screen")
        try screen?.allow(["voice", "demo"])
        var scanners: [ScannerConfig] = []
        for s in try reader.tableArray("scanner") {
            try s.allow(["name", "source", "venue", "baud", "usb_id"])
            guard let source = try s.string("source") else {
                throw ConfigError(
                    file: file, line: s.table.line,
                    message: "this [[scanner]] has no source (e.g. source = \"evdev:/dev/input/by-id/usb-…-event-kbd\")")
            }
            let usbID = try s.string("usb_id")
            if let usbID, !ScannerConfig.isUSBID(usbID) {
                throw s.error(
                    "usb_id", "\"\(usbID)\" is not a USB vendor:product id like \"0c2e:0b61\" (four hex digits each; lsusb shows it)")
            }
            var scanner = ScannerConfig(
                name: try s.identifier("name") ?? "scanner\(scanners.count + 1)", source: source, venue: try s.string("venue"),
                baud: try s.integer("baud", in: 1200...921_600) ?? 9600, line: s.table.line)
            scanner.usbID = usbID?.lowercased()
            scanners.append(scanner)
        }

        var venues: [Venue] = []
        for var v in try reader.tableArray("venue") {
            let venue = try v.venue(zones: zones)
            if let first = venues.first(where: { $0.id == venue.id }) {
                throw ConfigError(file: file, line: v.table.line, message: "the venue id \"\(first.id)\" is used twice")
            }
            venues.append(venue)
        }
        if venues.isEmpty {
            throw ConfigError(file: file, line: root.line, message: "no venues are configured: add at least one [[venue]] section")
        }
        var config = KioskConfig(
            kioskID: kioskID, centreID: centreID, timeZone: zone, debounceSeconds: Double(debounce),
            minimumStaySeconds: Double(minStay), cardValidityDays: validity, printerTarget: target, venues: venues)
        config.timeZoneName = zoneName
        config.paper = paper
        config.cupsServer = cupsServer
        config.mealFen = mealFen
        config.host = host
        config.port = port
        config.console = console
        config.upload = uploadConfig
        config.voice = try screen?.bool("voice") ?? true
        config.demo = try screen?.bool("demo") ?? false
        for scanner in scanners {
            if let v = scanner.venue, config.venue(v) == nil {
                throw ConfigError(
                    file: file, line: scanner.line, message: "scanner \"\(scanner.name)\" is bound to the unknown venue \"\(v)\"")
            }
        }
        config.scanners = scanners
        return config
    }
}

/// The staff console's listener (`[console]`): loopback by default; on any other address HTTPS only.
public struct ConsoleConfig: Hashable, Sendable {
    /// The address to listen on (default 127.0.0.1).
    public var host = "127.0.0.1"
    /// The port (default 8443).
    public var port = 8443
    /// A PEM certificate chain (path, relative to the data directory unless absolute); nil: keys/console-cert.pem.
    public var tlsCert: String?
    /// Its PEM private key; nil: keys/console-key.pem.
    public var tlsKey: String?

    /// The defaults.
    public init() {}

    /// Whether the console must speak HTTPS: anywhere but loopback.
    public var requiresTLS: Bool { !KioskConfig.isLoopbackHost(host) }
}

/// One configured barcode scanner.
public struct ScannerConfig: Hashable, Sendable {
    public var name: String
    /// `evdev:/dev/input/by-id/…`, `serial:/dev/ttyACM0`, `stdin` or `fifo:PATH`.
    public var source: String
    /// The venue this scanner checks into, or nil to let the member choose on screen.
    public var venue: String?
    public var baud: Int
    /// The line of its [[scanner]] section.
    public var line: Int
    /// The USB `vendor:product` id (lower-case hex, e.g. `0c2e:0b61`): `install.sh` gives devices with this
    /// id, and only those, to the `jiayuan-scanner` group.
    public var usbID: String?

    /// Whether `text` is a USB id: four hex digits, a colon, four hex digits.
    public static func isUSBID(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { $0.count == 4 && $0.allSatisfy(\.isHexDigit) }
    }

    /// Creates a scanner entry.
    public init(name: String, source: String, venue: String? = nil, baud: Int = 9600, line: Int = 0) {
        self.name = name
        self.source = source
        self.venue = venue
        self.baud = baud
        self.line = line
    }
}

/// Reads typed values out of a TOML table, turning every mistake into a `ConfigError` with a line.
struct TableReader {
    var table: TOMLTable
    var file: String
    var path: String

    func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, line: table.line(of: key) ?? table.line, message: message)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Rejects keys not in `known`, suggesting the closest one for a typo.
    func allow(_ known: [String]) throws(ConfigError) {
        for key in table.keys where !known.contains(key) {
            let guess = known.min { editDistance($0, key) < editDistance($1, key) }
            let hint = guess.flatMap { editDistance($0, key) <= 3 ? " (did you mean \"\($0)\"?)" : nil } ?? ""
            throw error(key, "unknown setting \"\(name(key))\"\(hint)")
        }
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = table[key] else { return nil }
        guard case .string(let s) = v else { throw error(key, "\"\(name(key))\" must be a string in quotes, not \(v.typeName)") }
        return s
    }

    func identifier(_ key: String) throws(ConfigError) -> String? {
        guard let s = try string(key) else { return nil }
        guard KioskConfig.isIdentifier(s) else { throw error(key, "\"\(name(key))\" may only use letters, digits, - and _ (got \"\(s)\")") }
        return s
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard let v = table[key] else { return nil }
        guard case .integer(let n) = v else { throw error(key, "\"\(name(key))\" must be a whole number, not \(v.typeName)") }
        guard range.contains(n) else {
            throw error(key, "\"\(name(key))\" must be between \(range.lowerBound) and \(range.upperBound), not \(n)")
        }
        return n
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = table[key] else { return nil }
        guard case .bool(let b) = v else { throw error(key, "\"\(name(key))\" must be true or false, not \(v.typeName)") }
        return b
    }

    func choice<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(ConfigError) -> E? where E.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let e = E(rawValue: s) else {
            let options = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw error(key, "\"\(name(key))\" must be one of \(options), not \"\(s)\"")
        }
        return e
    }

    func table(_ key: String) throws(ConfigError) -> TableReader? {
        guard let v = table[key] else { return nil }
        guard case .table(let t) = v else { throw error(key, "\"\(name(key))\" must be a section (a table), not \(v.typeName)") }
        return TableReader(table: t, file: file, path: name(key))
    }

    func tableArray(_ key: String) throws(ConfigError) -> [TableReader] {
        guard let v = table[key] else { return [] }
        guard case .array(let items) = v else { throw error(key, "\"\(name(key))\" must be written as [[\(name(key))]] sections") }
        var out: [TableReader] = []
        for item in items {
            guard case .table(let t) = item else { throw error(key, "\"\(name(key))\" must be written as [[\(name(key))]] sections") }
            out.append(TableReader(table: t, file: file, path: name(key)))
        }
        return out
    }

    mutating func venue(zones: ZoneResolver) throws(ConfigError) -> Venue {
        try allow([
            "id", "name", "hours", "capacity", "checkout", "groups", "min_age", "guardian_code", "at_closing",
            "max_stay_minutes", "receipt", "fees", "legacy_cards", "time_zone",
        ])
        guard let id = try identifier("id") else {
            throw ConfigError(file: file, line: table.line, message: "this [[venue]] has no id (add a line like id = \"gym\")")
        }
        path = "venue \(id)"
        var venueName = Bilingual(zh: id, en: id)
        if let n = table["name"] {
            switch n {
            case .string(let s): venueName = Bilingual(zh: s, en: s)
            case .table(let t):
                let r = TableReader(table: t, file: file, path: name("name"))
                try r.allow(["zh", "en"])
                let zh = try r.string("zh") ?? id
                let en = try r.string("en") ?? zh
                venueName = Bilingual(zh: zh, en: en)
            default: throw error("name", "\"\(name("name"))\" must be a string or { zh = \"…\", en = \"…\" }")
            }
        }
        guard let hoursText = try string("hours") else {
            throw error("id", "venue \"\(id)\" has no hours (e.g. hours = \"08:30-20:30\" or \"24h\")")
        }
        guard let hours = OpeningHours(hoursText) else {
            throw error("hours", "\"\(name("hours"))\" must look like \"08:30-20:30\" or \"24h\", not \"\(hoursText)\"")
        }
        guard let capacity = try integer("capacity", in: 1...100_000) else {
            throw error("id", "venue \"\(id)\" has no capacity (e.g. capacity = 30)")
        }
        var groups: Set<MemberGroup> = []
        if let g = table["groups"] {
            guard case .array(let items) = g else {
                throw error("groups", "\"\(name("groups"))\" must be a list like [\"elder\", \"veteran\"]")
            }
            for item in items {
                guard case .string(let s) = item, let group = MemberGroup(rawValue: s) else {
                    let options = MemberGroup.allCases.map(\.rawValue).joined(separator: ", ")
                    throw error("groups", "\"\(name("groups"))\" may only name the groups \(options)")
                }
                groups.insert(group)
            }
        }
        var fees: DaycareFees?
        if let f = try table("fees") {
            try f.allow(["half_day_fen", "full_day_fen", "lunch_fen", "half_day_minutes", "lunch_time"])
            let lunchText = try f.string("lunch_time") ?? "12:00"
            guard let lunch = OpeningHours.minutes(lunchText), lunch < 1440 else {
                throw f.error("lunch_time", "\"\(f.name("lunch_time"))\" must be a time like \"12:00\"")
            }
            fees = DaycareFees(
                halfDayFen: try f.integer("half_day_fen", in: 0...1_000_000) ?? 0,
                fullDayFen: try f.integer("full_day_fen", in: 0...1_000_000) ?? 0,
                lunchFen: try f.integer("lunch_fen", in: 0...1_000_000) ?? 0,
                halfDayMinutes: try f.integer("half_day_minutes", in: 1...1440) ?? 240, lunchMinute: lunch)
        }
        var zone: TimeZone?
        if let z = try string("time_zone") {
            guard let tz = zones.zone(named: z) else { throw error("time_zone", "unknown time zone \"\(z)\"") }
            zone = tz
        }
        let checkout = try choice("checkout", CheckoutMode.self) ?? .optional
        return Venue(
            id: id, name: venueName, hours: hours, capacity: capacity, checkout: checkout, groups: groups,
            minimumAge: try integer("min_age", in: 0...120), guardianCode: try bool("guardian_code") ?? false,
            atClosing: try choice("at_closing", ClosingAction.self) ?? (checkout == .required ? .alert : .checkout),
            maxStayMinutes: try integer("max_stay_minutes", in: 1...10080) ?? (checkout == .optional ? 240 : nil),
            receipt: try choice("receipt", ReceiptPolicy.self) ?? .never, fees: fees,
            acceptsLegacyCards: try bool("legacy_cards") ?? false, timeZone: zone)
    }
}

/// Levenshtein distance, for "did you mean" hints.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for i in 1...a.count {
        var prev = row[0]
        row[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            let cur = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
            prev = cur
        }
    }
    return row[b.count]
}

extension KioskConfig {
    /// A kiosk, centre or venue id: 1 to 64 ASCII letters, digits, `-` and `_`.
    public static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64
            && s.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
            }
    }

    /// Why the resident door cannot listen on `host`, or nil: it serves unauthenticated check-ins and the
    /// screen's event stream, so it answers this machine only.
    public static func residentHostProblem(_ host: String) -> String? {
        guard !isLoopbackHost(host) else { return nil }
        return
            "the resident screen and /api listen on this machine only (127.0.0.1), not \"\(host)\"; put the staff console on the desk network with [console] host instead"
    }

    /// A host name or address that means this machine (127.0.0.0/8, ::1, localhost).
    public static func isLoopbackHost(_ host: String) -> Bool {
        let h = host.lowercased()
        return ["localhost", "::1", "[::1]"].contains(h) || h.hasPrefix("127.")
    }
}

/// `[upload]` of jiayuan.toml.
public struct UploadConfig: Hashable, Sendable {
    /// The hub's base address (`https://…`); nil: uploads are off.
    public var hub: String?
    /// This kiosk's token, issued by `jiayuan-hub token add`.
    public var token: String?
    /// Events per batch.
    public var batchSize = 500
    /// Seconds between looks for new events when the backlog is empty.
    public var intervalSeconds = 15
    /// Seconds before a request without an answer is given up (and retried).
    public var timeoutSeconds = 30
    /// The longest wait between retries (the back-off doubles from 1 s up to this).
    public var retryMaxSeconds = 300

    /// Accept `http://` to a hub on another machine (a closed network only: the token travels in clear text).
    public var allowHTTP = false
    /// A PEM file of the certificate authorities the hub's certificate is checked against, instead of the
    /// system's (a district's own CA, or the TLS front's self-signed certificate). nil: the system's.
    public var caFile: String?

    /// No hub configured.
    public init() {}

    /// Why `hub` may not be used: plain `http://` to another machine sends the kiosk token in clear text.
    public static func cleartextProblem(_ hub: String, allowHTTP: Bool) -> String? {
        guard !allowHTTP, let url = URL(string: hub), url.scheme == "http", let host = url.host else { return nil }
        if KioskConfig.isLoopbackHost(host) { return nil }
        return
            "use https:// for a hub on another machine (over http:// the kiosk token travels in clear text); set allow_http = true under [upload] only on a closed network"
    }

    /// Why `ca_file` cannot be used: it must be an absolute path, and only an `https://` hub has a
    /// certificate to check.
    public static func caFileProblem(_ caFile: String, hub: String?) -> String? {
        guard caFile.hasPrefix("/"), !caFile.contains("\0") else {
            return "ca_file must be the absolute path of a PEM file, like \"/etc/jiayuan/hub-ca.pem\", not \"\(caFile)\""
        }
        if let hub, !hub.lowercased().hasPrefix("https://") {
            return "ca_file is only used for an https:// hub (\(hub) is not checked with a certificate)"
        }
        return nil
    }

    /// `http://` or `https://` followed by a host.
    public static func isHubURL(_ s: String) -> Bool {
        guard let url = URL(string: s), let scheme = url.scheme, scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else {
            return false
        }
        return url.query == nil && url.fragment == nil
    }
}
