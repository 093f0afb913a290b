// The upload batch body of the kiosk → hub protocol (`POST {hub}/v1/events`):
//
//     {"kiosk":"K-LOBBY-1","centre":"C-01","events":[{"seq":1,"id":"…","at":"2026-11-29T02:45:32Z",
//      "venue":"gym","member":"M000123","group":"elder","direction":"in","outcome":"accepted",
//      "reason":null,"via":"scan","prev_hash":"…","hash":"…"}, …]}
//
// A correction (`"outcome":"void"`) carries one more field, `"corrects":SEQ`, the seq of the accepted
// check-in it voids; no other event has that field.
//
// A strict, allocation-light parser working directly on the UTF-8 bytes, and the matching encoder.
// No Foundation JSON machinery is involved.

import JiayuanDomain

#if canImport(FoundationEssentials)
    import FoundationEssentials
#elseif canImport(Foundation)
    import Foundation
#endif

/// One attendance event as it travels from kiosk to hub.
public struct WireEvent: Hashable, Sendable {
    /// Position in the kiosk's event chain, 1...Int64.max.
    public var seq: Int64
    /// Event UUID.
    public var id: String
    /// Timestamp, RFC 3339 UTC (e.g. `2026-11-29T02:45:32Z`). Not interpreted by the wire layer.
    public var at: String
    public var venue: String
    /// Member id (`M` + 6 digits), or nil for an unknown card.
    public var member: String?
    public var group: String?
    /// `in` / `out`.
    public var direction: String
    public var outcome: String
    public var reason: String?
    public var via: String
    /// A correction's voided seq (`outcome` "void"); nil, and absent on the wire, for every other event.
    public var corrects: Int64?
    /// `prev_hash` on the wire.
    public var prevHash: String
    public var hash: String

    public init(
        seq: Int64, id: String, at: String, venue: String, member: String?, group: String?,
        direction: String, outcome: String, reason: String?, via: String, prevHash: String, hash: String,
        corrects: Int64? = nil
    ) {
        self.seq = seq
        self.id = id
        self.at = at
        self.venue = venue
        self.member = member
        self.group = group
        self.direction = direction
        self.outcome = outcome
        self.reason = reason
        self.via = via
        self.corrects = corrects
        self.prevHash = prevHash
        self.hash = hash
    }
}

/// The body of one upload: which kiosk, which centre, and its events in order.
public struct UploadBatch: Hashable, Sendable {
    public var kiosk: String
    public var centre: String
    public var events: [WireEvent]

    public init(kiosk: String, centre: String, events: [WireEvent]) {
        self.kiosk = kiosk
        self.centre = centre
        self.events = events
    }
}

/// A rejected upload body. `message` is plain words ending with the byte offset of the problem,
/// e.g. `event 3: "seq" must be a whole number (at byte 812)`. Events are numbered from 1.
public struct WireError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What kind of refusal: the hub answers 413 for `.tooManyEvents`, 400 for the rest.
    public enum Kind: Hashable, Sendable {
        /// Not a batch: bad JSON, a missing or malformed field.
        case malformed
        /// More events than the receiver takes in one batch.
        case tooManyEvents(limit: Int)
    }

    public var kind: Kind
    public var message: String
    public init(message: String, kind: Kind = .malformed) {
        self.message = message
        self.kind = kind
    }
    public var description: String { message }
}

// MARK: - Parsing

extension UploadBatch {
    /// The default cap on events per batch.
    public static let defaultMaxEvents = 10_000

    /// Parses and strictly validates an upload body (UTF-8 JSON).
    ///
    /// Keys may come in any order and JSON whitespace is allowed anywhere. Rejected: unknown,
    /// duplicate or missing fields (`member`, `group`, `reason` may be `null` but must be present),
    /// values of the wrong type, `seq` that is not an integer in 1...Int64.max (no fraction,
    /// exponent or leading zeros), invalid escapes, lone surrogates, raw control characters and
    /// invalid UTF-8 inside strings, anything but whitespace after the closing `}`, and more than
    /// `maxEvents` events.
    ///
    /// - Throws: `WireError` whose message names the problem and its byte offset.
    public init(json bytes: [UInt8], maxEvents: Int = UploadBatch.defaultMaxEvents) throws(WireError) {
        let result: Result<UploadBatch, WireError> = bytes.withUnsafeBufferPointer { buffer in
            Self.parse(buffer, maxEvents: maxEvents)
        }
        self = try result.get()
    }

