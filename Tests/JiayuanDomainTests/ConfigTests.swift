import Foundation
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain
@testable import JiayuanKiosk

@Suite("jiayuan.toml")
struct ConfigTests {
    @Test("the demo config has the five venues of DESIGN.md §1")
    func demo() {
        let c = Fixtures.config
        #expect(c.venues.map(\.id) == ["gym", "library", "daycare", "kids", "veterans"])
        #expect(c.venue("gym")?.capacity == 30)
        #expect(c.venue("gym")?.minimumAge == 14)
        #expect(c.venue("daycare")?.checkout == .required)
        #expect(c.venue("daycare")?.fees?.fullDayFen == 1800)
        #expect(c.venue("kids")?.guardianCode == true)
        #expect(c.venue("veterans")?.hours == .always)
        #expect(c.venue("veterans")?.groups == [.veteran, .serviceman, .militaryFamily])
        #expect(c.timeZone.identifier == "Asia/Shanghai")
        #expect(c.debounceSeconds == 5 && c.minimumStaySeconds == 60)
        #expect(c.venue("library")?.name == Bilingual(zh: "悦读图书厅", en: "Reading Room"))
    }

    @Test("[upload]: defaults, and plain http:// only to this machine unless allowed")
    func upload() throws {
        let base = DefaultConfig.text(kioskID: "k", demo: true)
        let none = try KioskConfig.parse(base, file: "f").upload
        #expect(none.hub == nil && none.batchSize == 500 && none.retryMaxSeconds == 300)
        let local = try KioskConfig.parse(
            base + "\n[upload]\nhub = \"http://127.0.0.1:8090\"\ntoken = \"t\"\nbatch_size = 100\n", file: "f"
        ).upload
        #expect(local.hub == "http://127.0.0.1:8090" && local.batchSize == 100)
        #expect(throws: ConfigError.self) {
            try KioskConfig.parse(base + "\n[upload]\nhub = \"http://hub.example.org\"\n", file: "f")
        }
        let allowed = try KioskConfig.parse(base + "\n[upload]\nhub = \"http://10.0.0.5:8090\"\nallow_http = true\n", file: "f").upload
        #expect(allowed.hub == "http://10.0.0.5:8090")
        #expect(
            try KioskConfig.parse(base + "\n[upload]\nhub = \"https://hub.example.org\"\n", file: "f").upload.hub
                == "https://hub.example.org")
        #expect(throws: ConfigError.self) { try KioskConfig.parse(base + "\n[upload]\nhub = \"ftp://x\"\n", file: "f") }
    }

    @Test("[upload] ca_file: an absolute path, only for an https:// hub; otherwise a config error naming ca_file")
    func uploadCAFile() throws {
        let base = DefaultConfig.text(kioskID: "k", demo: true) + "\n[upload]\n"
        let https = "hub = \"https://hub.example.org\"\n"
        #expect(try KioskConfig.parse(base + https, file: "f").upload.caFile == nil)
        #expect(
            try KioskConfig.parse(base + https + "ca_file = \"/etc/jiayuan/hub-ca.pem\"\n", file: "f").upload.caFile
                == "/etc/jiayuan/hub-ca.pem")
        for bad in [https + "ca_file = \"hub-ca.pem\"\n", "hub = \"http://127.0.0.1:8090\"\nca_file = \"/etc/ca.pem\"\n"] {
            let error = #expect(throws: ConfigError.self) { try KioskConfig.parse(base + bad, file: "f") }
            #expect(error?.message.contains("ca_file") == true, "\(error?.message ?? "")")
        }
    }

    @Test("[[scanner]] usb_id: a vendor:product id, read lower-case; anything else is a config error with its line")
    func scannerUSBID() throws {
        let base = DefaultConfig.text(kioskID: "k", demo: true)
        let named = base.replacingOccurrences(
            of: "source = \"fifo:scan.fifo\"", with: "usb_id = \"0C2E:0b61\"\nsource = \"fifo:scan.fifo\"")
        #expect(named != base)
        #expect(try KioskConfig.parse(named, file: "f").scanners.first?.usbID == "0c2e:0b61")
        #expect(try KioskConfig.parse(base, file: "f").scanners.first?.usbID == nil)
        for bad in ["0c2e0b61", "0c2e:0b6", "zz2e:0b61", "0c2e:0b61:1", ""] {
            let text = base.replacingOccurrences(
                of: "source = \"fifo:scan.fifo\"", with: "usb_id = \"\(bad)\"\nsource = \"fifo:scan.fifo\"")
            let error = #expect(throws: ConfigError.self) { try KioskConfig.parse(text, file: "f") }
            #expect(error?.message.contains("vendor:product") == true, "\(bad): \(String(describing: error))")
        }
    }

    static let broken: [(String, String, Int, String)] = [
        ("capacity = 30", "capacity = \"thirty\"", 0, "capacity"),
        ("capacity = 30", "capcity = 30", 0, "did you mean \"capacity\""),
        ("hours = \"06:00-21:00\"", "hours = \"6am to 9pm\"", 0, "hours"),
        ("time_zone = \"Asia/Shanghai\"", "time_zone = \"Mars/Olympus\"", 0, "unknown time zone"),
        ("groups = [\"elder\"]", "groups = [\"elders\"]", 0, "groups"),
        ("checkout = \"required\"", "checkout = \"maybe\"", 0, "\"optional\", \"required\""),
        ("debounce_seconds = 5", "debounce_seconds = -1", 0, "between 0 and 3600"),
        ("capacity = 30", "capacity = 30 30", 0, ""),
        ("[checkin]", "[checkin", 0, ""),
    ]

    @Test("a broken config is refused with the file, the line and what is wrong", arguments: 0..<broken.count)
    func refused(index: Int) throws {
        let (find, replace, _, words) = Self.broken[index]
        let text = DefaultConfig.text(kioskID: "k", demo: true)
        let lines = text.components(separatedBy: "\n")
        let lineIndex = try #require(lines.firstIndex { $0.trimmingWhitespace() == find })
        let edited = text.replacingOccurrences(of: find, with: replace, options: [], range: text.range(of: find))
        do {
            _ = try KioskConfig.parse(edited, file: "/data/jiayuan.toml")
            Issue.record("accepted a broken config: \(replace)")
        } catch {
            #expect(error.file == "/data/jiayuan.toml")
            #expect(error.line == lineIndex + 1, "\(error)")
            #expect(error.description.hasPrefix("/data/jiayuan.toml:\(lineIndex + 1): "))
            if !words.isEmpty { #expect(error.message.contains(words), "\(error.message)") }
        }
    }

    @Test("duplicate venue ids and a config with no venues are refused")
    func structure() {
        #expect(throws: ConfigError.self) { try KioskConfig.parse("kiosk_id = \"a\"\n", file: "f") }
        let dup = "[[venue]]\nid = \"a\"\nhours = \"24h\"\ncapacity = 1\n[[venue]]\nid = \"a\"\nhours = \"24h\"\ncapacity = 1\n"
        do {
            _ = try KioskConfig.parse(dup, file: "f")
            Issue.record("accepted duplicate venue ids")
        } catch {
            #expect(error.line == 5)
            #expect(error.message.contains("used twice"))
        }
    }
}
