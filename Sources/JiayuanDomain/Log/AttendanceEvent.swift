import Crypto
import Foundation

/// One row of the append-only attendance log (DESIGN.md §3.5).
public struct AttendanceEvent: Hashable, Sendable {
    /// Position in this kiosk's log, from 1, without gaps.
    public var seq: Int64
    /// A UUID, lower case.
    public var id: String
    /// UTC, whole seconds.
    public var at: Date
    public var venue: String
    public var member: MemberID?
    public var group: MemberGroup?
    public var direction: Direction
    public var outcome: Outcome
    public var reason: DenialReason?
    public var via: Via
    /// For a correction (`outcome` void): the seq of the accepted check-in it voids. Nil for every other
    /// event, and then absent from the canonical JSON, so logs written before corrections existed keep
    /// their hashes.
    public var corrects: Int64?
    /// The previous event's hash (64 zeros for the first event).
    public var prevHash: String
    public var hash: String

    /// The `prev_hash` of the first event.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// Creates an event; `hash` nil computes it (a new event), a value keeps it (an event read back).
    public init(
        seq: Int64, id: String, at: Date, venue: String, member: MemberID?, group: MemberGroup?,
        direction: Direction, outcome: Outcome, reason: DenialReason?, via: Via, prevHash: String,
        corrects: Int64? = nil, hash: String? = nil
    ) {
        self.seq = seq
        self.id = id
        self.at = Date(timeIntervalSince1970: at.timeIntervalSince1970.rounded(.down))
        self.venue = venue
        self.member = member
        self.group = group
        self.direction = direction
        self.outcome = outcome
        self.reason = reason
        self.via = via
        self.corrects = corrects
        self.prevHash = prevHash
        self.hash = ""
        self.hash = hash ?? computedHash
    }

    /// The canonical JSON of the event: keys sorted, no white space, no `prev_hash`/`hash`.
    /// `{"at":"…","direction":"in","group":"elder","id":"…","member":"M000123","outcome":"accepted","reason":null,"seq":42,"venue":"gym","via":"scan"}`
    /// A correction has one more key, `"corrects":SEQ`, after `at`; other events never carry it.
    public var canonicalJSON: String {
        var w = JSONWriter()
        w.object { o in
            o.field("at", ISOTime.format(at))
            if let corrects { o.field("corrects", corrects) }
            o.field("direction", direction.rawValue)
            o.field("group", group?.rawValue)
            o.field("id", id)
            o.field("member", member?.description)
            o.field("outcome", outcome.rawValue)
            o.field("reason", reason?.rawValue)
            o.field("seq", seq)
            o.field("venue", venue)
            o.field("via", via.rawValue)
        }
        return w.output
    }

    /// `hash` = lower-case hex SHA-256 of the ASCII `prev_hash` followed by the canonical JSON (UTF-8).
    public var computedHash: String {
        var hasher = SHA256()
        hasher.update(data: Array(prevHash.utf8))
        hasher.update(data: Array(canonicalJSON.utf8))
        return hasher.finalize().hexString
    }
}

extension Sequence where Element == UInt8 {
    /// Lower-case hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension SHA256.Digest {
    /// Lower-case hexadecimal.
    public var hexString: String { Array(self).hexString }
}

/// Checks a run of events as a chain.
public enum ChainCheck {
    /// What is wrong with an event of the chain.
    public enum Problem: Hashable, Sendable {
        case gap(expected: Int64, found: Int64)
        case wrongPrevHash(seq: Int64)
        case wrongHash(seq: Int64)

        /// The seq of the first broken event.
        public var seq: Int64 {
            switch self {
            case .gap(_, let found): found
            case .wrongPrevHash(let s), .wrongHash(let s): s
            }
        }
    }

    /// Verifies `event` follows an event with `previousSeq`/`previousHash`.
    public static func check(_ event: AttendanceEvent, previousSeq: Int64, previousHash: String) -> Problem? {
        if event.seq != previousSeq + 1 { return .gap(expected: previousSeq + 1, found: event.seq) }
        if event.prevHash != previousHash { return .wrongPrevHash(seq: event.seq) }
        if event.hash != event.computedHash { return .wrongHash(seq: event.seq) }
        return nil
    }
}