    /// Parses an upload body held in raw memory (same rules as the `[UInt8]` initializer).
    public init(json bytes: UnsafeRawBufferPointer, maxEvents: Int = UploadBatch.defaultMaxEvents) throws(WireError) {
        self = try Self.parse(bytes.assumingMemoryBound(to: UInt8.self), maxEvents: maxEvents).get()
    }

    #if canImport(FoundationEssentials) || canImport(Foundation)
        /// Parses an upload body held in `Data` (same rules as the `[UInt8]` initializer).
        public init(json data: Data, maxEvents: Int = UploadBatch.defaultMaxEvents) throws(WireError) {
            let result: Result<UploadBatch, WireError> = data.withUnsafeBytes { raw in
                Self.parse(raw.assumingMemoryBound(to: UInt8.self), maxEvents: maxEvents)
            }
            self = try result.get()
        }
    #endif

    private static func parse(_ buffer: UnsafeBufferPointer<UInt8>, maxEvents: Int) -> Result<UploadBatch, WireError> {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            return .failure(WireError(message: "the body is empty (at byte 0)"))
        }
        var parser = WireParser(base: base, end: buffer.count)
        do throws(WireError) {
            return .success(try parser.parseBatch(maxEvents: maxEvents))
        } catch {
            return .failure(error)
        }
    }
}

// ASCII bytes used by the parser and encoder.
private let quote: UInt8 = 0x22  // "
private let backslash: UInt8 = 0x5C  // \
private let comma: UInt8 = 0x2C
private let colon: UInt8 = 0x3A
private let openBrace: UInt8 = 0x7B
private let closeBrace: UInt8 = 0x7D
private let openBracket: UInt8 = 0x5B
private let closeBracket: UInt8 = 0x5D

/// Names in wire order; the index is the field number used by the parser.
private let eventFieldNames: [StaticString] = [
    "seq", "id", "at", "venue", "member", "group", "direction", "outcome", "reason", "via", "prev_hash", "hash",
    "corrects",
]
private let topFieldNames: [StaticString] = ["kiosk", "centre", "events"]

private enum EventField {
    static let seq = 0, id = 1, at = 2, venue = 3, member = 4, group = 5, direction = 6
    static let outcome = 7, reason = 8, via = 9, prevHash = 10, hash = 11
    /// Optional: only a correction carries it.
    static let corrects = 12
    /// The fields every event must have.
    static let required: UInt16 = (1 << 12) - 1
}

@inline(__always)
private func equals(_ key: UnsafeBufferPointer<UInt8>, _ name: StaticString) -> Bool {
    // Callers have already checked the length.
    let p = name.utf8Start
    for i in 0..<key.count where key[i] != p[i] { return false }
    return true
}

private func eventFieldNumber(_ k: UnsafeBufferPointer<UInt8>) -> Int {
    switch k.count {
    case 2:
        if equals(k, "id") { return EventField.id }
        if equals(k, "at") { return EventField.at }
    case 3:
        if equals(k, "seq") { return EventField.seq }
        if equals(k, "via") { return EventField.via }
    case 4:
        if equals(k, "hash") { return EventField.hash }
    case 5:
        if equals(k, "venue") { return EventField.venue }
        if equals(k, "group") { return EventField.group }
    case 6:
        if equals(k, "member") { return EventField.member }
        if equals(k, "reason") { return EventField.reason }
    case 7:
        if equals(k, "outcome") { return EventField.outcome }
    case 8:
        if equals(k, "corrects") { return EventField.corrects }
    case 9:
        if equals(k, "direction") { return EventField.direction }
        if equals(k, "prev_hash") { return EventField.prevHash }
    default:
        break
    }
    return -1
}

