// A small, strict reader for the subset of TOML 1.0 used by the kiosk config.
//
// Pure Swift, no imports. Every error carries the 1-based line where the problem
// is, and a message written in plain words for the staff who edit the file.
//
// Supported: comments, blank lines, CRLF, a leading BOM, bare / quoted / dotted
// keys, [tables], [[arrays of tables]], basic and literal strings (single- and
// multi-line), integers (decimal, 0x, 0o, 0b), floats (incl. inf and nan),
// booleans, arrays and inline tables.
// Not supported (rejected with a clear message): dates and times.

// MARK: - Public API

/// A problem found while reading a TOML document: where it is and what is wrong.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The 1-based line number of the problem.
    public var line: Int
    /// What is wrong, in plain English (e.g. `expected '=' after the key "capacity"`).
    public var message: String
    /// `"line N: message"`; prefix it with the file name to get `file:line: message`.
    public var description: String { "line \(line): \(message)" }

    /// Creates an error for `line` (1-based) with a plain-English `message`.
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
}

/// One value read from a TOML document.
public indirect enum TOMLValue: Equatable, Sendable {
    /// Text, e.g. `"Gym"` or `'C:\data'`.
    case string(String)
    /// A whole number, e.g. `30`, `-1_000`, `0xff`.
    case integer(Int)
    /// A decimal number, e.g. `1.5`, `1e3`, `inf`, `nan`.
    case float(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// A list, e.g. `["resident", "elder"]`; also used for `[[arrays.of.tables]]`.
    case array([TOMLValue])
    /// A table: a `[header]` section, a dotted-key group or an inline `{ ... }`.
    case table(TOMLTable)

    /// A short English name of the type for error messages:
    /// "a string", "a whole number", "a decimal number", "true/false", "a list", "a table".
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "a whole number"
        case .float: return "a decimal number"
        case .bool: return "true/false"
        case .array: return "a list"
        case .table: return "a table"
        }
    }
}

/// A TOML table: keys in file order, their values, and the lines they were written on.
///
/// Two tables are equal when they hold the same keys with equal values;
/// line numbers and key order are not compared.
public struct TOMLTable: Equatable, Sendable {
    /// The line the table starts on (its [header], or the line of the inline table / the first key; 1 for the root)
    public var line: Int

    private var order: [String] = []
    private var values: [String: TOMLValue] = [:]
    private var keyLines: [String: Int] = [:]

    /// Keys in the order they appear in the file
    public var keys: [String] { order }

    /// The value stored under `key`, or `nil` if the table has no such key.
    public subscript(key: String) -> TOMLValue? { values[key] }

    /// The line where `key` was defined (for [[arrays]] of tables: the line of the first header)
    public func line(of key: String) -> Int? { keyLines[key] }

    /// Creates an empty table that starts on `line`.
    public init(line: Int) {
        self.line = line
    }

    /// Stores `value` under `key` (appending the key if it is new) and records its line.
    mutating func set(_ key: String, _ value: TOMLValue, line: Int) {
        if values.updateValue(value, forKey: key) == nil { order.append(key) }
        keyLines[key] = line
    }

    /// Tables are equal when they hold the same keys with equal values (lines and order are ignored).
    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.values == rhs.values
    }
}

/// Entry point of the TOML reader.
public enum TOML {
    /// Parses a whole document. Throws TOMLError with the line of the first problem.
    public static func parse(_ text: String) throws -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.parseDocument()
    }
}

// MARK: - Table tree used while parsing

/// A table under construction. A class, so the parser can keep a reference to
/// the section it is filling while the tree grows around it.
private final class TOMLNode {
    /// How a table came into existence; this decides what may still be added to it.
    enum Kind {
        /// Created only as the parent of a header, e.g. `a` in `[a.b]`; may still get its own `[a]`.
        case implicit
        /// Defined by its own `[header]` (or `[[header]]`, or the document root).
        case header
        /// Created by a dotted key such as `a.b = 1`, or an inline table being read.
        case dotted
    }

