import Foundation
import JiayuanDomain
import JiayuanStore

/// `jiayuan member import FILE.csv`: all rows or none.
///
/// The file is UTF-8 (a byte-order mark is fine) with a header row naming the columns
/// `name,group,born,phone,flags,guardians` (only name and group are required, in any order).
/// `flags` and `guardians` hold several values separated by `;`. A guardian is a member id (`M000123`)
/// or the phone number of a member registered earlier or in an earlier row of the same file.
public enum MemberImport {
    /// One data row with the line it starts on.
    struct Row {
        var line: Int
        var fields: [String]
    }

    /// Parses and registers the members of a CSV file; errors name the file and line.
    public static func run(data: Data, file: String, into db: AppDatabase, at now: Date) throws -> [Member] {
        guard var text = String(validating: data, as: UTF8.self) else {
            throw KioskError("\(file): the file is not UTF-8 text (save it as \"CSV UTF-8\")")
        }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let rows = try parseCSV(text, file: file)
        guard let header = rows.first else { throw KioskError("\(file): the file is empty") }
        let columns = header.fields.map { $0.trimmingWhitespace().lowercased() }
        let known = ["name", "group", "born", "phone", "flags", "guardians"]
        for c in columns where !known.contains(c) {
            throw KioskError("\(file):\(header.line): unknown column \"\(c)\" (columns are \(known.joined(separator: ", ")))")
        }
        guard columns.contains("name"), columns.contains("group") else {
            throw KioskError("\(file):\(header.line): the header row must name at least the columns name and group")
        }
        let data = Array(rows.dropFirst()).filter { !$0.fields.allSatisfy { $0.trimmingWhitespace().isEmpty } }
        guard !data.isEmpty else { throw KioskError("\(file): there are no members after the header row") }

        // Check every row before touching the database.
        var batch: [NewMember] = []
        var phoneRefs: [[String]] = []
        for row in data {
            func value(_ c: String) -> String {
                guard let i = columns.firstIndex(of: c), i < row.fields.count else { return "" }
                return row.fields[i].trimmingWhitespace()
            }
            func fail(_ message: String) -> KioskError { KioskError("\(file):\(row.line): \(message)") }
            guard row.fields.count == columns.count else {
                throw fail("this row has \(row.fields.count) fields but the header has \(columns.count)")
            }
            let name = value("name")
            guard !name.isEmpty else { throw fail("the name is empty") }
            guard let group = MemberGroup(rawValue: value("group").lowercased()) else {
                throw fail("unknown group \"\(value("group"))\" (use one of \(MemberGroup.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var born: Int?
            if !value("born").isEmpty {
                guard let b = Int(value("born")), (1900...2100).contains(b) else { throw fail("the birth year \"\(value("born"))\" is not a year") }
                born = b
            }
            var flags: Set<MemberFlag> = []
            for f in value("flags").split(separator: ";").map({ String($0).trimmingWhitespace() }) where !f.isEmpty {
                guard let flag = MemberFlag(rawValue: f.lowercased()) else {
                    throw fail("unknown flag \"\(f)\" (use \(MemberFlag.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                flags.insert(flag)
            }
            var guardians: [MemberID] = []
            var phones: [String] = []
            for g in value("guardians").split(separator: ";").map({ String($0).trimmingWhitespace() }) where !g.isEmpty {
                if let id = MemberID(g) { guardians.append(id) } else if g.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }) {
                    phones.append(g)
                } else {
                    throw fail("the guardian \"\(g)\" is neither a member id (M000123) nor a phone number")
                }
            }
            if group == .child, guardians.isEmpty, phones.isEmpty { throw fail("a child needs at least one guardian") }
            let phone = value("phone")
            batch.append(NewMember(name: name, group: group, born: born, phone: phone.isEmpty ? nil : phone, flags: flags, guardians: guardians))
            phoneRefs.append(phones)
        }

        // One transaction: a problem in any row leaves the register as it was.
        do {
            return try db.addMembers(batch, at: now) { index, new, lookup in
                var resolved = new
                for phone in phoneRefs[index] {
                    guard let id = try lookup(phone) else {
                        throw KioskError("\(file):\(data[index].line): no member has the guardian phone \(phone)")
                    }
                    resolved.guardians.append(id)
                }
                return resolved
            }
        } catch let error as MemberBatchError {
            throw KioskError("\(file):\(data[error.index].line): \(error.message); nothing was imported")
        }
    }

    /// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
    static func parseCSV(_ text: String, file: String) throws -> [Row] {
        var rows: [Row] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var rowLine = 1
        var inQuotes = false
        var quoteLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        func advance() -> Unicode.Scalar? {
            let c = pending
            pending = iterator.next()
            return c
        }
        while let c = advance() {
            if inQuotes {
                if c == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        _ = advance()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"":
                guard field.isEmpty else { throw KioskError("\(file):\(line): a quote \" in the middle of a field (put the whole field in quotes and double the quote)") }
                inQuotes = true
                quoteLine = line
            case ",":
                fields.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                fields.append(field)
                rows.append(Row(line: rowLine, fields: fields))
                fields = []
                field = ""
                line += 1
                rowLine = line
            default:
                if c.properties.generalCategory == .control && c != "\t" {
                    throw KioskError("\(file):\(line): the file contains a control character (U+\(String(c.value, radix: 16, uppercase: true)))")
                }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw KioskError("\(file):\(quoteLine): a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append(Row(line: rowLine, fields: fields))
        }
        return rows
    }
}