private func topFieldNumber(_ k: UnsafeBufferPointer<UInt8>) -> Int {
    switch k.count {
    case 5: if equals(k, "kiosk") { return 0 }
    case 6:
        if equals(k, "centre") { return 1 }
        if equals(k, "events") { return 2 }
    default: break
    }
    return -1
}

/// Single-pass recursive-descent parser over a byte buffer. Every access is bounds-checked
/// against `end`; nothing is read past it.
private struct WireParser {
    let base: UnsafePointer<UInt8>
    let end: Int
    var pos = 0
    /// 1-based number of the event being parsed, 0 outside the events array.
    var eventNumber = 0

    init(base: UnsafePointer<UInt8>, end: Int) {
        self.base = base
        self.end = end
    }

    // MARK: Errors

    func fail(_ text: String, at offset: Int) -> WireError {
        let prefix = eventNumber > 0 ? "event \(eventNumber): " : ""
        return WireError(message: "\(prefix)\(text) (at byte \(offset))")
    }

    /// What starts at `offset`, for type errors: "a string", "null", "'x'", "the end of the body"…
    func describe(at offset: Int) -> String {
        guard offset < end else { return "the end of the body" }
        let b = base[offset]
        switch b {
        case quote: return "a string"
        case openBrace: return "an object"
        case openBracket: return "an array"
        case UInt8(ascii: "n") where literal("null", at: offset): return "null"
        case UInt8(ascii: "t") where literal("true", at: offset): return "true"
        case UInt8(ascii: "f") where literal("false", at: offset): return "false"
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return "a number"
        case UInt8(ascii: "-") where offset + 1 < end && base[offset + 1] &- 0x30 < 10: return "a number"
        case 0x21..<0x7F: return "'\(Character(Unicode.Scalar(b)))'"
        default: return "byte 0x\(hex2(b))"
        }
    }

    func literal(_ word: StaticString, at offset: Int) -> Bool {
        let n = word.utf8CodeUnitCount
        guard offset + n <= end else { return false }
        for k in 0..<n where base[offset + k] != word.utf8Start[k] { return false }
        return true
    }

    /// ", found …" for the byte at `offset`.
    func found(at offset: Int) -> String { ", found " + describe(at: offset) }