    enum Item {
        case value(TOMLValue)
        case table(TOMLNode)
        /// An array of tables built from `[[name]]` headers.
        case tables([TOMLNode])
    }

    struct Slot {
        var line: Int
        var item: Item
    }

    var line: Int
    var kind: Kind
    var order: [String] = []
    var slots: [String: Slot] = [:]

    init(line: Int, kind: Kind) {
        self.line = line
        self.kind = kind
    }

    func add(_ key: String, _ item: Item, line: Int) {
        if slots[key] == nil { order.append(key) }
        slots[key] = Slot(line: line, item: item)
    }

    func addTable(_ key: String, line: Int, kind: Kind) -> TOMLNode {
        let node = TOMLNode(line: line, kind: kind)
        add(key, .table(node), line: line)
        return node
    }

    func toTable() -> TOMLTable {
        var table = TOMLTable(line: line)
        for key in order {
            guard let slot = slots[key] else { continue }
            switch slot.item {
            case .value(let value):
                table.set(key, value, line: slot.line)
            case .table(let node):
                table.set(key, .table(node.toTable()), line: slot.line)
            case .tables(let nodes):
                table.set(key, .array(nodes.map { .table($0.toTable()) }), line: slot.line)
            }
        }
        return table
    }
}

// MARK: - Parser

/// A recursive-descent parser over the unicode scalars of the document, with a line counter.
private struct TOMLParser {
    private let text: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var depth = 0
    private let root = TOMLNode(line: 1, kind: .header)
    /// The table that `key = value` lines currently go into (changed by headers).
    private var current: TOMLNode

    private static let maxDepth = 100

    init(_ source: String) {
        text = Array(source.unicodeScalars)
        if text.first == "\u{FEFF}" { pos = 1 }
        current = root
    }

    // MARK: Document

    mutating func parseDocument() throws -> TOMLTable {
        while true {
            skipSpaces()
            guard let c = peek() else { break }
            switch c {
            case "#":
                try skipComment()
            case "\n", "\r":
                try consumeLineBreak()
            case "[":
                try parseHeader()
            default:
                let key = try parseKeyValue(into: current)
                try expectEndOfLine(context: "after the value of \"\(key)\"")
            }
        }
        return root.toTable()
    }

    // MARK: Low-level helpers

