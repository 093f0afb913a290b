import Foundation
import Testing

@testable import JiayuanDomain
@testable import JiayuanKiosk

/// The system's compiled zone rules (tzdata is installed by the test command).
private func tzif(_ name: String) throws -> [UInt8] {
    let data = try #require(FileManager.default.contents(atPath: "/usr/share/zoneinfo/" + name), "no zone file \(name)")
    return [UInt8](data)
}

@Suite("time zones without ICU")
struct ZoneRulesTests {
    @Test(
        "zones with one offset since 2000 and no daylight saving are fixed",
        arguments: [
            ("Asia/Shanghai", 28800), ("Asia/Urumqi", 21600), ("Asia/Kolkata", 19800), ("UTC", 0),
            ("Asia/Tokyo", 32400), ("Asia/Kathmandu", 20700),
        ])
    func fixed(zone: String, offset: Int) throws {
        #expect(ZoneRules.fixedOffset(tzif: try tzif(zone)) == offset)
    }

    @Test(
        "zones with daylight saving, or a change of offset since 2000, are not",
        arguments: [
            "Europe/Berlin", "America/New_York", "America/Sao_Paulo", "Asia/Pyongyang", "Europe/Moscow",
            "Asia/Tehran",
        ])
    func notFixed(zone: String) throws {
        #expect(ZoneRules.fixedOffset(tzif: try tzif(zone)) == nil)
    }

    @Test("Shanghai had summer time until 1991: fixed from 2000, not from 1990")
    func since() throws {
        let bytes = try tzif("Asia/Shanghai")
        #expect(ZoneRules.fixedOffset(tzif: bytes, since: Date(timeIntervalSince1970: 631_152_000)) == nil)
        #expect(ZoneRules.fixedOffset(tzif: bytes, since: Date(timeIntervalSince1970: 694_224_000)) == 28800)
    }

    @Test("a fixed zone gives the same local times as Foundation's named zone, hour by hour for 30 years")
    func sameLocalTimes() throws {
        for name in ["Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu"] {
            let fixed = try #require(ZoneResolver.system.zone(named: name))
            let named = try #require(TimeZone(identifier: name))
            #expect(fixed.identifier != named.identifier, "\(name) should have been resolved without ICU")
            var t = ZoneRules.fixedSince.timeIntervalSince1970
            while t < 1_893_456_000 {  // 2030
                let date = Date(timeIntervalSince1970: t)
                #expect(fixed.secondsFromGMT(for: date) == named.secondsFromGMT(for: date), "\(name) at \(date)")
                #expect(!fixed.isDaylightSavingTime(for: date))
                t += 3600 * 7 + 17  // a stride that meets every hour of the day and every season
            }
        }
    }

    @Test("zones that change stay Foundation's zones; unknown names stay unknown")
    func fallBack() throws {
        let berlin = try #require(ZoneResolver.system.zone(named: "Europe/Berlin"))
        #expect(berlin.identifier == "Europe/Berlin")
        #expect(ZoneResolver.system.zone(named: "Mars/Olympus") == nil)
        #expect(ZoneResolver.system.zone(named: "../../etc/passwd") == nil)
        #expect(ZoneResolver.system.zone(named: "localtime") == nil, "the machine's own zone is not a configurable zone")
        #expect(ZoneResolver.foundation.zone(named: "Asia/Shanghai")?.identifier == "Asia/Shanghai")
    }

    @Test("zone names are checked before they are used as paths")
    func names() {
        for good in ["Asia/Shanghai", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+8", "America/Port-au-Prince"] {
            #expect(ZoneRules.isZoneName(good), "\(good)")
        }
        for bad in [
            "", "/etc/passwd", "Asia/../../etc/passwd", "Asia//Shanghai", "Asia/Shanghai/", "Asia/上海", "a b", "localtime",
            "posixrules", "Factory", "right/Asia/Shanghai", "posix/Asia/Shanghai",
        ] {
            #expect(!ZoneRules.isZoneName(bad), "\(bad)")
        }
    }

    @Test("rule strings: offsets west of UTC, no daylight-saving part")
    func footers() {
        #expect(ZoneRules.footerOffset("CST-8") == 28800)
        #expect(ZoneRules.footerOffset("<+0545>-5:45") == 20700)
        #expect(ZoneRules.footerOffset("UTC0") == 0)
        #expect(ZoneRules.footerOffset("EST5") == -18000)
        #expect(ZoneRules.footerOffset("CET-1CEST,M3.5.0,M10.5.0/3") == nil)
        #expect(ZoneRules.footerOffset("") == nil)
        #expect(ZoneRules.footerOffset("<+08") == nil)
        #expect(ZoneRules.footerOffset("CST-99") == nil)
    }

    @Test("damaged rule files are refused, never trusted or crashed on")
    func damaged() throws {
        let bytes = try tzif("Asia/Shanghai")
        for cut in 0..<bytes.count {
            #expect(ZoneRules.fixedOffset(tzif: Array(bytes[..<cut])) == nil, "cut at \(cut)")
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = bytes
            damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            // Any answer but a crash is fine for most bytes; an answer must still be a plausible offset.
            if let offset = ZoneRules.fixedOffset(tzif: damaged) { #expect(abs(offset) <= 26 * 3600) }
        }
        #expect(ZoneRules.fixedOffset(tzif: Array("TZif2".utf8) + [UInt8](repeating: 0xFF, count: 60)) == nil)
    }

    @Test("the kiosk's configuration resolves Asia/Shanghai without ICU, per venue too")
    func config() throws {
        var text = DefaultConfig.text(kioskID: "k", demo: true)
        text = text.replacingOccurrences(of: "[[venue]]\nid = \"gym\"", with: "[[venue]]\nid = \"gym\"\ntime_zone = \"Asia/Kolkata\"")
        let config = try KioskConfig.parse(text, file: "f", zones: .system)
        #expect(config.timeZone.secondsFromGMT() == 28800 && config.timeZone.identifier != "Asia/Shanghai")
        #expect(config.timeZoneName == "Asia/Shanghai", "the configured name is kept for the screen and doctor")
        #expect(config.venue("gym")?.timeZone?.secondsFromGMT() == 19800)
    }
}