    // MARK: Structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end {
            let b = base[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    @inline(__always)
    func at(_ byte: UInt8) -> Bool { pos < end && base[pos] == byte }

    @inline(__always)
    mutating func expectColon(after name: StaticString) throws(WireError) {
        skipWhitespace()
        guard at(colon) else { throw fail("expected ':' after the field name \"\(name)\"" + found(at: pos), at: pos) }
        pos += 1
        skipWhitespace()
    }

    /// After a value: consumes `,` (returns true, more fields follow) or `}` (returns false).
    @inline(__always)
    mutating func afterValue(of name: StaticString) throws(WireError) -> Bool {
        skipWhitespace()
        if pos < end {
            let b = base[pos]
            if b == comma {
                pos += 1
                skipWhitespace()
                return true
            }
            if b == closeBrace {
                pos += 1
                return false
            }
        }
        throw fail("expected ',' or '}' after the value of \"\(name)\"" + found(at: pos), at: pos)
    }

    mutating func parseBatch(maxEvents: Int) throws(WireError) -> UploadBatch {
        skipWhitespace()
        guard at(openBrace) else { throw fail("the body must be a JSON object starting with '{'" + found(at: pos), at: pos) }
        pos += 1
        skipWhitespace()
        var kiosk = "", centre = ""
        var events: [WireEvent] = []
        var seen: UInt8 = 0
        if at(closeBrace) {
            pos += 1
        } else {
            while true {
                let keyStart = pos
                let field = try readFieldName(topFieldNumber)
                let name = topFieldNames[field]
                if seen & (1 << field) != 0 { throw fail("duplicate field \"\(name)\"", at: keyStart) }
                seen |= 1 << field
                try expectColon(after: name)
                switch field {
                case 0: kiosk = try readRequiredString(name)
                case 1: centre = try readRequiredString(name)
                default: events = try parseEvents(maxEvents: maxEvents)
                }
                if try !afterValue(of: name) { break }
            }
        }
        if seen != 0b111 {
            let missing = (0..<3).first { seen & (1 << $0) == 0 }!
            throw fail("missing field \"\(topFieldNames[missing])\"", at: pos - 1)
        }
        skipWhitespace()
        guard pos == end else {
            throw fail("unexpected data after the end of the JSON object" + found(at: pos), at: pos)
        }
        return UploadBatch(kiosk: kiosk, centre: centre, events: events)
    }

    mutating func parseEvents(maxEvents: Int) throws(WireError) -> [WireEvent] {
        guard at(openBracket) else {
            throw fail("\"events\" must be an array, found \(describe(at: pos))", at: pos)
        }
        pos += 1
        var events: [WireEvent] = []
        // A typical event is ~330 bytes on the wire; avoid both regrowth and gross over-allocation.
        events.reserveCapacity(max(0, min(maxEvents, (end - pos) / 256 + 1)))
        skipWhitespace()
        if at(closeBracket) {
            pos += 1
            return events
        }
        while true {
            if events.count >= maxEvents {
                eventNumber = 0
                var error = fail("too many events (at most \(maxEvents) per batch)", at: pos)
                error.kind = .tooManyEvents(limit: maxEvents)
                throw error
            }
            eventNumber = events.count + 1
            events.append(try parseEvent())
            skipWhitespace()
            if at(comma) {
                pos += 1
                skipWhitespace()
                continue
            }
            if at(closeBracket) {
                pos += 1
                eventNumber = 0
                return events
            }
            throw fail("expected ',' or ']' after the event" + found(at: pos), at: pos)
        }
    }

    mutating func parseEvent() throws(WireError) -> WireEvent {
        guard at(openBrace) else { throw fail("each event must be an object, found \(describe(at: pos))", at: pos) }
        pos += 1
        skipWhitespace()
        var seen: UInt16 = 0
        var seq: Int64 = 0
        var id = "", at_ = "", venue = "", direction = "", outcome = "", via = "", prevHash = "", hash = ""
        var member: String? = nil, group: String? = nil, reason: String? = nil
        var corrects: Int64? = nil
        if at(closeBrace) {
            pos += 1
        } else {
            while true {
                let keyStart = pos
                let field = try readFieldName(eventFieldNumber)
                let name = eventFieldNames[field]
                let bit: UInt16 = 1 << field
                if seen & bit != 0 { throw fail("duplicate field \"\(name)\"", at: keyStart) }
                seen |= bit
                try expectColon(after: name)
                switch field {
                case EventField.seq: seq = try readSeq("seq")
                case EventField.id: id = try readRequiredString(name)
                case EventField.at: at_ = try readRequiredString(name)
                case EventField.venue: venue = try readRequiredString(name)
                case EventField.member: member = try readOptionalString(name)
                case EventField.group: group = try readOptionalString(name)
                case EventField.direction: direction = try readRequiredString(name)
                case EventField.outcome: outcome = try readRequiredString(name)
                case EventField.reason: reason = try readOptionalString(name)
                case EventField.via: via = try readRequiredString(name)
                case EventField.prevHash: prevHash = try readRequiredString(name)
                case EventField.corrects: corrects = try readOptionalSeq(name)
                default: hash = try readRequiredString(name)
                }
                if try !afterValue(of: name) { break }
            }
        }
        if seen & EventField.required != EventField.required {
            let missing = (0..<12).first { seen & (1 << $0) == 0 }!
            throw fail("missing field \"\(eventFieldNames[missing])\"", at: pos - 1)
        }
        return WireEvent(
            seq: seq, id: id, at: at_, venue: venue, member: member, group: group, direction: direction,
            outcome: outcome, reason: reason, via: via, prevHash: prevHash, hash: hash, corrects: corrects)
    }

    // MARK: Values

    mutating func readSeq(_ name: StaticString) throws(WireError) -> Int64 {
        let start = pos
        let rangeMessage = "\"\(name)\" must be between 1 and \(Int64.max)"
        guard pos < end else { throw fail("\"\(name)\" must be a whole number" + found(at: pos), at: pos) }
        var b = base[pos]
        if b == UInt8(ascii: "-") {
            if pos + 1 < end, base[pos + 1] &- 0x30 < 10 { throw fail(rangeMessage, at: start) }
            throw fail("\"\(name)\" must be a whole number, found \(describe(at: pos))", at: start)
        }
        guard b &- 0x30 < 10 else {
            throw fail("\"\(name)\" must be a whole number, found \(describe(at: pos))", at: start)
        }
        if b == UInt8(ascii: "0") && pos + 1 < end && base[pos + 1] &- 0x30 < 10 {
            throw fail("\"\(name)\" must not have leading zeros", at: start)
        }
        var value: Int64 = 0
        var overflow = false
        while pos < end {
            b = base[pos] &- 0x30
            guard b < 10 else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b))
            overflow = overflow || o1 || o2
            value = a
            pos += 1
        }
        if pos < end {
            b = base[pos]
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                throw fail("\"\(name)\" must be a whole number", at: start)
            }
        }
        if overflow || value < 1 { throw fail(rangeMessage, at: start) }
        return value
    }

    @inline(__always)
    mutating func readRequiredString(_ name: StaticString) throws(WireError) -> String {
        guard at(quote) else { throw fail("\"\(name)\" must be a string, found \(describe(at: pos))", at: pos) }
        return try readString(name)
    }

    @inline(__always)
    /// A positive whole number, or `null` (the same as leaving the field out).
    mutating func readOptionalSeq(_ name: StaticString) throws(WireError) -> Int64? {
        if pos + 4 <= end && base[pos] == UInt8(ascii: "n") && base[pos + 1] == UInt8(ascii: "u")
            && base[pos + 2] == UInt8(ascii: "l") && base[pos + 3] == UInt8(ascii: "l")
        {
            pos += 4
            return nil
        }
        return try readSeq(name)
    }

    mutating func readOptionalString(_ name: StaticString) throws(WireError) -> String? {
        if at(quote) { return try readString(name) }
        if pos + 4 <= end && base[pos] == UInt8(ascii: "n") && base[pos + 1] == UInt8(ascii: "u")
            && base[pos + 2] == UInt8(ascii: "l") && base[pos + 3] == UInt8(ascii: "l")
        {
            pos += 4
            return nil
        }
        throw fail("\"\(name)\" must be a string or null, found \(describe(at: pos))", at: pos)
    }

    /// Reads the string starting at `pos` (which holds the opening quote).
    /// Fast path: no escapes → the String is made straight from the byte slice.
    @inline(__always)
    mutating func readString(_ name: StaticString) throws(WireError) -> String {
        let start = pos + 1
        var i = start
        while i < end {
            let b = base[i]
            if b == quote {
                pos = i + 1
                return String(decoding: UnsafeBufferPointer(start: base + start, count: i - start), as: UTF8.self)
            }
            if b == backslash { break }
            if b < 0x20 { throw controlCharacter(b, at: i, in: name) }
            if b >= 0x80 {
                i = try validateUTF8(at: i, in: name)
            } else {
                i += 1
            }
        }
        if i >= end { throw fail("unterminated string in \"\(name)\"", at: start - 1) }
        let bytes = try decodeEscaped(start: start, firstEscape: i, in: name)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a field name and maps it through `lookup`; throws for unknown names.
    @inline(__always)
    mutating func readFieldName(_ lookup: (UnsafeBufferPointer<UInt8>) -> Int) throws(WireError) -> Int {
        let keyStart = pos
        guard at(quote) else { throw fail("expected a field name in double quotes" + found(at: pos), at: pos) }
        let start = pos + 1
        var i = start
        while i < end {
            let b = base[i]
            if b == quote {
                pos = i + 1
                let key = UnsafeBufferPointer(start: base + start, count: i - start)
                let field = lookup(key)
                if field < 0 { throw fail("unknown field \(displayName(key))", at: keyStart) }
                return field
            }
            if b == backslash || b < 0x20 || b >= 0x80 { break }
            i += 1
        }
        // Rare: escapes or non-ASCII in a field name — decode fully, then look up.
        var bytes: [UInt8]
        if i >= end {
            throw fail("unterminated field name", at: keyStart)
        } else if base[i] == backslash {
            bytes = try decodeEscaped(start: start, firstEscape: i, in: "a field name")
        } else {
            // Control byte or non-ASCII: validate, then use the raw slice.
            while i < end && base[i] != quote && base[i] != backslash {
                let b = base[i]
                if b < 0x20 { throw controlCharacter(b, at: i, in: "a field name") }
                i = try b >= 0x80 ? validateUTF8(at: i, in: "a field name") : i + 1
            }
            if i >= end { throw fail("unterminated field name", at: keyStart) }
            if base[i] == backslash {
                bytes = try decodeEscaped(start: start, firstEscape: i, in: "a field name")
            } else {
                bytes = Array(UnsafeBufferPointer(start: base + start, count: i - start))
                pos = i + 1
            }
        }
        let field = bytes.withUnsafeBufferPointer { lookup($0) }
        if field < 0 {
            throw bytes.withUnsafeBufferPointer { fail("unknown field \(displayName($0))", at: keyStart) }
        }
        return field
    }

    /// A field name for an error message: quoted, escaped, shortened.
    func displayName(_ key: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        let shown = UnsafeBufferPointer(rebasing: key.prefix(60))
        WireJSON.appendEscaped(shown, to: &out)
        var text = String(decoding: out, as: UTF8.self)
        if shown.count < key.count { text.insert(contentsOf: "…", at: text.index(before: text.endIndex)) }
        return text
    }

    func controlCharacter(_ b: UInt8, at offset: Int, in name: StaticString) -> WireError {
        fail("control character U+00\(hex2(b)) must be escaped in \(quoted(name))", at: offset)
    }

    /// `"venue"` for a field, `a field name` for the key context.
    func quoted(_ name: StaticString) -> String {
        let text = "\(name)"
        return text == "a field name" ? text : "\"\(text)\""
    }

    /// Validates one UTF-8 sequence starting at `i` (lead byte ≥ 0x80); returns the index after it.
    /// Strict RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
    @inline(__always)
    func validateUTF8(at i: Int, in name: StaticString) throws(WireError) -> Int {
        let b0 = base[i]
        @inline(__always) func cont(_ j: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            j < end && base[j] >= lo && base[j] <= hi
        }
        switch b0 {
        case 0xC2...0xDF:
            if cont(i + 1) { return i + 2 }
        case 0xE0:
            if cont(i + 1, 0xA0) && cont(i + 2) { return i + 3 }
        case 0xE1...0xEC, 0xEE...0xEF:
            if cont(i + 1) && cont(i + 2) { return i + 3 }
        case 0xED:
            if cont(i + 1, 0x80, 0x9F) && cont(i + 2) { return i + 3 }
        case 0xF0:
            if cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF1...0xF3:
            if cont(i + 1) && cont(i + 2) && cont(i + 3) { return i + 4 }
        case 0xF4:
            if cont(i + 1, 0x80, 0x8F) && cont(i + 2) && cont(i + 3) { return i + 4 }
        default:
            break
        }
        throw fail("invalid UTF-8 in \(quoted(name))", at: i)
    }

    /// Slow path for strings with escapes. `start` is just after the opening quote, `firstEscape`
    /// the first backslash; everything before it has been validated. Leaves `pos` after the
    /// closing quote and returns valid UTF-8.
    mutating func decodeEscaped(start: Int, firstEscape: Int, in name: StaticString) throws(WireError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(firstEscape - start + 32)
        out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: firstEscape - start))
        var i = firstEscape
        var runStart = i
        while i < end {
            let b = base[i]
            if b == quote {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
                pos = i + 1
                return out
            }
            if b == backslash {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: i - runStart))
                i = try decodeEscape(at: i, into: &out, in: name)
                runStart = i
                continue
            }
            if b < 0x20 { throw controlCharacter(b, at: i, in: name) }
            i = try b >= 0x80 ? validateUTF8(at: i, in: name) : i + 1
        }
        throw fail("unterminated string in \(quoted(name))", at: start - 1)
    }

    /// Decodes the escape at `i` (a backslash), appends its UTF-8, returns the index after it.
    func decodeEscape(at i: Int, into out: inout [UInt8], in name: StaticString) throws(WireError) -> Int {
        guard i + 1 < end else { throw fail("unterminated string in \(quoted(name))", at: i) }
        switch base[i + 1] {
        case quote: out.append(quote)
        case backslash: out.append(backslash)
        case UInt8(ascii: "/"): out.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4(at: i + 2, escapeAt: i, in: name)
            var scalar = UInt32(unit)
            var next = i + 6
            if unit >= 0xD800 && unit <= 0xDBFF {
                // High surrogate: a \uDC00-\uDFFF low surrogate must follow immediately.
                guard next + 1 < end && base[next] == backslash && base[next + 1] == UInt8(ascii: "u") else {
                    throw fail("lone surrogate \\u\(hex4String(unit)) in \(quoted(name))", at: i)
                }
                let low = try hex4(at: next + 2, escapeAt: next, in: name)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail("lone surrogate \\u\(hex4String(unit)) in \(quoted(name))", at: i)
                }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                next += 6
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw fail("lone surrogate \\u\(hex4String(unit)) in \(quoted(name))", at: i)
            }
            appendUTF8(scalar, to: &out)
            return next
        default:
            throw fail("invalid escape \(escapeDisplay(at: i)) in \(quoted(name))", at: i)
        }
        return i + 2
    }

    func escapeDisplay(at i: Int) -> String {
        let b = base[i + 1]
        if b >= 0x21 && b < 0x7F { return "'\\\(Character(Unicode.Scalar(b)))'" }
        return "'\\' followed by byte 0x\(hex2(b))"
    }

    func hex4(at j: Int, escapeAt: Int, in name: StaticString) throws(WireError) -> UInt16 {
        guard j + 4 <= end else { throw fail("incomplete \\u escape in \(quoted(name))", at: escapeAt) }
        var v: UInt16 = 0
        for k in j..<(j + 4) {
            let c = base[k]
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("\\u must be followed by 4 hex digits in \(quoted(name))", at: escapeAt)
            }
            v = v << 4 | UInt16(d)
        }
        return v
    }
}

