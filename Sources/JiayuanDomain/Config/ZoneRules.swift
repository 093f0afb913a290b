import Foundation

/// Time zones for the kiosk's configuration.
///
/// A named zone such as `Asia/Shanghai` is a Foundation `TimeZone` backed by ICU, and the first use of ICU
/// maps over a megabyte of its tables and code into the kiosk for good. Most zones a home centre can be in
/// (all of China since 1991) have kept one offset and no daylight saving for decades, so for those the
/// kiosk uses a fixed-offset `TimeZone` instead: the same local times for every instant it will ever
/// record or report, without ICU. Zones that still change (daylight saving, or a change of offset since
/// `ZoneRules.fixedSince`) stay ICU zones.
public struct ZoneResolver: Sendable {
    /// The zone's compiled rules (a TZif file, RFC 8536) by name, or nil when they cannot be read.
    public var rules: @Sendable (String) -> [UInt8]?

    public init(rules: @escaping @Sendable (String) -> [UInt8]?) { self.rules = rules }

    /// Foundation's zones only (no zone files are read).
    public static let foundation = ZoneResolver(rules: { _ in nil })

    /// The zone of this name, or nil when there is no such zone.
    public func zone(named name: String) -> TimeZone? {
        if ZoneRules.isZoneName(name), let tzif = rules(name), let offset = ZoneRules.fixedOffset(tzif: tzif),
            let zone = TimeZone(secondsFromGMT: offset)
        {
            return zone
        }
        return TimeZone(identifier: name)
    }
}

/// Reading compiled zone rules (TZif, RFC 8536).
public enum ZoneRules {
    /// Offsets before this instant (2000-01-01T00:00:00Z) do not matter to a kiosk.
    public static let fixedSince = Date(timeIntervalSince1970: 946_684_800)

