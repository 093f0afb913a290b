import JiayuanDomain
import JiayuanWire
import Testing

/// Runs the parser and returns its error, or nil when the body was accepted.
func parseError(_ body: [UInt8], maxEvents: Int = 10_000) -> WireError? {
    do {
        _ = try UploadBatch(json: body, maxEvents: maxEvents)
        return nil
    } catch {
        return error
    }
}

func parseError(_ body: String, maxEvents: Int = 10_000) -> WireError? {
    parseError(bytes(body), maxEvents: maxEvents)
}

/// Event fields in wire order as raw JSON text, for building bad bodies.
let baseFields: [(String, String)] = [
    ("seq", "1"), ("id", #""3f0c6a1e-7b2d-4c8e-9f10-a1b2c3d4e5f6""#), ("at", #""2026-11-29T02:45:32Z""#),
    ("venue", #""gym""#), ("member", #""M000123""#), ("group", #""elder""#), ("direction", #""in""#),
    ("outcome", #""accepted""#), ("reason", "null"), ("via", #""scan""#),
    ("prev_hash", "\"\(Fixtures.hash0)\""), ("hash", "\"\(Fixtures.hash1)\""),
]

func eventText(set: [String: String] = [:], removing: Set<String> = [], adding: [(String, String)] = []) -> String {
    let fields = baseFields.filter { !removing.contains($0.0) }.map { ($0.0, set[$0.0] ?? $0.1) } + adding
    return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

func bodyText(_ events: [String] = [eventText()]) -> String {
    #"{"kiosk":"K-LOBBY-1","centre":"C-01","events":["# + events.joined(separator: ",") + "]}"
}

/// One rejected body and a fragment its error message must contain.
struct BadBody: Sendable, CustomTestStringConvertible {
    var label: String
    var body: [UInt8]
    var fragment: String
    var maxEvents = 10_000
    var testDescription: String { label }

    init(_ label: String, _ body: String, _ fragment: String, maxEvents: Int = 10_000) {
        self.init(label, bytes(body), fragment, maxEvents: maxEvents)
    }
    init(_ label: String, _ body: [UInt8], _ fragment: String, maxEvents: Int = 10_000) {
        self.label = label
        self.body = body
        self.fragment = fragment
        self.maxEvents = maxEvents
    }
}

/// Replaces the venue value's inner bytes with raw `inner` (for invalid UTF-8 / control bytes).
func bodyWithRawVenue(_ inner: [UInt8]) -> [UInt8] {
    let marker = bytes("VENUE")
    let text = bytes(bodyText([eventText(set: ["venue": "\"VENUE\""])]))
    let i = text.indices.first { text[$0...].starts(with: marker) }!
    return Array(text[..<i]) + inner + Array(text[(i + marker.count)...])
}

let badBodies: [BadBody] = [
    // Structure
    BadBody("empty body", "", "the body is empty"),
    BadBody("whitespace only", " \n\t ", "must be a JSON object"),
    BadBody("array at top level", "[]", "must be a JSON object starting with '{'"),
    BadBody("byte order mark", [0xEF, 0xBB, 0xBF] + bytes(bodyText()), "must be a JSON object"),
    BadBody("data after the object", bodyText() + " x", "unexpected data after the end of the JSON object"),
    BadBody("second object after the first", bodyText() + "{}", "unexpected data after the end"),
    BadBody("missing colon", #"{"kiosk" "K","centre":"C","events":[]}"#, "expected ':' after the field name \"kiosk\""),
    BadBody("missing comma", #"{"kiosk":"K" "centre":"C","events":[]}"#, "expected ',' or '}' after the value of \"kiosk\""),
    BadBody("trailing comma in object", #"{"kiosk":"K","centre":"C","events":[],}"#, "expected a field name in double quotes"),
    BadBody("trailing comma in events", bodyText([eventText(), ""]), "event 2: each event must be an object, found ']'"),
    BadBody("unquoted key", #"{kiosk:"K","centre":"C","events":[]}"#, "expected a field name in double quotes"),
    BadBody("unterminated string", #"{"kiosk":"K"#, "unterminated string in \"kiosk\""),
    BadBody("unterminated key", #"{"kio"#, "unterminated field name"),
    BadBody("garbage after event", bodyText([eventText() + " 7"]), "expected ',' or ']' after the event"),
    // Fields
    BadBody("unknown event field", bodyText([eventText(adding: [("colour", #""red""#)])]), "event 1: unknown field \"colour\""),
    BadBody("unknown top-level field", #"{"kiosk":"K","centre":"C","events":[],"x":1}"#, "unknown field \"x\""),
    BadBody("unknown non-ASCII field", #"{"kiosk":"K","场地":"C"}"#, "unknown field \"场地\""),
    BadBody("unknown escaped field", #"{"kiosk":"K","\u0078":"C"}"#, "unknown field \"x\""),
    BadBody("missing via", bodyText([eventText(), eventText(removing: ["via"])]), "event 2: missing field \"via\""),
    BadBody("missing nullable member", bodyText([eventText(removing: ["member"])]), "missing field \"member\""),
    BadBody("missing reason", bodyText([eventText(removing: ["reason"])]), "missing field \"reason\""),
    BadBody("empty event", bodyText(["{}"]), "event 1: missing field \"seq\""),
    BadBody("missing events", #"{"kiosk":"K","centre":"C"}"#, "missing field \"events\""),
    BadBody("missing kiosk", #"{"centre":"C","events":[]}"#, "missing field \"kiosk\""),
    BadBody("empty top object", "{}", "missing field \"kiosk\""),
    BadBody("duplicate venue", bodyText([eventText(adding: [("venue", #""pool""#)])]), "event 1: duplicate field \"venue\""),
    BadBody("duplicate via spelled with an escape", bodyText([eventText(adding: [(#"\u0076ia"#, #""scan""#)])]), "duplicate field \"via\""),
    BadBody("duplicate kiosk", #"{"kiosk":"K","kiosk":"K","centre":"C","events":[]}"#, "duplicate field \"kiosk\""),
    BadBody("duplicate events", #"{"kiosk":"K","centre":"C","events":[],"events":[]}"#, "duplicate field \"events\""),
    // seq
    BadBody("seq fraction", bodyText([eventText(set: ["seq": "1.5"])]), "event 1: \"seq\" must be a whole number"),
    BadBody("seq .0", bodyText([eventText(set: ["seq": "1.0"])]), "\"seq\" must be a whole number"),
    BadBody("seq exponent", bodyText([eventText(set: ["seq": "1e3"])]), "\"seq\" must be a whole number"),
    BadBody("seq Exponent", bodyText([eventText(set: ["seq": "1E+3"])]), "\"seq\" must be a whole number"),
    BadBody("seq leading zero", bodyText([eventText(set: ["seq": "01"])]), "\"seq\" must not have leading zeros"),
    BadBody("seq zero", bodyText([eventText(set: ["seq": "0"])]), "\"seq\" must be between 1 and 9223372036854775807"),
    BadBody("seq negative", bodyText([eventText(set: ["seq": "-1"])]), "\"seq\" must be between 1 and 9223372036854775807"),
    BadBody("seq Int64.max + 1", bodyText([eventText(set: ["seq": "9223372036854775808"])]), "must be between 1 and"),
    BadBody("seq huge", bodyText([eventText(set: ["seq": "99999999999999999999999999"])]), "must be between 1 and"),
    BadBody("seq as string", bodyText([eventText(set: ["seq": #""1""#])]), "\"seq\" must be a whole number, found a string"),
    BadBody("seq null", bodyText([eventText(set: ["seq": "null"])]), "\"seq\" must be a whole number, found null"),
    BadBody("seq plus sign", bodyText([eventText(set: ["seq": "+1"])]), "\"seq\" must be a whole number"),
    BadBody("seq lone minus", bodyText([eventText(set: ["seq": "-"])]), "\"seq\" must be a whole number"),
    BadBody("seq true", bodyText([eventText(set: ["seq": "true"])]), "found true"),
    // Value types
    BadBody("venue number", bodyText([eventText(set: ["venue": "5"])]), "\"venue\" must be a string, found a number"),
    BadBody("venue null", bodyText([eventText(set: ["venue": "null"])]), "\"venue\" must be a string, found null"),
    BadBody("venue object", bodyText([eventText(set: ["venue": #"{"a":1}"#])]), "\"venue\" must be a string, found an object"),
    BadBody("venue array", bodyText([eventText(set: ["venue": #"["gym"]"#])]), "\"venue\" must be a string, found an array"),
    BadBody("venue boolean", bodyText([eventText(set: ["venue": "false"])]), "\"venue\" must be a string, found false"),
    BadBody("member number", bodyText([eventText(set: ["member": "5"])]), "\"member\" must be a string or null, found a number"),
    BadBody("group object", bodyText([eventText(set: ["group": "{}"])]), "\"group\" must be a string or null, found an object"),
    BadBody("reason misspelt null", bodyText([eventText(set: ["reason": "nul"])]), "\"reason\" must be a string or null, found 'n'"),
    BadBody(
        "reason null followed by junk", bodyText([eventText(set: ["reason": "nullx"])]), "expected ',' or '}' after the value of \"reason\""
    ),
    BadBody("kiosk null", #"{"kiosk":null,"centre":"C","events":[]}"#, "\"kiosk\" must be a string, found null"),
    BadBody("centre number", #"{"kiosk":"K","centre":1,"events":[]}"#, "\"centre\" must be a string, found a number"),
    BadBody("events object", #"{"kiosk":"K","centre":"C","events":{}}"#, "\"events\" must be an array, found an object"),
    BadBody("events null", #"{"kiosk":"K","centre":"C","events":null}"#, "\"events\" must be an array, found null"),
    BadBody("event is a number", bodyText(["1"]), "event 1: each event must be an object, found a number"),
    BadBody("event is null", bodyText([eventText(), "null"]), "event 2: each event must be an object, found null"),
    BadBody("nested array event", bodyText(["[" + eventText() + "]"]), "each event must be an object, found an array"),
    // Strings
    BadBody("invalid escape", bodyText([eventText(set: ["venue": #""g\qm""#])]), "invalid escape '\\q' in \"venue\""),
    BadBody("escaped single quote", bodyText([eventText(set: ["venue": #""\'""#])]), "invalid escape"),
    BadBody("lone high surrogate", bodyText([eventText(set: ["venue": #""\ud800""#])]), "lone surrogate \\uD800 in \"venue\""),
    BadBody("lone low surrogate", bodyText([eventText(set: ["venue": #""\uDC00x""#])]), "lone surrogate \\uDC00"),
    BadBody("high surrogate then letter", bodyText([eventText(set: ["venue": #""\uD83D\u0041""#])]), "lone surrogate \\uD83D"),
    BadBody("high surrogate then high surrogate", bodyText([eventText(set: ["venue": #""\uD83D\uD83D""#])]), "lone surrogate"),
    BadBody("bad hex digit", bodyText([eventText(set: ["venue": #""\u12G4""#])]), "\\u must be followed by 4 hex digits"),
    BadBody("short \\u escape", #"{"kiosk":"\u12"#, "incomplete \\u escape"),
    BadBody(
        "raw tab in string", bodyText([eventText(set: ["venue": "\"a\tb\""])]), "control character U+0009 must be escaped in \"venue\""),
    BadBody("raw newline in string", bodyText([eventText(set: ["id": "\"a\nb\""])]), "control character U+000A must be escaped in \"id\""),
    BadBody("raw NUL in string", bodyWithRawVenue([0x61, 0x00]), "control character U+0000"),
    BadBody("raw control char after an escape", bodyText([eventText(set: ["venue": "\"\\n\u{1}\""])]), "control character U+0001"),
    BadBody("raw control char in a key", "{\"ki\u{2}osk\":\"K\"}", "control character U+0002 must be escaped in a field name"),
    BadBody("invalid UTF-8 byte 0xFF", bodyWithRawVenue([0x61, 0xFF]), "invalid UTF-8 in \"venue\""),
    BadBody("lone continuation byte", bodyWithRawVenue([0x80]), "invalid UTF-8"),
    BadBody("overlong encoding", bodyWithRawVenue([0xC0, 0x80]), "invalid UTF-8"),
    BadBody("overlong 3-byte", bodyWithRawVenue([0xE0, 0x80, 0x80]), "invalid UTF-8"),
    BadBody("UTF-8 encoded surrogate", bodyWithRawVenue([0xED, 0xA0, 0x80]), "invalid UTF-8"),
    BadBody("above U+10FFFF", bodyWithRawVenue([0xF4, 0x90, 0x80, 0x80]), "invalid UTF-8"),
    BadBody("truncated sequence", bodyWithRawVenue([0xE6, 0xB4]), "invalid UTF-8"),
    BadBody("invalid UTF-8 after an escape", bodyWithRawVenue([0x5C, 0x6E, 0xFE]), "invalid UTF-8"),
    BadBody("invalid UTF-8 in a key", [0x7B, 0x22, 0xE6, 0x22, 0x3A, 0x31, 0x7D], "invalid UTF-8 in a field name"),
    // Limits
    BadBody(
        "too many events", bodyText([eventText(), eventText(), eventText()]), "too many events (at most 2 per batch) (at byte", maxEvents: 2
    ),
    BadBody("no events allowed", bodyText([eventText()]), "too many events", maxEvents: 0),
]

@Suite("Upload batch rejects bad bodies")
struct ErrorTests {
    @Test("each bad body is rejected with the expected message", arguments: badBodies)
    func rejects(_ bad: BadBody) throws {
        let error = try #require(parseError(bad.body, maxEvents: bad.maxEvents), "accepted: \(bad.label)")
        #expect(error.message.contains(bad.fragment), "\(bad.label): got \(error.message)")
        #expect(error.message.hasSuffix(")") && error.message.contains("(at byte "), "\(error.message)")
        #expect(error.description == error.message)
    }

    @Test("message names the event number and the byte offset of the bad value")
    func messageShape() throws {
        let body = bodyText([eventText(), eventText(), eventText(set: ["seq": "3.25"])])
        let utf8 = Array(body.utf8)
        let at = utf8.indices.first { utf8[$0...].starts(with: bytes("3.25")) }!
        let error = try #require(parseError(body))
        #expect(error.message == "event 3: \"seq\" must be a whole number (at byte \(at))")
    }

    @Test("unknown field offset points at the field name")
    func unknownFieldOffset() throws {
        let body = #"{"kiosk":"K", "bogus":1}"#
        let error = try #require(parseError(body))
        #expect(error.message == "unknown field \"bogus\" (at byte 14)")
    }

    @Test("long unknown field names are shortened in the message")
    func longUnknownField() throws {
        let name = String(repeating: "x", count: 500)
        let error = try #require(parseError("{\"\(name)\":1}"))
        #expect(error.message.count < 120)
        #expect(error.message.contains("…"))
    }

    @Test("exactly maxEvents events are accepted")
    func exactlyMax() throws {
        let body = bytes(bodyText([eventText(), eventText()]))
        #expect(parseError(body, maxEvents: 2) == nil)
        #expect(parseError(body, maxEvents: 1) != nil)
    }

    @Test("the default limit is 10,000 events")
    func defaultLimit() throws {
        let one = Fixtures.event()
        let ok = UploadBatch(kiosk: "K", centre: "C", events: Array(repeating: one, count: 10_000))
        #expect(try UploadBatch(json: ok.json()).events.count == 10_000)
        let tooMany = UploadBatch(kiosk: "K", centre: "C", events: Array(repeating: one, count: 10_001))
        let error = try #require(parseError(tooMany.json()))
        #expect(error.message.contains("too many events"))
        #expect(error.kind == .tooManyEvents(limit: 10_000))
        #expect(try #require(parseError(Array("{".utf8))).kind == .malformed)
    }

    @Test("truncating a small batch at every byte offset throws, never crashes")
    func everyTruncation() throws {
        var event = Fixtures.event()
        event.venue = "活动室 \"A\" \\ \u{1}😀"
        event.reason = "人数已满"
        let full = UploadBatch(kiosk: "K-LOBBY-1", centre: "C-01", events: [event, Fixtures.event(seq: 2)]).json()
        #expect(parseError(full) == nil)
        for n in 0..<full.count {
            // Copy so the buffer really ends at the cut (no bytes beyond it to read by mistake).
            let prefix = Array(full[..<n])
            #expect(parseError(prefix) != nil, "prefix of \(n) bytes was accepted")
        }
    }

    @Test("random byte corruption is either accepted or rejected with a WireError, never a crash")
    func randomCorruption() throws {
        var rng = SeededGenerator(seed: 0xC0_FFEE)
        let full = Fixtures.randomBatch(&rng, maxEvents: 3).json()
        let interesting: [UInt8] =
            Array(#"{}[]",:\u0123456789-+.eEnulltrfase "#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE6, 0xED, 0xF0, 0xFF]
        for _ in 0..<3_000 {
            var mutated = full
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let i = Int(rng.next() % UInt64(mutated.count))
                switch rng.next() % 3 {
                case 0: mutated[i] = interesting[Int(rng.next() % UInt64(interesting.count))]
                case 1: mutated.remove(at: i)
                default: mutated.insert(interesting[Int(rng.next() % UInt64(interesting.count))], at: i)
                }
            }
            if let error = parseError(mutated) {
                #expect(error.message.contains("(at byte "))
            }
        }
    }
}