@inline(__always)
private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
    switch scalar {
    case 0..<0x80:
        out.append(UInt8(scalar))
    case 0x80..<0x800:
        out.append(UInt8(0xC0 | (scalar >> 6)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    case 0x800..<0x10000:
        out.append(UInt8(0xE0 | (scalar >> 12)))
        out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    default:
        out.append(UInt8(0xF0 | (scalar >> 18)))
        out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
        out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
        out.append(UInt8(0x80 | (scalar & 0x3F)))
    }
}

private let hexDigits: StaticString = "0123456789abcdef"
private let upperHexDigits: StaticString = "0123456789ABCDEF"

private func hex2(_ b: UInt8) -> String {
    let d = upperHexDigits.utf8Start
    return String(decoding: [d[Int(b >> 4)], d[Int(b & 0xF)]], as: UTF8.self)
}

private func hex4String(_ v: UInt16) -> String {
    hex2(UInt8(v >> 8)) + hex2(UInt8(v & 0xFF))
}

// MARK: - Encoding

extension UploadBatch {
    /// Encodes the body: keys in wire order (`kiosk`, `centre`, `events`; per event `seq`, `id`,
    /// `at`, `venue`, `member`, `group`, `direction`, `outcome`, `reason`, `via`, `prev_hash`,
    /// `hash`), no whitespace, `null` for nil. In strings `"` and `\` are backslash-escaped,
    /// control characters (< 0x20) and DEL (0x7F) are written as `\u00xx` (lowercase hex),
    /// all other UTF-8 verbatim. The output is deterministic.
    public func json() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedSizeEstimate())
        WireJSON.append("{\"kiosk\":", to: &out)
        WireJSON.appendString(kiosk, to: &out)
        WireJSON.append(",\"centre\":", to: &out)
        WireJSON.appendString(centre, to: &out)
        WireJSON.append(",\"events\":[", to: &out)
        var first = true
        for event in events {
            if !first { out.append(comma) }
            first = false
            WireJSON.append("{\"seq\":", to: &out)
            WireJSON.appendInt(event.seq, to: &out)
            WireJSON.append(",\"id\":", to: &out)
            WireJSON.appendString(event.id, to: &out)
            WireJSON.append(",\"at\":", to: &out)
            WireJSON.appendString(event.at, to: &out)
            WireJSON.append(",\"venue\":", to: &out)
            WireJSON.appendString(event.venue, to: &out)
            WireJSON.append(",\"member\":", to: &out)
            WireJSON.appendOptional(event.member, to: &out)
            WireJSON.append(",\"group\":", to: &out)
            WireJSON.appendOptional(event.group, to: &out)
            WireJSON.append(",\"direction\":", to: &out)
            WireJSON.appendString(event.direction, to: &out)
            WireJSON.append(",\"outcome\":", to: &out)
            WireJSON.appendString(event.outcome, to: &out)
            WireJSON.append(",\"reason\":", to: &out)
            WireJSON.appendOptional(event.reason, to: &out)
            if let corrects = event.corrects {
                WireJSON.append(",\"corrects\":", to: &out)
                WireJSON.appendInt(corrects, to: &out)
            }
            WireJSON.append(",\"via\":", to: &out)
            WireJSON.appendString(event.via, to: &out)
            WireJSON.append(",\"prev_hash\":", to: &out)
            WireJSON.appendString(event.prevHash, to: &out)
            WireJSON.append(",\"hash\":", to: &out)
            WireJSON.appendString(event.hash, to: &out)
            out.append(closeBrace)
        }
        WireJSON.append("]}", to: &out)
        return out
    }

    /// `json()` wrapped in `Data`.
    #if canImport(FoundationEssentials) || canImport(Foundation)
        public func jsonData() -> Data { Data(json()) }
    #endif

    /// Exact size when no string needs escaping (the usual case), so `json()` never regrows.
    private func encodedSizeEstimate() -> Int {
        // {"kiosk":"","centre":"","events":[]} = 37 bytes
        var size = 40 + kiosk.utf8.count + centre.utf8.count
        for e in events {
            // Keys and punctuation (111 bytes incl. comma), 24 quotes, up to 20 digits of seq.
            size += 155
            size += e.id.utf8.count + e.at.utf8.count + e.venue.utf8.count + e.direction.utf8.count
            size += e.outcome.utf8.count + e.via.utf8.count + e.prevHash.utf8.count + e.hash.utf8.count
            size += (e.member?.utf8.count ?? 2) + (e.group?.utf8.count ?? 2) + (e.reason?.utf8.count ?? 2)
            if e.corrects != nil { size += 32 }
        }
        return size
    }
}