    /// Whether `name` can be a zone name (`Area/Location`) to look up as a path under the zone directory:
    /// letters, digits, `/ _ + -`, no `..`, not absolute, and none of the directory's entries that are not
    /// zones (`localtime` is the machine's own zone, `right/` and `posix/` are copies, `Factory` is a stub).
    public static func isZoneName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64, !name.hasPrefix("/"), !name.hasSuffix("/"),
            !name.contains(".."), !name.contains("//"),
            !["localtime", "posixrules", "Factory"].contains(name), !name.hasPrefix("right/"), !name.hasPrefix("posix/")
        else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2F || c == 0x5F
                || c == 0x2B || c == 0x2D
        }
    }

    /// The zone's one offset from UTC in seconds when, from `since` on and in its rule for the future, it has
    /// a single offset and no daylight saving; nil otherwise, and for damaged or unknown data.
    public static func fixedOffset(tzif bytes: [UInt8], since: Date = fixedSince) -> Int? {
        guard let parsed = parse(bytes) else { return nil }
        let from = Int64(since.timeIntervalSince1970.rounded(.down))
        // The type in force at `from` (before the first transition: type 0), and every type after it.
        var used: [Int] = [0]
        for (time, type) in zip(parsed.times, parsed.types) {
            if time <= from { used = [type] } else { used.append(type) }
        }
        // `parse` keeps only type indices below the type count, which is at least 1.
        let offset = parsed.offsets[used[0]]
        guard used.allSatisfy({ parsed.offsets[$0] == offset && !parsed.isDST[$0] }) else { return nil }
        // The footer's rule for times after the last transition must be the same offset without DST.
        guard let footer = parsed.footer, footerOffset(footer) == offset else { return nil }
        return offset
    }

    struct Parsed {
        var times: [Int64] = []
        var types: [Int] = []
        var offsets: [Int] = []
        var isDST: [Bool] = []
        var footer: String?
    }

    /// Reads the version 2+ data block (64-bit times) and the footer; nil for anything malformed.
    static func parse(_ b: [UInt8]) -> Parsed? {
        var reader = ByteReader(bytes: b)
        guard let first = reader.header(), first.version >= 2 else { return nil }
        // Skip the version 1 block.
        guard reader.skip(first.blockSize(timeSize: 4)), let h = reader.header(), h.typecnt >= 1 else { return nil }
        var p = Parsed()
        for _ in 0..<h.timecnt {
            guard let t = reader.int64() else { return nil }
            p.times.append(t)
        }
        for _ in 0..<h.timecnt {
            guard let i = reader.byte(), Int(i) < h.typecnt else { return nil }
            p.types.append(Int(i))
        }
        for _ in 0..<h.typecnt {
            guard let off = reader.int32(), let dst = reader.byte(), reader.skip(1) else { return nil }
            p.offsets.append(Int(off))
            p.isDST.append(dst != 0)
        }
        guard reader.skip(h.charcnt + h.leapcnt * 12 + h.isstdcnt + h.isutcnt) else { return nil }
        // Footer: "\n" TZ-string "\n".
        guard reader.byte() == 0x0A, let end = reader.rest.firstIndex(of: 0x0A) else { return nil }
        p.footer = String(decoding: reader.rest[..<end], as: UTF8.self)
        return p
    }

    /// The offset (seconds east of UTC) of a POSIX TZ string that has no daylight-saving part
    /// (`CST-8`, `<+0530>-5:30`, `UTC0`); nil when it has one or is malformed.
    static func footerOffset(_ tz: String) -> Int? {
        var s = Substring(tz)
        // The zone's abbreviation: <...> or three or more letters.
        if s.first == "<" {
            guard let close = s.firstIndex(of: ">") else { return nil }
            s = s[s.index(after: close)...]
        } else {
            let letters = s.prefix(while: { $0.isASCII && $0.isLetter })
            guard letters.count >= 3 else { return nil }
            s = s.dropFirst(letters.count)
        }
        var sign = 1
        if s.first == "+" || s.first == "-" {
            if s.first == "-" { sign = -1 }
            s = s.dropFirst()
        }
        // hh[:mm[:ss]]
        let parts = s.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var seconds = 0
        for (i, part) in parts.enumerated() {
            guard (1...2).contains(part.count), let v = Int(part), v >= 0, i == 0 ? v <= 24 : v < 60 else { return nil }
            seconds += v * [3600, 60, 1][i]
        }
        // POSIX offsets are west of UTC.
        return -sign * seconds
    }

    struct Header {
        var version: Int
        var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int

        func blockSize(timeSize: Int) -> Int {
            timecnt * timeSize + timecnt + typecnt * 6 + charcnt + leapcnt * (timeSize + 4) + isstdcnt + isutcnt
        }
    }

    struct ByteReader {
        let bytes: [UInt8]
        var at = 0

        var rest: ArraySlice<UInt8> { bytes[at...] }

        mutating func skip(_ n: Int) -> Bool {
            guard n >= 0, n <= bytes.count - at else { return false }
            at += n
            return true
        }

        mutating func byte() -> UInt8? {
            guard at < bytes.count else { return nil }
            defer { at += 1 }
            return bytes[at]
        }

        mutating func uint32() -> UInt32? {
            guard bytes.count - at >= 4 else { return nil }
            defer { at += 4 }
            return bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func int32() -> Int32? { uint32().map { Int32(bitPattern: $0) } }

        mutating func int64() -> Int64? {
            guard let hi = uint32(), let lo = uint32() else { return nil }
            return Int64(bitPattern: UInt64(hi) << 32 | UInt64(lo))
        }

        mutating func header() -> Header? {
            guard bytes.count - at >= 44, bytes[at..<at + 4].elementsEqual("TZif".utf8) else { return nil }
            let v = bytes[at + 4]
            let version = v == 0 ? 1 : Int(v) - 0x30
            guard skip(20) else { return nil }
            var counts: [Int] = []
            for _ in 0..<6 {
                // Real zones have a few thousand entries at most; larger counts are damage.
                guard let c = uint32(), c <= 100_000 else { return nil }
                counts.append(Int(c))
            }
            return Header(
                version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2], timecnt: counts[3],
                typecnt: counts[4], charcnt: counts[5])
        }
    }
}
