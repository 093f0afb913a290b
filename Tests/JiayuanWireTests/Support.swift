import JiayuanDomain
import JiayuanWire

/// Deterministic generator so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Fixtures {
    static let hash0 = String(repeating: "0", count: 64)
    static let hash1 = "3b7e1f0c9a2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f"

    static func event(seq: Int64 = 1) -> WireEvent {
        WireEvent(
            seq: seq, id: "3f0c6a1e-7b2d-4c8e-9f10-a1b2c3d4e5f6", at: "2026-11-29T02:45:32Z", venue: "gym",
            member: "M000123", group: "elder", direction: "in", outcome: "accepted", reason: nil, via: "scan",
            prevHash: hash0, hash: hash1)
    }

    static func batch(_ count: Int = 2) -> UploadBatch {
        UploadBatch(kiosk: "K-LOBBY-1", centre: "C-01", events: (0..<count).map { event(seq: Int64($0 + 1)) })
    }

    /// Pieces random strings are made of: ASCII, Chinese, emoji (surrogate pairs when \u-escaped),
    /// quotes, backslashes, slashes and every control character including DEL.
    static let pieces: [String] =
        [
            "a", "Z", "0", " ", "gym", "活动室", "乒乓球", "长者", "中", "é", "😀", "𠀋", "\"", "\\", "/", "\u{7F}", "\u{0}",
        ] + (0..<32).map { String(UnicodeScalar(UInt8($0))) }

    static func randomString(_ rng: inout SeededGenerator, maxPieces: Int = 8) -> String {
        let n = Int(rng.next() % UInt64(maxPieces + 1))
        var s = ""
        for _ in 0..<n { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
        return s
    }

    static func randomOptional(_ rng: inout SeededGenerator) -> String? {
        rng.next() % 3 == 0 ? nil : randomString(&rng)
    }

    static func randomEvent(_ rng: inout SeededGenerator) -> WireEvent {
        let seq: Int64 =
            switch rng.next() % 4 {
            case 0: 1
            case 1: Int64.max
            default: Int64(rng.next() % UInt64(Int64.max)) + 1
            }
        return WireEvent(
            seq: seq, id: randomString(&rng), at: randomString(&rng), venue: randomString(&rng),
            member: randomOptional(&rng), group: randomOptional(&rng), direction: randomString(&rng),
            outcome: randomString(&rng), reason: randomOptional(&rng), via: randomString(&rng),
            prevHash: randomString(&rng), hash: randomString(&rng))
    }

    static func randomBatch(_ rng: inout SeededGenerator, maxEvents: Int = 20) -> UploadBatch {
        let n = Int(rng.next() % UInt64(maxEvents + 1))
        return UploadBatch(
            kiosk: randomString(&rng), centre: randomString(&rng), events: (0..<n).map { _ in randomEvent(&rng) })
    }
}

/// An alternative JSON writer for tests: shuffled keys, random whitespace, and random (valid)
/// escape spellings — \uXXXX for any scalar (surrogate pairs above U+FFFF), \/ for '/', short escapes.
struct ScrambledWriter {
    var rng: SeededGenerator
    var out = ""

    mutating func ws() {
        let n = Int(rng.next() % 3)
        for _ in 0..<n { out += [" ", "\t", "\n", "\r"][Int(rng.next() % 4)] }
    }

    mutating func hex4(_ v: UInt32) -> String {
        let s = String(v, radix: 16, uppercase: rng.next() % 2 == 0)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    mutating func string(_ s: String) {
        out += "\""
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let forceU = rng.next() % 4 == 0
            if forceU || v < 0x20 {
                if v >= 0x10000 {
                    let u = v - 0x10000
                    out += "\\u" + hex4(0xD800 + (u >> 10)) + "\\u" + hex4(0xDC00 + (u & 0x3FF))
                } else if !forceU, let short = ["\u{8}": "\\b", "\u{C}": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"][String(scalar)] {
                    out += short
                } else {
                    out += "\\u" + hex4(v)
                }
            } else if scalar == "\"" {
                out += "\\\""
            } else if scalar == "\\" {
                out += "\\\\"
            } else if scalar == "/" && rng.next() % 2 == 0 {
                out += "\\/"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    mutating func object(_ fields: [(String, (inout ScrambledWriter) -> Void)]) {
        var fields = fields
        fields.shuffle(using: &rng)
        out += "{"
        ws()
        for (i, (key, value)) in fields.enumerated() {
            if i > 0 { out += ","; ws() }
            string(key)
            ws(); out += ":"; ws()
            value(&self)
            ws()
        }
        out += "}"
    }

    mutating func optional(_ s: String?) {
        if let s { string(s) } else { out += "null" }
    }

    mutating func batch(_ b: UploadBatch) {
        ws()
        object([
            ("kiosk", { $0.string(b.kiosk) }),
            ("centre", { $0.string(b.centre) }),
            (
                "events",
                { w in
                    w.out += "["
                    w.ws()
                    for (i, e) in b.events.enumerated() {
                        if i > 0 { w.out += ","; w.ws() }
                        w.event(e)
                        w.ws()
                    }
                    w.out += "]"
                }
            ),
        ])
        ws()
    }

    mutating func event(_ e: WireEvent) {
        object([
            ("seq", { $0.out += String(e.seq) }),
            ("id", { $0.string(e.id) }),
            ("at", { $0.string(e.at) }),
            ("venue", { $0.string(e.venue) }),
            ("member", { $0.optional(e.member) }),
            ("group", { $0.optional(e.group) }),
            ("direction", { $0.string(e.direction) }),
            ("outcome", { $0.string(e.outcome) }),
            ("reason", { $0.optional(e.reason) }),
            ("via", { $0.string(e.via) }),
            ("prev_hash", { $0.string(e.prevHash) }),
            ("hash", { $0.string(e.hash) }),
        ])
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
