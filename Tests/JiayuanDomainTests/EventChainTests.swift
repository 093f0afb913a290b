import Foundation
import JiayuanTestSupport
import Testing

@testable import JiayuanDomain

@Suite("Attendance log chain (DESIGN.md §3.5)", .blocking)
struct EventChainTests {
    static func event(_ seq: Int64, prev: String) -> AttendanceEvent {
        AttendanceEvent(
            seq: seq, id: "00000000-0000-4000-8000-00000000000\(seq)", at: Fixtures.at("2026-11-28 08:05"), venue: "gym",
            member: MemberID("M000123"), group: .elder, direction: .in, outcome: .accepted, reason: nil, via: .scan, prevHash: prev)
    }

    @Test("canonical JSON: sorted keys, no white space, nulls written, UTC time")
    func canonical() {
        let e = Self.event(42, prev: AttendanceEvent.genesisHash)
        #expect(
            e.canonicalJSON
                == #"{"at":"2026-11-28T00:05:00Z","direction":"in","group":"elder","id":"00000000-0000-4000-8000-0000000000042","member":"M000123","outcome":"accepted","reason":null,"seq":42,"venue":"gym","via":"scan"}"#
        )
    }

    @Test("a correction's canonical JSON has \"corrects\" after \"at\"; no other event has the key, so old hashes stand")
    func correctionCanonical() {
        let visit = Self.event(41, prev: AttendanceEvent.genesisHash)
        let void = AttendanceEvent(
            seq: 42, id: "00000000-0000-4000-8000-0000000000042", at: Fixtures.at("2026-11-28 08:05"), venue: "gym",
            member: MemberID("M000123"), group: .elder, direction: .in, outcome: .void, reason: nil, via: .staff, prevHash: visit.hash,
            corrects: 41)
        #expect(
            void.canonicalJSON
                == #"{"at":"2026-11-28T00:05:00Z","corrects":41,"direction":"in","group":"elder","id":"00000000-0000-4000-8000-0000000000042","member":"M000123","outcome":"void","reason":null,"seq":42,"venue":"gym","via":"staff"}"#
        )
        #expect(!visit.canonicalJSON.contains("corrects"))
        #expect(ChainCheck.check(void, previousSeq: 41, previousHash: visit.hash) == nil)
    }

    @Test("hash is SHA-256 of prev_hash then the canonical JSON, lower-case hex")
    func hash() throws {
        let e = Self.event(1, prev: AttendanceEvent.genesisHash)
        // Reference computed independently with: printf '%s%s' "$prev" "$json" | sha256sum
        let input = Data((AttendanceEvent.genesisHash + e.canonicalJSON).utf8)
        let path = NSTemporaryDirectory() + "/chain-\(UUID().uuidString)"
        try input.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Run.program("/usr/bin/sha256sum", [path])
        #expect(result.stdout.hasPrefix(e.hash))
        #expect(e.hash.count == 64)
    }

    @Test("chain check names the first broken link")
    func chain() {
        let a = Self.event(1, prev: AttendanceEvent.genesisHash)
        let b = Self.event(2, prev: a.hash)
        #expect(ChainCheck.check(a, previousSeq: 0, previousHash: AttendanceEvent.genesisHash) == nil)
        #expect(ChainCheck.check(b, previousSeq: 1, previousHash: a.hash) == nil)
        var tampered = b
        tampered.venue = "library"
        #expect(ChainCheck.check(tampered, previousSeq: 1, previousHash: a.hash) == .wrongHash(seq: 2))
        #expect(ChainCheck.check(b, previousSeq: 1, previousHash: AttendanceEvent.genesisHash) == .wrongPrevHash(seq: 2))
        #expect(ChainCheck.check(Self.event(3, prev: a.hash), previousSeq: 1, previousHash: a.hash) == .gap(expected: 2, found: 3))
    }

    @Test("strings are escaped one fixed way")
    func escaping() {
        var out = ""
        JSONWriter.appendString("a\"b\\c\n\u{1}王", to: &out)
        #expect(out == #""a\"b\\c\u000a\u0001王""#)
    }

    @Test("ISO times parse with and without a zone")
    func isoTimes() {
        #expect(ISOTime.parse("2026-11-28T08:05:00+08:00", defaultZone: Fixtures.shanghai) == Fixtures.at("2026-11-28 08:05"))
        #expect(ISOTime.parse("2026-11-28T00:05:00Z", defaultZone: Fixtures.shanghai) == Fixtures.at("2026-11-28 08:05"))
        #expect(ISOTime.parse("2026-11-28T08:05", defaultZone: Fixtures.shanghai) == Fixtures.at("2026-11-28 08:05"))
        #expect(ISOTime.parse("2026-02-30T08:05", defaultZone: Fixtures.shanghai) == nil)
        #expect(ISOTime.parse("yesterday", defaultZone: Fixtures.shanghai) == nil)
        #expect(ISOTime.format(Fixtures.at("2026-11-28 08:05")) == "2026-11-28T00:05:00Z")
    }
}
