import Foundation
import JiayuanDomain

/// The number of lines of `text` as the parsers count them (line feeds + 1).
func lineCount(_ text: String) -> Int { text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) } }

/// The TOML reader (`TOML.parse`).
///
/// Invariants: every failure is a `TOMLError` naming a line of the document; a document read successfully, written
/// back out as TOML (quoted keys, inline tables and lists) and read again gives an equal table.
enum TOMLFuzz {
    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let table: TOMLTable
        do {
            table = try TOML.parse(text)
        } catch let error as TOMLError {
            invariant((1...lineCount(text)).contains(error.line), "error on line \(error.line) of \(lineCount(text))")
            return
        } catch {
            invariant(false, "untyped error \(error)")
            return
        }
        guard depth(.table(table)) < 90 else { return }  // inline, the copy would nest deeper than the reader allows
        let copy = write(table)
        do {
            let again = try TOML.parse(copy)
            invariant(same(.table(again), .table(table)), "round trip changed the table: \(copy.debugDescription)")
        } catch {
            invariant(false, "the written copy does not read: \(error) in \(copy.debugDescription)")
        }
    }

    static func depth(_ value: TOMLValue) -> Int {
        switch value {
        case .array(let items): 1 + (items.map(depth).max() ?? 0)
        case .table(let t): 1 + (t.keys.compactMap { t[$0] }.map(depth).max() ?? 0)
        default: 0
        }
    }

    /// Equality that takes NaN as equal to NaN.
    static func same(_ a: TOMLValue, _ b: TOMLValue) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(same)
        case (.table(let x), .table(let y)):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { k in same(x[k]!, y[k]!) }
        default: return a == b
        }
    }

    static func write(_ table: TOMLTable) -> String {
        table.keys.map { "\(quoted($0)) = \(write(table[$0]!))\n" }.joined()
    }

    static func write(_ value: TOMLValue) -> String {
        switch value {
        case .string(let s): return quoted(s)
        case .integer(let i): return String(i)
        case .float(let d): return d.isNaN ? "nan" : d.isInfinite ? (d < 0 ? "-inf" : "inf") : "\(d)"
        case .bool(let b): return b ? "true" : "false"
        case .array(let items): return "[" + items.map(write).joined(separator: ", ") + "]"
        case .table(let t): return "{" + t.keys.map { "\(quoted($0)) = \(write(t[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20 || u.value == 0x7F: out += String(format: "\\u%04X", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// The kiosk configuration (`KioskConfig.parse`, on top of the TOML reader).
///
/// Invariants: every failure is a `ConfigError` for the file given, on a line of the document; a configuration read
/// successfully keeps the promises the kiosk relies on (the resident screen only on a loopback address, the console on
/// a port of its own, TLS certificate and key together, at least one venue, unique venue ids, ids that are
/// identifiers, ports in 1–65535, a known paper, a printer target, scanners bound only to known venues, no cleartext
/// hub unless allowed).
enum ConfigFuzz {
    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        let config: KioskConfig
        do throws(ConfigError) {
            config = try KioskConfig.parse(text, file: "fuzz.toml")
        } catch {
            invariant(error.file == "fuzz.toml", "error for file \(error.file)")
            invariant((1...lineCount(text)).contains(error.line), "error on line \(error.line) of \(lineCount(text))")
            return
        }
        invariant((try? TOML.parse(text)) != nil, "a config that is not TOML was accepted")
        invariant(!config.venues.isEmpty, "no venues")
        invariant(Set(config.venues.map(\.id)).count == config.venues.count, "duplicate venue ids")
        invariant(
            KioskConfig.isIdentifier(config.kioskID) && KioskConfig.isIdentifier(config.centreID),
            "ids \(config.kioskID) \(config.centreID)")
        invariant((1...65535).contains(config.port), "port \(config.port)")
        invariant(KioskConfig.residentHostProblem(config.host) == nil, "the resident screen listens on \(config.host)")
        invariant((1...65535).contains(config.console.port), "console port \(config.console.port)")
        invariant(
            config.console.port != config.port || (config.console.host != config.host && KioskConfig.isLoopbackHost(config.console.host)),
            "console and resident screen share port \(config.port)")
        invariant((config.console.tlsCert == nil) == (config.console.tlsKey == nil), "a TLS certificate without its key, or the reverse")
        invariant(["80mm", "58mm"].contains(config.paper), "paper \(config.paper)")
        invariant(config.printerTarget.hasPrefix("file:") || config.printerTarget.hasPrefix("cups:"), "printer \(config.printerTarget)")
        for s in config.scanners {
            invariant(s.venue.map { config.venue($0) != nil } ?? true, "scanner \(s.name) bound to an unknown venue")
        }
        if let hub = config.upload.hub {
            invariant(UploadConfig.isHubURL(hub), "hub \(hub)")
            invariant(UploadConfig.cleartextProblem(hub, allowHTTP: config.upload.allowHTTP) == nil, "cleartext hub \(hub) accepted")
        }
    }
}

/// The member CSV import's reading step (`MemberCSV.parse`).
///
/// Invariants: every failure is a `MemberCSVError` naming a line of the file (or none, for whole-file problems);
/// the rows read keep the import's rules (a name, a birth year in 1900–2100, a guardian for every child); the rows
/// written back out as CSV (every field quoted) read again as the same rows.
enum CSVFuzz {
    static func run(_ data: [UInt8]) {
        let rows: [MemberCSV.Member]
        do throws(MemberCSVError) {
            rows = try MemberCSV.parse(Data(data))
        } catch {
            let text = String(decoding: data, as: UTF8.self)
            if let line = error.line {
                invariant((1...lineCount(text)).contains(line), "error on line \(line) of \(lineCount(text))")
            } else {
                invariant([.notUTF8, .empty, .noMembers].contains(error.problem), "\(error.problem) without a line")
            }
            return
        }
        for row in rows {
            invariant(!row.name.isEmpty, "empty name")
            invariant(row.born.map { (1900...2100).contains($0) } ?? true, "born \(row.born!)")
            invariant(row.group != .child || !row.guardians.isEmpty || !row.guardianPhones.isEmpty, "child without guardian")
        }
        let copy = write(rows)
        do throws(MemberCSVError) {
            let again = try MemberCSV.parse(Data(copy.utf8))
            invariant(again.count == rows.count, "round trip has \(again.count) rows, not \(rows.count)")
            for (a, b) in zip(again, rows) {
                var a = a
                a.line = b.line
                invariant(a == b, "round trip changed \(b) into \(a)")
            }
        } catch {
            invariant(false, "the written copy does not read: \(error) in \(copy.debugDescription)")
        }
    }

    static func write(_ rows: [MemberCSV.Member]) -> String {
        func q(_ s: String) -> String {
            var out = String.UnicodeScalarView()
            for u in s.unicodeScalars {
                if u == "\"" { out.append(u) }
                out.append(u)
            }
            return "\"" + String(out) + "\""
        }
        var out = "name,group,born,phone,flags,guardians\n"
        for r in rows {
            let fields = [
                r.name, r.group.rawValue, r.born.map(String.init) ?? "", r.phone ?? "",
                r.flags.map(\.rawValue).sorted().joined(separator: ";"),
                (r.guardians.map(\.description) + r.guardianPhones).joined(separator: ";"),
            ]
            out += fields.map(q).joined(separator: ",") + "\r\n"
        }
        return out
    }
}
