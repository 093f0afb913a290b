import Crypto
import Foundation
import JiayuanDomain

// The kiosk → hub upload protocol (DESIGN.md §3.5): what travels, how the hub decides, how the kiosk
// retries. Pure: no I/O, no clock, no randomness of its own.

extension WireEvent {
    /// The wire form of a log event (member id and group, never a name or a phone).
    public init(_ e: AttendanceEvent) {
        self.init(
            seq: e.seq, id: e.id, at: ISOTime.format(e.at), venue: e.venue, member: e.member?.description,
            group: e.group?.rawValue, direction: e.direction.rawValue, outcome: e.outcome.rawValue,
            reason: e.reason?.rawValue, via: e.via.rawValue, prevHash: e.prevHash, hash: e.hash, corrects: e.corrects)
    }
}

extension WireEvent {
    /// Checks, byte by byte and without building dates, that every value is one the kiosk can write, in
    /// its one spelling (so the hash the hub recomputes is over exactly the bytes the kiosk hashed).
    public func validate() throws(WireError) {
        func bad(_ field: String, _ value: String?) -> WireError {
            WireError(message: "event seq \(seq): \"\(field)\" has an unknown value \(value.map { "\"\($0)\"" } ?? "null")")
        }
        guard Self.isUTCStamp(at) else {
            throw WireError(message: "event seq \(seq): \"at\" must be a UTC time like 2026-11-29T02:45:32Z, not \"\(at)\"")
        }
        if let m = member {
            let u = m.utf8
            guard u.count == 7, u.first == UInt8(ascii: "M"), u.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), m != "M000000" else {
                throw bad("member", m)
            }
        }
        if let g = group, MemberGroup(rawValue: g) == nil { throw bad("group", g) }
        guard Direction(rawValue: direction) != nil else { throw bad("direction", direction) }
        guard Outcome(rawValue: outcome) != nil else { throw bad("outcome", outcome) }
        if let r = reason, DenialReason(rawValue: r) == nil { throw bad("reason", r) }
        guard Via(rawValue: via) != nil else { throw bad("via", via) }
        // A correction names an earlier accepted check-in; only a correction names one.
        if outcome == Outcome.void.rawValue {
            guard let corrects, corrects < seq else {
                throw WireError(message: "event seq \(seq): a correction (\"outcome\":\"void\") must name an earlier seq in \"corrects\"")
            }
            guard direction == Direction.in.rawValue, reason == nil, via == Via.staff.rawValue else {
                throw WireError(message: "event seq \(seq): a correction must be \"direction\":\"in\", \"reason\":null, \"via\":\"staff\"")
            }
        } else if corrects != nil {
            throw WireError(message: "event seq \(seq): only a correction (\"outcome\":\"void\") may carry \"corrects\"")
        }
        guard AttendanceEvent.isHash(prevHash) else { throw bad("prev_hash", prevHash) }
        guard AttendanceEvent.isHash(hash) else { throw bad("hash", hash) }
        guard !id.isEmpty, id.utf8.count <= 64 else { throw bad("id", id) }
        guard !venue.isEmpty, venue.utf8.count <= 64 else { throw bad("venue", venue) }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` naming a real day and time.
    static func isUTCStamp(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 20, u[4] == 0x2D, u[7] == 0x2D, u[10] == 0x54, u[13] == 0x3A, u[16] == 0x3A, u[19] == 0x5A else { return false }
        func n(_ from: Int, _ count: Int) -> Int? {
            var v = 0
            for i in from..<(from + count) {
                guard u[i] >= 0x30 && u[i] <= 0x39 else { return nil }
                v = v * 10 + Int(u[i] - 0x30)
            }
            return v
        }
        guard let y = n(0, 4), let mo = n(5, 2), let d = n(8, 2), let h = n(11, 2), let mi = n(14, 2), let se = n(17, 2) else {
            return false
        }
        guard y >= 1970, (1...12).contains(mo), h < 24, mi < 60, se < 60, d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]
        return d <= days
    }

    /// The canonical JSON, byte for byte what `AttendanceEvent.canonicalJSON` gives for a valid event.
    public var canonicalJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        WireJSON.append("{\"at\":", to: &out)
        WireJSON.appendString(at, to: &out)
        if let corrects {
            WireJSON.append(",\"corrects\":", to: &out)
            WireJSON.appendInt(corrects, to: &out)
        }
        WireJSON.append(",\"direction\":", to: &out)
        WireJSON.appendString(direction, to: &out)
        WireJSON.append(",\"group\":", to: &out)
        WireJSON.appendOptional(group, to: &out)
        WireJSON.append(",\"id\":", to: &out)
        WireJSON.appendString(id, to: &out)
        WireJSON.append(",\"member\":", to: &out)
        WireJSON.appendOptional(member, to: &out)
        WireJSON.append(",\"outcome\":", to: &out)
        WireJSON.appendString(outcome, to: &out)
        WireJSON.append(",\"reason\":", to: &out)
        WireJSON.appendOptional(reason, to: &out)
        WireJSON.append(",\"seq\":", to: &out)
        WireJSON.appendInt(seq, to: &out)
        WireJSON.append(",\"venue\":", to: &out)
        WireJSON.appendString(venue, to: &out)
        WireJSON.append(",\"via\":", to: &out)
        WireJSON.appendString(via, to: &out)
        WireJSON.append("}", to: &out)
        return out
    }

    /// SHA-256 over `prev_hash` and the canonical JSON, as the kiosk computed it.
    public var computedHash: String {
        var hasher = SHA256()
        hasher.update(data: Array(prevHash.utf8))
        hasher.update(data: canonicalJSON)
        return hasher.finalize().hexString
    }
}

extension AttendanceEvent {
    /// Reads an uploaded event, strictly (see `WireEvent.validate`).
    public init(wire w: WireEvent) throws(WireError) {
        try w.validate()
        self.init(
            seq: w.seq, id: w.id, at: ISOTime.parse(w.at, defaultZone: ISOTime.utc)!, venue: w.venue,
            member: w.member.flatMap(MemberID.init),
            group: w.group.flatMap(MemberGroup.init(rawValue:)), direction: Direction(rawValue: w.direction)!,
            outcome: Outcome(rawValue: w.outcome)!, reason: w.reason.flatMap(DenialReason.init(rawValue:)), via: Via(rawValue: w.via)!,
            prevHash: w.prevHash, corrects: w.corrects, hash: w.hash)
    }

    /// 64 lower-case hexadecimal digits.
    static func isHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

/// What the hub's chain rules need of an event.
public protocol ChainLink: Hashable, Sendable {
    var seq: Int64 { get }
    var prevHash: String { get }
    var hash: String { get }
    /// The hash recomputed from the event's contents.
    var computedHash: String { get }
}

extension AttendanceEvent: ChainLink {}
extension WireEvent: ChainLink {}

/// How the hub answers one batch of a kiosk's chain, decided from what it already holds.
public enum HubChain {
    /// The newest event the hub holds for a kiosk (seq 0 and the genesis hash when none).
    public struct Head: Hashable, Sendable {
        public var seq: Int64
        public var hash: String
        /// A head.
        public init(seq: Int64, hash: String) {
            self.seq = seq
            self.hash = hash
        }
        /// No events yet.
        public static let empty = Head(seq: 0, hash: AttendanceEvent.genesisHash)
    }

    /// The verdict on a batch.
    public enum Verdict: Hashable, Sendable {
        /// Everything is held now; `acknowledged_through` is the new head.
        case acknowledged(through: Int64)
        /// The batch starts after the head: events are missing in between.
        case gap(expectedSeq: Int64)
        /// An event contradicts the chain (forked or tampered). Valid events before it are kept.
        case conflict(seq: Int64, reason: String, acknowledgedThrough: Int64)
    }

    /// The decision: which events of the batch to store, and the answer.
    public struct Plan<Event: ChainLink>: Hashable, Sendable {
        /// The new events to insert, in seq order (the valid start of the batch's new part).
        public var insert: [Event]
        public var verdict: Verdict
        /// The head after inserting.
        public var newHead: Head
    }

    /// Checks a batch that is already known to be in ascending, consecutive seq order.
    /// - Parameters:
    ///   - head: what the hub holds for this kiosk.
    ///   - storedHash: the hash the hub holds for a seq at or below `head.seq`.
    public static func plan<Event: ChainLink>(batch: [Event], head: Head, storedHash: (Int64) throws -> String?) rethrows -> Plan<Event> {
        var insert: [Event] = []
        var current = head
        // What the hub can vouch for on a refusal: never the refused event or anything after it.
        func through(_ refused: Int64) -> Int64 { min(current.seq, refused - 1) }
        for event in batch {
            if event.hash != event.computedHash {
                return Plan(
                    insert: insert,
                    verdict: .conflict(
                        seq: event.seq, reason: "the event's hash does not match its contents (changed after it was recorded)",
                        acknowledgedThrough: through(event.seq)),
                    newHead: current)
            }
            if event.seq <= head.seq {
                if try storedHash(event.seq) != event.hash {
                    return Plan(
                        insert: [],
                        verdict: .conflict(
                            seq: event.seq,
                            reason: "the hub already holds a different event with this seq (the log was forked or rewritten)",
                            acknowledgedThrough: through(event.seq)),
                        newHead: head)
                }
                continue
            }
            if event.seq != current.seq + 1 {
                return Plan(insert: insert, verdict: .gap(expectedSeq: current.seq + 1), newHead: current)
            }
            if event.prevHash != current.hash {
                return Plan(
                    insert: insert,
                    verdict: .conflict(
                        seq: event.seq, reason: "prev_hash does not continue the chain (an event before it was changed or removed)",
                        acknowledgedThrough: through(event.seq)),
                    newHead: current)
            }
            insert.append(event)
            current = Head(seq: event.seq, hash: event.hash)
        }
        // Acknowledged through the end of this batch: what the kiosk sent and the hub compared or stored.
        return Plan(insert: insert, verdict: .acknowledged(through: batch.last?.seq ?? current.seq), newHead: current)
    }

    /// The largest seq the hub accepts (far beyond any kiosk's life, and safe from overflow).
    public static let maxSeq: Int64 = 1 << 50

    /// A batch must be non-empty and in ascending, consecutive seq order; returns why not, in plain words.
    public static func shapeProblem(_ events: [WireEvent]) -> String? {
        guard let first = events.first else { return "the batch has no events" }
        guard first.seq >= 1 else { return "seq starts at 1" }
        guard events.last!.seq <= maxSeq, first.seq <= maxSeq else { return "seq is out of range (at most \(maxSeq))" }
        for (i, e) in events.enumerated() where i > 0 && e.seq != events[i - 1].seq &+ 1 {
            return "events must be in consecutive seq order: seq \(e.seq) follows seq \(events[i - 1].seq)"
        }
        return nil
    }
}

/// Exponential back-off with full jitter: the n-th retry waits a random time up to base·2ⁿ, capped.
public struct Backoff: Sendable, Equatable {
    public var base: Double
    public var cap: Double
    /// Failures in a row so far.
    public private(set) var failures = 0

    /// A back-off of `base` seconds doubling up to `cap` seconds.
    public init(base: Double = 1, cap: Double = 300) {
        self.base = base
        self.cap = cap
    }

    /// Records a failure and returns how long to wait (seconds), drawn from `rng`.
    public mutating func next(using rng: inout some RandomNumberGenerator) -> Double {
        let ceiling = min(cap, base * pow(2, Double(min(failures, 30))))
        failures += 1
        // Never less than a tenth of the ceiling, so a run of unlucky draws cannot hammer the hub.
        return Double.random(in: (ceiling / 10)...ceiling, using: &rng)
    }

    /// Records a "hub busy" answer (`503`) and returns how long to wait (seconds): the longer of what the hub
    /// asked (`retryAfter`, at most `cap`, so a hub cannot park a kiosk for a day) and the back-off, plus a
    /// random part of up to half of that (at least up to a second), so kiosks told the same `Retry-After` do
    /// not all come back in the same instant. Never more than 1.5 × `cap`.
    public mutating func next(retryAfter: Double?, using rng: inout some RandomNumberGenerator) -> Double {
        let backoff = next(using: &rng)
        let asked = min(max(retryAfter ?? 0, 0), cap)
        let wait = max(asked, backoff)
        return wait + Double.random(in: 0...max(min(1, cap), wait / 2), using: &rng)
    }

    /// Records a success.
    public mutating func reset() { failures = 0 }
}

/// The `Retry-After` header of an HTTP answer (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// Seconds to wait from `now`: a whole number of seconds, or an IMF-fixdate such as
    /// `Sun, 06 Dec 2026 10:00:00 GMT` (a date already past is 0). Nil when the value is neither.
    public static func seconds(_ value: String, now: Date) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return Double(text) }
        guard let date = httpDate(text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Parses an IMF-fixdate (the one form servers must send).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }

    /// The IMF-fixdate of `date`, as a server writes it.
    public static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// The `Idempotency-Key` of a batch: the same events always give the same key (also after a restart).
public func idempotencyKey(kiosk: String, firstSeq: Int64, lastSeq: Int64, lastHash: String) -> String {
    "\(kiosk):\(firstSeq)-\(lastSeq):\(lastHash.prefix(16))"
}