    private func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        pos + offset < text.count ? text[pos + offset] : nil
    }

    private func error(_ message: String, line: Int? = nil) -> TOMLError {
        TOMLError(line: line ?? self.line, message: message)
    }

    private var strayCarriageReturn: TOMLError {
        error("found a stray carriage-return character; save the file with normal line endings")
    }

    private mutating func skipSpaces() {
        while let c = peek(), c == " " || c == "\t" { pos += 1 }
    }

    /// True at the end of the line (or file) or at a comment.
    private var atLineEnd: Bool {
        guard let c = peek() else { return true }
        return c == "\n" || c == "\r" || c == "#"
    }

    /// Consumes `\n` or `\r\n`; the caller has checked that one of them (or a stray `\r`) is next.
    private mutating func consumeLineBreak() throws {
        if peek() == "\r" {
            guard peek(1) == "\n" else { throw strayCarriageReturn }
            pos += 1
        }
        pos += 1
        line += 1
    }

    /// Skips a `#` comment up to (not including) the line break.
    private mutating func skipComment() throws {
        while let c = peek(), c != "\n" {
            if c == "\r" {
                if peek(1) == "\n" { return }
                throw strayCarriageReturn
            }
            if Self.isControl(c) {
                throw error("the comment contains an invisible control character (\(Self.codePoint(c))), which is not allowed")
            }
            pos += 1
        }
    }

    /// After a value or header: allows spaces and a comment, then requires the end of the line.
    private mutating func expectEndOfLine(context: String) throws {
        skipSpaces()
        if peek() == "#" { try skipComment() }
        guard let c = peek() else { return }
        if c == "\n" || c == "\r" { return try consumeLineBreak() }
        throw error("unexpected \(restOfLine()) \(context); each setting must be on its own line")
    }

    /// The rest of the current line, quoted and shortened, for error messages.
    private func restOfLine() -> String {
        var out = String.UnicodeScalarView()
        var i = pos
        while i < text.count, text[i] != "\n", text[i] != "\r", out.count < 30 {
            out.append(text[i])
            i += 1
        }
        var s = String(out)
        while s.last == " " || s.last == "\t" { s.removeLast() }
        if i < text.count, text[i] != "\n", text[i] != "\r" { s += "…" }
        return "\"\(s)\""
    }

    /// Describes the character at the current position for "but found ..." messages.
    private func describeNext() -> String {
        guard let c = peek() else { return "the end of the file" }
        if c == "\n" || c == "\r" { return "the end of the line" }
        if Self.isControl(c) { return "an invisible control character (\(Self.codePoint(c)))" }
        if c == "'" { return "\"'\"" }
        return "'\(c)'" + Self.fullWidthHint(c)
    }

    /// Extra advice for look-alike characters typed with a Chinese keyboard or a word processor.
    private static func fullWidthHint(_ c: Unicode.Scalar?) -> String {
        switch c {
        case "\u{3000}"?: return " (a full-width space; use an ordinary space)"
        case "\u{FF1D}"?: return " (use the ordinary '=' instead of the full-width '\u{FF1D}')"
        case "\u{FF0C}"?: return " (use the ordinary ',' instead of the full-width '\u{FF0C}')"
        case "\u{201C}"?, "\u{201D}"?, "\u{2018}"?, "\u{2019}"?:
            return " (use straight quotes \" or ' instead of curly quotes)"
        default: return ""
        }
    }

    private static func isControl(_ c: Unicode.Scalar) -> Bool {
        (c.value < 0x20 && c != "\t") || c.value == 0x7F
    }

    private static func codePoint(_ c: Unicode.Scalar) -> String {
        let hex = String(c.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private static func isBareKeyChar(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    private mutating func enterNesting() throws {
        depth += 1
        if depth > Self.maxDepth {
            throw error("lists or tables are nested too deeply (more than \(Self.maxDepth) levels)")
        }
    }

    // MARK: Keys

    /// Parses `a`, `"a b"`, `'a'` or a dotted path `a.b."c"`.
    private mutating func parseKeyPath() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            parts.append(try parseSimpleKey(after: parts))
            skipSpaces()
            guard peek() == "." else { return parts }
            pos += 1
        }
    }

    private mutating func parseSimpleKey(after previous: [String]) throws -> String {
        let c = peek()
        if c == "\"" || c == "'" {
            if peek(1) == c && peek(2) == c {
                throw error("a key name cannot be multi-line text")
            }
            return c == "\"" ? try parseBasicString() : try parseLiteralString()
        }
        var key = ""
        while let c = peek(), Self.isBareKeyChar(c) {
            key.unicodeScalars.append(c)
            pos += 1
        }
        if let c = peek(), c.value > 127 {
            let hint = Self.fullWidthHint(c)
            if !hint.isEmpty, !key.isEmpty { throw error("unexpected '\(c)' after the key \"\(key)\"\(hint)") }
            throw error(
                "the key name contains \"\(c)\", which is not allowed; use only the letters A-Z, digits, '_' and '-', or put the key name in quotes\(hint)"
            )
        }
        if key.isEmpty {
            if previous.isEmpty {
                throw error("expected a key name but found \(describeNext())")
            }
            let dotted = previous.joined(separator: ".") + "."
            throw error("expected a key name after \"\(dotted)\" but found \(describeNext())")
        }
        return key
    }

    // MARK: Key = value

    /// Parses `key = value` into `node`; returns the key as written (for messages).
    private mutating func parseKeyValue(into node: TOMLNode) throws -> String {
        let keyLine = line
        let path = try parseKeyPath()
        let name = path.joined(separator: ".")
        skipSpaces()
        guard peek() == "=" else {
            throw error("expected '=' after the key \"\(name)\"" + Self.fullWidthHint(peek()))
        }
        pos += 1
        skipSpaces()
        if atLineEnd || peek() == "," || peek() == "}" {
            throw error("the key \"\(name)\" has no value after '='")
        }
        let (target, last) = try resolveDottedKey(path, in: node, line: keyLine)
        if let existing = target.slots[last] {
            throw error("the key \"\(name)\" is defined twice (first on line \(existing.line))", line: keyLine)
        }
        let value = try parseValue()
        target.add(last, .value(value), line: keyLine)
        return name
    }

    /// Walks (creating as needed) the tables named by all but the last part of a dotted key.
    private func resolveDottedKey(_ path: [String], in base: TOMLNode, line: Int) throws -> (TOMLNode, String) {
        let full = path.joined(separator: ".")
        var node = base
        for (index, part) in path.dropLast().enumerated() {
            let shown = path[...index].joined(separator: ".")
            guard let slot = node.slots[part] else {
                node = node.addTable(part, line: line, kind: .dotted)
                continue
            }
            switch slot.item {
            case .table(let table) where table.kind == .dotted:
                node = table
            case .table:
                throw error(
                    "cannot set \"\(full)\" here: the table \"\(shown)\" is already defined by a [header] on line \(slot.line); put the key under that header",
                    line: line)
            case .tables:
                throw error("cannot set \"\(full)\": \"\(shown)\" is a list of tables started on line \(slot.line)", line: line)
            case .value(.table):
                throw error(
                    "cannot set \"\(full)\": the table \"\(shown)\" was written in full with { ... } on line \(slot.line) and cannot be added to",
                    line: line)
            case .value(let value):
                throw error(
                    "cannot set \"\(full)\": the key \"\(shown)\" is already set to \(value.typeName) on line \(slot.line)", line: line)
            }
        }
        return (node, path[path.count - 1])
    }

    // MARK: Headers

    private mutating func parseHeader() throws {
        let headerLine = line
        pos += 1
        let isArray = peek() == "["
        if isArray { pos += 1 }
        let open = isArray ? "[[" : "["
        let close = isArray ? "]]" : "]"
        skipSpaces()
        if peek() == "]" || atLineEnd {
            throw error("expected a table name inside \(open) \(close)")
        }
        let path = try parseKeyPath()
        let name = path.joined(separator: ".")
        skipSpaces()
        guard peek() == "]", !isArray || peek(1) == "]" else {
            throw error("expected '\(close)' to close the table header \(open)\(name)\(close) but found \(describeNext())")
        }
        pos += isArray ? 2 : 1
        try expectEndOfLine(context: "after the table header \(open)\(name)\(close)")
        current =
            isArray
            ? try openArrayTable(path, line: headerLine)
            : try openTable(path, line: headerLine)
    }

    /// Walks the parent tables of a header path, creating implicit tables as needed.
    private func headerParent(_ path: [String], header: String, line: Int) throws -> TOMLNode {
        var node = root
        for (index, part) in path.dropLast().enumerated() {
            let shown = path[...index].joined(separator: ".")
            guard let slot = node.slots[part] else {
                node = node.addTable(part, line: line, kind: .implicit)
                continue
            }
            switch slot.item {
            case .table(let table):
                node = table
            case .tables(let tables):
                node = tables[tables.count - 1]
            case .value(.table):
                throw error(
                    "cannot use the header \(header): the table \"\(shown)\" was written in full with { ... } on line \(slot.line) and cannot be added to",
                    line: line)
            case .value(let value):
                throw error(
                    "cannot use the header \(header): the key \"\(shown)\" is already set to \(value.typeName) on line \(slot.line)",
                    line: line)
            }
        }
        return node
    }

    private func openTable(_ path: [String], line: Int) throws -> TOMLNode {
        let name = path.joined(separator: ".")
        let header = "[\(name)]"
        let parent = try headerParent(path, header: header, line: line)
        let last = path[path.count - 1]
        guard let slot = parent.slots[last] else {
            return parent.addTable(last, line: line, kind: .header)
        }
        switch slot.item {
        case .table(let table):
            switch table.kind {
            case .implicit:
                table.kind = .header
                table.line = line
                parent.slots[last]?.line = line
                return table
            case .header:
                throw error("the table \(header) is defined twice (first on line \(table.line))", line: line)
            case .dotted:
                throw error(
                    "the table \(header) was already defined on line \(slot.line) by keys like \"\(last).something = ...\", so it cannot also have its own header",
                    line: line)
            }
        case .tables:
            throw error(
                "\"\(name)\" is a list of tables started with [[\(name)]] on line \(slot.line); write [[\(name)]] to add another entry",
                line: line)
        case .value(.table):
            throw error("the table \(header) was already written in full with { ... } on line \(slot.line)", line: line)
        case .value(let value):
            throw error(
                "cannot use the header \(header): the key \"\(name)\" is already set to \(value.typeName) on line \(slot.line)", line: line)
        }
    }

    private func openArrayTable(_ path: [String], line: Int) throws -> TOMLNode {
        let name = path.joined(separator: ".")
        let header = "[[\(name)]]"
        let parent = try headerParent(path, header: header, line: line)
        let last = path[path.count - 1]
        let entry = TOMLNode(line: line, kind: .header)
        guard let slot = parent.slots[last] else {
            parent.add(last, .tables([entry]), line: line)
            return entry
        }
        switch slot.item {
        case .tables(let tables):
            parent.slots[last]?.item = .tables(tables + [entry])
            return entry
        case .table:
            throw error("cannot use \(header): \"\(name)\" is already a single table (line \(slot.line)), not a list of tables", line: line)
        case .value(.array):
            throw error("cannot use \(header): \"\(name)\" is already set to a fixed list on line \(slot.line)", line: line)
        case .value(let value):
            throw error("cannot use \(header): the key \"\(name)\" is already set to \(value.typeName) on line \(slot.line)", line: line)
        }
    }

    // MARK: Values

    private mutating func parseValue() throws -> TOMLValue {
        switch peek() {
        case "\""?:
            if peek(1) == "\"" && peek(2) == "\"" { return .string(try parseMultiLineString(literal: false)) }
            return .string(try parseBasicString())
        case "'"?:
            if peek(1) == "'" && peek(2) == "'" { return .string(try parseMultiLineString(literal: true)) }
            return .string(try parseLiteralString())
        case "["?:
            return try parseArray()
        case "{"?:
            return try parseInlineTable()
        default:
            return try parseBareValue()
        }
    }

    // MARK: Strings

    private func unterminatedString(_ startLine: Int) -> TOMLError {
        error("the text starting on this line is missing its closing quote", line: startLine)
    }

    private func controlCharacterError(_ c: Unicode.Scalar) -> TOMLError {
        error(
            "the text contains an invisible control character (\(Self.codePoint(c))), which is not allowed; use an escape like \\t or \\n instead"
        )
    }

    /// `"..."` with escapes, on one line.
    private mutating func parseBasicString() throws -> String {
        let startLine = line
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek(), c != "\n", c != "\r" else { throw unterminatedString(startLine) }
            pos += 1
            switch c {
            case "\"":
                return String(out)
            case "\\":
                guard let next = peek(), next != "\n", next != "\r" else { throw unterminatedString(startLine) }
                out.append(try parseEscape())
            default:
                if Self.isControl(c) { throw controlCharacterError(c) }
                out.append(c)
            }
        }
    }

    /// `'...'` without escapes, on one line.
    private mutating func parseLiteralString() throws -> String {
        let startLine = line
        pos += 1
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek(), c != "\n", c != "\r" else { throw unterminatedString(startLine) }
            pos += 1
            if c == "'" { return String(out) }
            if Self.isControl(c) { throw controlCharacterError(c) }
            out.append(c)
        }
    }

    /// Parses the escape after a backslash (the backslash is already consumed).
    private mutating func parseEscape() throws -> Unicode.Scalar {
        guard let c = peek() else { throw error("the text ends in the middle of an escape") }
        pos += 1
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u": return try parseUnicodeEscape(digits: 4, letter: "u")
        case "U": return try parseUnicodeEscape(digits: 8, letter: "U")
        default:
            throw error(
                "unknown escape \"\\\(c)\" in text; to write a backslash use \"\\\\\", or put the text in single quotes like 'C:\\data'")
        }
    }

    private mutating func parseUnicodeEscape(digits: Int, letter: String) throws -> Unicode.Scalar {
        var hex = ""
        for _ in 0..<digits {
            guard let c = peek(), c.properties.isASCIIHexDigit else {
                throw error("\"\\\(letter)\" must be followed by exactly \(digits) hexadecimal digits (0-9, A-F)")
            }
            hex.unicodeScalars.append(c)
            pos += 1
        }
        guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else {
            throw error("\"\\\(letter)\(hex)\" is not a valid Unicode character")
        }
        return scalar
    }

    /// `"""..."""` (with escapes) or `'''...'''` (without); may span lines.
    private mutating func parseMultiLineString(literal: Bool) throws -> String {
        let startLine = line
        let quote: Unicode.Scalar = literal ? "'" : "\""
        pos += 3
        // A line break right after the opening quotes is not part of the text.
        if peek() == "\n" || (peek() == "\r" && peek(1) == "\n") { try consumeLineBreak() }
        var out = String.UnicodeScalarView()
        while true {
            guard let c = peek() else {
                let q = String(repeating: String(quote), count: 3)
                throw error("the multi-line text starting on this line is never closed with \(q)", line: startLine)
            }
            if c == quote && peek(1) == quote && peek(2) == quote {
                var run = 3
                while peek(run) == quote { run += 1 }
                if run > 5 {
                    throw error("too many quote marks in a row in multi-line text (at most two may come before the closing three)")
                }
                for _ in 0..<(run - 3) { out.append(quote) }
                pos += run
                return String(out)
            }
            if c == "\n" || c == "\r" {
                try consumeLineBreak()
                out.append("\n")
                continue
            }
            pos += 1
            if c == "\\" && !literal {
                if isLineEndingBackslash() {
                    try skipWhitespaceAndLineBreaks()
                } else {
                    out.append(try parseEscape())
                }
                continue
            }
            if Self.isControl(c) { throw controlCharacterError(c) }
            out.append(c)
        }
    }

    /// After a backslash in `"""` text: is the rest of the line only spaces?
    /// (The end of the file counts too; the text is then reported as never closed.)
    private func isLineEndingBackslash() -> Bool {
        var i = pos
        while i < text.count, text[i] == " " || text[i] == "\t" { i += 1 }
        return i == text.count || text[i] == "\n" || text[i] == "\r"
    }

    private mutating func skipWhitespaceAndLineBreaks() throws {
        while let c = peek() {
            if c == " " || c == "\t" {
                pos += 1
            } else if c == "\n" || c == "\r" {
                try consumeLineBreak()
            } else {
                return
            }
        }
    }

    // MARK: Arrays

    private func unterminatedList(_ startLine: Int) -> TOMLError {
        error("the list starting on this line is never closed with ']'", line: startLine)
    }

    /// Skips spaces, line breaks and comments between list items.
    private mutating func skipListFiller() throws {
        while let c = peek() {
            switch c {
            case " ", "\t": pos += 1
            case "\n", "\r": try consumeLineBreak()
            case "#": try skipComment()
            default: return
            }
        }
    }

    /// Does the text ahead look like `key = ...`? (A sign that a list was never closed.)
    private func looksLikeKeyAssignment() -> Bool {
        var i = pos
        var sawKey = false
        while i < text.count {
            let c = text[i]
            if Self.isBareKeyChar(c) {
                sawKey = true
            } else if c != "." && c != " " && c != "\t" {
                return sawKey && c == "="
            }
            i += 1
        }
        return false
    }

    private mutating func parseArray() throws -> TOMLValue {
        let startLine = line
        pos += 1
        try enterNesting()
        defer { depth -= 1 }
        var items: [TOMLValue] = []
        while true {
            try skipListFiller()
            guard let c = peek() else { throw unterminatedList(startLine) }
            if c == "]" {
                pos += 1
                return .array(items)
            }
            if c == "," {
                throw error(items.isEmpty ? "a list cannot start with a comma" : "two commas in a row in the list; remove one")
            }
            if line != startLine && looksLikeKeyAssignment() { throw unterminatedList(startLine) }
            items.append(try parseValue())
            let itemLine = line
            try skipListFiller()
            guard let next = peek() else { throw unterminatedList(startLine) }
            switch next {
            case ",":
                pos += 1
            case "]":
                pos += 1
                return .array(items)
            case "=":
                throw unterminatedList(startLine)
            default:
                // Something on a later line that looks like the next setting or a
                // [header]: the list was most likely never closed.
                if line != itemLine && (next == "[" || looksLikeKeyAssignment()) {
                    throw unterminatedList(startLine)
                }
                throw error("expected a comma or ']' after the list item, but found \(describeNext())", line: itemLine)
            }
        }
    }

    // MARK: Inline tables

    private mutating func parseInlineTable() throws -> TOMLValue {
        let startLine = line
        pos += 1
        try enterNesting()
        defer { depth -= 1 }
        let node = TOMLNode(line: startLine, kind: .dotted)
        let unclosed = error(
            "the table { ... } starting on this line is missing its closing '}' (it must be written on one line)", line: startLine)
        skipSpaces()
        if peek() == "}" {
            pos += 1
            return .table(node.toTable())
        }
        while true {
            skipSpaces()
            if atLineEnd { throw unclosed }
            _ = try parseKeyValue(into: node)
            skipSpaces()
            guard !atLineEnd else { throw unclosed }
            switch peek() {
            case "}"?:
                pos += 1
                return .table(node.toTable())
            case ","?:
                pos += 1
                skipSpaces()
                if peek() == "}" {
                    throw error("remove the comma before '}'; a comma is not allowed after the last item in { ... }")
                }
            default:
                throw error("expected a comma or '}' in the table { ... }, but found \(describeNext())")
            }
        }
    }

    // MARK: Numbers, booleans and unquoted words

    /// Reads an unquoted value (number, true/false, inf/nan) up to the next delimiter.
    private mutating func parseBareValue() throws -> TOMLValue {
        var token = ""
        while let c = peek(), !Self.endsBareValue(c) {
            token.unicodeScalars.append(c)
            pos += 1
        }
        if token.isEmpty {
            throw error("expected a value but found \(describeNext())")
        }
        switch token {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan", "-nan": return .float(.nan)
        default: break
        }
        if token.contains(":") || Self.looksLikeDate(token) {
            throw error("dates and times are not supported here; write them as a string like \"06:00\"")
        }
        if let first = token.unicodeScalars.first, "\u{201C}\u{201D}\u{2018}\u{2019}".unicodeScalars.contains(first) {
            throw error("\(token) is not valid text; use straight quotes \" or ' instead of curly quotes")
        }
        if let first = token.unicodeScalars.first, Self.isDigit(first) || first == "+" || first == "-" || first == "." {
            return try parseNumber(token)
        }
        if token.lowercased() == "true" || token.lowercased() == "false" {
            throw error("write true or false in lowercase letters (found \(token))")
        }
        throw error("\(token) is not a valid value; text must be put in quotes, like \"\(token)\"")
    }

    private static func endsBareValue(_ c: Unicode.Scalar) -> Bool {
        switch c {
        case " ", "\t", "\n", "\r", ",", "]", "}", "#", "=", "[", "{": return true
        default: return false
        }
    }

    /// `YYYY-MM-DD...`
    private static func looksLikeDate(_ token: String) -> Bool {
        let s = Array(token.unicodeScalars.prefix(10))
        guard s.count == 10, s[4] == "-", s[7] == "-" else { return false }
        return [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy { isDigit(s[$0]) }
    }

    /// Checks `1_000`-style digits: non-empty, only allowed digits, each `_` between two digits.
    private static func validDigits(_ s: Substring, _ isAllowed: (Unicode.Scalar) -> Bool) -> Bool {
        var previousWasDigit = false
        for c in s.unicodeScalars {
            if c == "_" {
                if !previousWasDigit { return false }
                previousWasDigit = false
            } else if isAllowed(c) {
                previousWasDigit = true
            } else {
                return false
            }
        }
        return previousWasDigit
    }

    private func parseNumber(_ token: String) throws -> TOMLValue {
        let invalid = error("\(token) is not a valid number")
        let tooLarge = error("the number \(token) is too large")
        var body = Substring(token)
        var sign = ""
        if body.first == "+" || body.first == "-" {
            sign = body.first == "-" ? "-" : ""
            body = body.dropFirst()
        }
        let hasSign = body.count != token.count

        // 0x, 0o, 0b
        let prefixes: [(String, Int, (Unicode.Scalar) -> Bool)] = [
            ("0x", 16, { $0.properties.isASCIIHexDigit }),
            ("0o", 8, { $0 >= "0" && $0 <= "7" }),
            ("0b", 2, { $0 == "0" || $0 == "1" }),
        ]
        for (prefix, radix, isAllowed) in prefixes where body.hasPrefix(prefix) {
            if hasSign { throw error("a sign (+ or -) is not allowed before a \(prefix) number (\(token))") }
            let digits = body.dropFirst(2)
            guard Self.validDigits(digits, isAllowed) else { throw invalid }
            guard let value = Int(digits.filter { $0 != "_" }, radix: radix) else { throw tooLarge }
            return .integer(value)
        }

        // Decimal integer or float: int-part [. fraction] [e exponent]
        var mantissa = body
        var exponent: Substring?
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = body[..<e]
            exponent = body[body.index(after: e)...]
        }
        var intPart = mantissa
        var fraction: Substring?
        if let dot = mantissa.firstIndex(of: ".") {
            intPart = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        guard Self.validDigits(intPart, Self.isDigit) else { throw invalid }
        if let fraction, !Self.validDigits(fraction, Self.isDigit) { throw invalid }
        if var exp = exponent {
            if exp.first == "+" || exp.first == "-" { exp = exp.dropFirst() }
            guard Self.validDigits(exp, Self.isDigit) else { throw invalid }
        }
        let cleanInt = intPart.filter { $0 != "_" }
        if cleanInt.count > 1 && cleanInt.hasPrefix("0") {
            throw error("the number \(token) cannot start with 0; if it is a code, put it in quotes, like \"\(token)\"")
        }
        let clean = sign + body.filter { $0 != "_" }
        if fraction == nil && exponent == nil {
            guard let value = Int(clean) else { throw tooLarge }
            return .integer(value)
        }
        guard let value = Double(clean) else { throw invalid }
        guard value.isFinite else { throw tooLarge }
        return .float(value)
    }
}
