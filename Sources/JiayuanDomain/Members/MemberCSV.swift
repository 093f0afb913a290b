import Foundation

/// Why a member CSV file (`jiayuan member import`) cannot be imported, found before any database work.
public struct MemberCSVError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Problem: Equatable, Sendable {
        /// The bytes are not UTF-8 text.
        case notUTF8
        /// No header row.
        case empty
        /// The header names a column that is not one of ``MemberCSV/columns``.
        case unknownColumn(String)
        /// The header lacks `name` or `group`.
        case missingColumns
        /// Only a header (and blank rows).
        case noMembers
        /// A quote inside an unquoted field.
        case strayQuote
        /// A control character (other than Tab) outside quotes; the code point.
        case controlCharacter(UInt32)
        /// A quoted field runs to the end of the file.
        case unclosedQuote
        /// A row's field count differs from the header's.
        case fieldCount(row: Int, header: Int)
        /// The name is empty.
        case emptyName
        /// The group is not one of ``MemberGroup``.
        case unknownGroup(String)
        /// The birth year is not a number in 1900…2100.
        case badBirthYear(String)
        /// A flag is not one of ``MemberFlag``.
        case unknownFlag(String)
        /// A guardian is neither a member id nor a phone number.
        case badGuardian(String)
        /// A child row has no guardian.
        case childWithoutGuardian
    }

    /// The 1-based line of the problem; nil for problems of the whole file.
    public var line: Int?
    /// What is wrong.
    public var problem: Problem

    /// Creates an error.
    public init(line: Int?, _ problem: Problem) {
        self.line = line
        self.problem = problem
    }

    /// The problem in plain English, without file or line.
    public var message: String {
        switch problem {
        case .notUTF8: "the file is not UTF-8 text (save it as \"CSV UTF-8\")"
        case .empty: "the file is empty"
        case .unknownColumn(let c): "unknown column \"\(c)\" (columns are \(MemberCSV.columns.joined(separator: ", ")))"
        case .missingColumns: "the header row must name at least the columns name and group"
        case .noMembers: "there are no members after the header row"
        case .strayQuote: "a quote \" in the middle of a field (put the whole field in quotes and double the quote)"
        case .controlCharacter(let v): "the file contains a control character (U+\(String(v, radix: 16, uppercase: true)))"
        case .unclosedQuote: "a quoted field is never closed"
        case .fieldCount(let row, let header): "this row has \(row) fields but the header has \(header)"
        case .emptyName: "the name is empty"
        case .unknownGroup(let g):
            "unknown group \"\(g)\" (use one of \(MemberGroup.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .badBirthYear(let b): "the birth year \"\(b)\" is not a year"
        case .unknownFlag(let f): "unknown flag \"\(f)\" (use \(MemberFlag.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .badGuardian(let g): "the guardian \"\(g)\" is neither a member id (M000123) nor a phone number"
        case .childWithoutGuardian: "a child needs at least one guardian"
        }
    }

    /// `line N: message`, or the message alone.
    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}

/// The pure reading step of `jiayuan member import`: CSV bytes to checked member rows, no database.
///
/// The file is UTF-8 (a byte-order mark is fine) with a header row naming the columns
/// `name,group,born,phone,flags,guardians` (only name and group are required, in any order).
/// `flags` and `guardians` hold several values separated by `;`. A guardian is a member id (`M000123`)
/// or a phone number, resolved later against the register.
public enum MemberCSV {
    /// The known column names.
    public static let columns = ["name", "group", "born", "phone", "flags", "guardians"]

    /// One checked data row.
    public struct Member: Equatable, Sendable {
        /// The line the row starts on.
        public var line: Int
        public var name: String
        public var group: MemberGroup
        public var born: Int?
        public var phone: String?
        public var flags: Set<MemberFlag>
        /// Guardians given by member id.
        public var guardians: [MemberID]
        /// Guardians given by phone number, still to be looked up.
        public var guardianPhones: [String]
    }

    /// One raw CSV record with the line it starts on.
    public struct Record: Equatable, Sendable {
        public var line: Int
        public var fields: [String]
    }