/// Byte-level JSON output helpers shared by the encoder and error messages.
enum WireJSON {
    @inline(__always)
    static func append(_ literal: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    static func appendOptional(_ s: String?, to out: inout [UInt8]) {
        if let s { appendString(s, to: &out) } else { append("null", to: &out) }
    }

    @inline(__always)
    static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped($0, to: &out) }
    }

    /// Appends `"…"` with `"` `\` escaped and bytes < 0x20 and 0x7F as `\u00xx`.
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(quote)
        var runStart = 0
        for i in 0..<bytes.count {
            let b = bytes[i]
            guard b < 0x20 || b == quote || b == backslash || b == 0x7F else { continue }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i])) }
            runStart = i + 1
            if b == quote || b == backslash {
                out.append(backslash)
                out.append(b)
            } else {
                let d = hexDigits.utf8Start
                out.append(contentsOf: [backslash, UInt8(ascii: "u"), 0x30, 0x30, d[Int(b >> 4)], d[Int(b & 0xF)]])
            }
        }
        if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        out.append(quote)
    }

    @inline(__always)
    static func appendInt(_ value: Int64, to out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        withUnsafeMutableBytes(of: &digits) { buf in
            var i = buf.count
            repeat {
                i -= 1
                buf[i] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 0x30
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i...]))
        }
    }
}
