import JiayuanDomain
import JiayuanWire
import Testing

@Suite("Upload batch encode/parse round trip")
struct RoundTripTests {
    @Test("the documented example body parses to the expected values")
    func documentedExample() throws {
        let body = """
            {"kiosk":"K-LOBBY-1","centre":"C-01","events":[{"seq":1,"id":"3f0c6a1e-7b2d-4c8e-9f10-a1b2c3d4e5f6",\
            "at":"2026-11-29T02:45:32Z","venue":"gym","member":"M000123","group":"elder","direction":"in",\
            "outcome":"accepted","reason":null,"via":"scan","prev_hash":"\(Fixtures.hash0)","hash":"\(Fixtures.hash1)"}]}
            """
        let batch = try UploadBatch(json: bytes(body))
        #expect(batch == Fixtures.batch(1))
        #expect(batch.json() == bytes(body))
    }

    @Test("encoder writes keys in wire order without whitespace and null for nil")
    func encoderLayout() {
        var event = Fixtures.event()
        event.member = nil
        event.group = nil
        event.reason = "card_revoked"
        let text = String(decoding: UploadBatch(kiosk: "K", centre: "C", events: [event]).json(), as: UTF8.self)
        #expect(
            text == """
                {"kiosk":"K","centre":"C","events":[{"seq":1,"id":"3f0c6a1e-7b2d-4c8e-9f10-a1b2c3d4e5f6",\
                "at":"2026-11-29T02:45:32Z","venue":"gym","member":null,"group":null,"direction":"in",\
                "outcome":"accepted","reason":"card_revoked","via":"scan","prev_hash":"\(Fixtures.hash0)",\
                "hash":"\(Fixtures.hash1)"}]}
                """)
    }

    @Test("encoder escapes quote, backslash, control characters and DEL; other UTF-8 verbatim")
    func encoderEscaping() {
        let batch = UploadBatch(kiosk: "a\"b\\c\u{0}\u{1F}\n\u{7F}/活动室😀", centre: "", events: [])
        let text = String(decoding: batch.json(), as: UTF8.self)
        #expect(text == #"{"kiosk":"a\"b\\c\u0000\u001f\u000a\u007f/活动室😀","centre":"","events":[]}"#)
    }

    @Test("\"corrects\" is optional: a positive whole number or null, at most once")
    func correctsField() throws {
        func body(_ extra: String) -> [UInt8] {
            bytes(
                """
                {"kiosk":"K","centre":"C","events":[{"seq":2,"id":"i","at":"2026-11-29T02:45:32Z","venue":"gym","member":null,\
                "group":null,"direction":"in","outcome":"void","reason":null,"via":"staff","prev_hash":"\(Fixtures.hash0)",\
                "hash":"\(Fixtures.hash1)"\(extra)}]}
                """)
        }
        #expect(try UploadBatch(json: body(#","corrects":1"#)).events[0].corrects == 1)
        #expect(try UploadBatch(json: body("")).events[0].corrects == nil)
        #expect(try UploadBatch(json: body(#","corrects":null"#)).events[0].corrects == nil)
        for bad in [#","corrects":0"#, #","corrects":-1"#, #","corrects":"1""#, #","corrects":1.5"#, #","corrects":1,"corrects":1"#] {
            #expect(throws: WireError.self, "\(bad)") { try UploadBatch(json: body(bad)) }
        }
    }

    @Test("an empty events array round-trips")
    func emptyEvents() throws {
        let batch = UploadBatch(kiosk: "K", centre: "C", events: [])
        #expect(try UploadBatch(json: batch.json()) == batch)
        #expect(try UploadBatch(json: bytes(#" { "events" : [ ] , "centre":"C","kiosk":"K" } "#)) == batch)
    }

    @Test("random events (Chinese, emoji, quotes, backslashes, control chars) survive encode → parse")
    func randomRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x5EED_0001)
        for _ in 0..<300 {
            let batch = Fixtures.randomBatch(&rng)
            let decoded = try UploadBatch(json: batch.json())
            #expect(decoded == batch)
        }
    }

    @Test("shuffled keys, whitespace everywhere and alternative escape spellings parse to the same batch")
    func scrambledRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x5EED_0002)
        for round in 0..<300 {
            let batch = Fixtures.randomBatch(&rng, maxEvents: 6)
            var writer = ScrambledWriter(rng: SeededGenerator(seed: UInt64(round)))
            writer.batch(batch)
            let decoded = try UploadBatch(json: bytes(writer.out))
            #expect(decoded == batch, "round \(round): \(writer.out)")
        }
    }

    @Test("JSON escapes decode to proper UTF-8, including surrogate pairs")
    func escapesDecode() throws {
        let body = #"{"kiosk":"\"\\\/\b\f\n\r\t\u0041\u00e9\u6D3B\uD83D\uDE00\u0000","centre":"C","events":[]}"#
        let batch = try UploadBatch(json: bytes(body))
        #expect(batch.kiosk == "\"\\/\u{8}\u{C}\n\r\tAé活😀\u{0}")
        #expect(Array(batch.kiosk.utf8).suffix(5) == [0xF0, 0x9F, 0x98, 0x80, 0x00])
    }

    @Test("escaped field names are recognised")
    func escapedKeys() throws {
        let body = #"{"\u006biosk":"K","cen\u0074re":"C","\u0065vents":[]}"#
        #expect(try UploadBatch(json: bytes(body)) == UploadBatch(kiosk: "K", centre: "C", events: []))
    }

    @Test("seq accepts 1 and Int64.max")
    func seqBounds() throws {
        let batch = UploadBatch(kiosk: "K", centre: "C", events: [Fixtures.event(seq: 1), Fixtures.event(seq: .max)])
        let text = String(decoding: batch.json(), as: UTF8.self)
        #expect(text.contains(#""seq":9223372036854775807,"#))
        #expect(try UploadBatch(json: batch.json()) == batch)
    }

    @Test("raw-buffer and exactly-maxEvents inputs are accepted")
    func otherEntryPoints() throws {
        let batch = Fixtures.batch(3)
        let body = batch.json()
        let viaRaw = try body.withUnsafeBytes { raw in try UploadBatch(json: raw, maxEvents: 3) }
        #expect(viaRaw == batch)
    }
}