    /// Reads and checks a whole file: every data row, or the first problem.
    public static func parse(_ data: Data) throws(MemberCSVError) -> [Member] {
        guard var text = String(validating: data, as: UTF8.self) else { throw MemberCSVError(line: nil, .notUTF8) }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        let rows = try records(text)
        guard let header = rows.first else { throw MemberCSVError(line: nil, .empty) }
        let columns = header.fields.map { $0.trimmingWhitespace().lowercased() }
        for c in columns where !Self.columns.contains(c) { throw MemberCSVError(line: header.line, .unknownColumn(c)) }
        guard columns.contains("name"), columns.contains("group") else {
            throw MemberCSVError(line: header.line, .missingColumns)
        }
        let data = rows.dropFirst().filter { !$0.fields.allSatisfy { $0.trimmingWhitespace().isEmpty } }
        guard !data.isEmpty else { throw MemberCSVError(line: nil, .noMembers) }
        var out: [Member] = []
        for row in data {
            out.append(try member(row, columns: columns))
        }
        return out
    }

    private static func member(_ row: Record, columns: [String]) throws(MemberCSVError) -> Member {
        func value(_ c: String) -> String {
            guard let i = columns.firstIndex(of: c), i < row.fields.count else { return "" }
            return row.fields[i].trimmingWhitespace()
        }
        func fail(_ problem: MemberCSVError.Problem) -> MemberCSVError { MemberCSVError(line: row.line, problem) }
        guard row.fields.count == columns.count else {
            throw fail(.fieldCount(row: row.fields.count, header: columns.count))
        }
        let name = value("name")
        guard !name.isEmpty else { throw fail(.emptyName) }
        guard let group = MemberGroup(rawValue: value("group").lowercased()) else { throw fail(.unknownGroup(value("group"))) }
        var born: Int?
        if !value("born").isEmpty {
            guard let b = Int(value("born")), (1900...2100).contains(b) else { throw fail(.badBirthYear(value("born"))) }
            born = b
        }
        var flags: Set<MemberFlag> = []
        for f in value("flags").split(separator: ";").map({ String($0).trimmingWhitespace() }) where !f.isEmpty {
            guard let flag = MemberFlag(rawValue: f.lowercased()) else { throw fail(.unknownFlag(f)) }
            flags.insert(flag)
        }
        var guardians: [MemberID] = []
        var phones: [String] = []
        for g in value("guardians").split(separator: ";").map({ String($0).trimmingWhitespace() }) where !g.isEmpty {
            if let id = MemberID(g) {
                guardians.append(id)
            } else if g.allSatisfy({ $0.isNumber || $0 == "-" || $0 == "+" }) {
                phones.append(g)
            } else {
                throw fail(.badGuardian(g))
            }
        }
        if group == .child, guardians.isEmpty, phones.isEmpty { throw fail(.childWithoutGuardian) }
        let phone = value("phone")
        return Member(
            line: row.line, name: name, group: group, born: born, phone: phone.isEmpty ? nil : phone, flags: flags,
            guardians: guardians, guardianPhones: phones)
    }

    /// RFC 4180 CSV records: quoted fields may hold commas, quotes (doubled) and line breaks.
    public static func records(_ text: String) throws(MemberCSVError) -> [Record] {
        var rows: [Record] = []
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
                guard field.isEmpty else { throw MemberCSVError(line: line, .strayQuote) }
                inQuotes = true
                quoteLine = line
            case ",":
                fields.append(field)
                field = ""
            case "\r":
                continue
            case "\n":
                fields.append(field)
                rows.append(Record(line: rowLine, fields: fields))
                fields = []
                field = ""
                line += 1
                rowLine = line
            default:
                if c.properties.generalCategory == .control && c != "\t" {
                    throw MemberCSVError(line: line, .controlCharacter(c.value))
                }
                field.unicodeScalars.append(c)
            }
        }
        if inQuotes { throw MemberCSVError(line: quoteLine, .unclosedQuote) }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            rows.append(Record(line: rowLine, fields: fields))
        }
        return rows
    }
}
