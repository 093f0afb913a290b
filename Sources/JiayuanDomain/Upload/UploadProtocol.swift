import Foundation

// The kiosk → hub upload protocol (DESIGN.md §3.5): what travels, how the hub decides, how the kiosk
// retries. Pure: no I/O, no clock, no randomness of its own.

extension WireEvent {
    /// The wire form of a log event (member id and group, never a name or a phone).
    public init(_ e: AttendanceEvent) {
        self.init(
            seq: e.seq, id: e.id, at: ISOTime.format(e.at), venue: e.venue, member: e.member?.description,
            group: e.group?.rawValue, direction: e.direction.rawValue, outcome: e.outcome.rawValue,
            reason: e.reason?.rawValue, via: e.via.rawValue, prevHash: e.prevHash, hash: e.hash)
    }
}

extension AttendanceEvent {
    /// Reads an uploaded event, strictly: every value must be one the kiosk can write, in its one spelling
    /// (so the hash the hub recomputes is over exactly the bytes the kiosk hashed).
    public init(wire w: WireEvent) throws(WireError) {
        func bad(_ field: String, _ value: String?) -> WireError {
            WireError(message: "event seq \(w.seq): \"\(field)\" has an unknown value \(value.map { "\"\($0)\"" } ?? "null")")
        }
        guard let at = ISOTime.parse(w.at, defaultZone: ISOTime.utc), ISOTime.format(at) == w.at else {
            throw WireError(message: "event seq \(w.seq): \"at\" must be a UTC time like 2026-11-29T02:45:32Z, not \"\(w.at)\"")
        }
        var member: MemberID?
        if let m = w.member {
            guard let id = MemberID(m), id.description == m else { throw bad("member", m) }
            member = id
        }
        var group: MemberGroup?
        if let g = w.group {
            guard let v = MemberGroup(rawValue: g) else { throw bad("group", g) }
            group = v
        }
        guard let direction = Direction(rawValue: w.direction) else { throw bad("direction", w.direction) }
        guard let outcome = Outcome(rawValue: w.outcome) else { throw bad("outcome", w.outcome) }
        var reason: DenialReason?
        if let r = w.reason {
            guard let v = DenialReason(rawValue: r) else { throw bad("reason", r) }
            reason = v
        }
        guard let via = Via(rawValue: w.via) else { throw bad("via", w.via) }
        guard Self.isHash(w.prevHash) else { throw bad("prev_hash", w.prevHash) }
        guard Self.isHash(w.hash) else { throw bad("hash", w.hash) }
        guard !w.id.isEmpty, w.id.utf8.count <= 64 else { throw bad("id", w.id) }
        guard !w.venue.isEmpty, w.venue.utf8.count <= 64 else { throw bad("venue", w.venue) }
        self.init(
            seq: w.seq, id: w.id, at: at, venue: w.venue, member: member, group: group, direction: direction,
            outcome: outcome, reason: reason, via: via, prevHash: w.prevHash, hash: w.hash)
    }

    /// 64 lower-case hexadecimal digits.
    static func isHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}

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
    public struct Plan: Hashable, Sendable {
        /// The new events to insert, in seq order (a suffix-free prefix of the batch's new part).
        public var insert: [AttendanceEvent]
        public var verdict: Verdict
        /// The head after inserting.
        public var newHead: Head
    }

    /// Checks a batch that is already known to be in ascending, consecutive seq order.
    /// - Parameters:
    ///   - head: what the hub holds for this kiosk.
    ///   - storedHash: the hash the hub holds for a seq at or below `head.seq`.
    public static func plan(batch: [AttendanceEvent], head: Head, storedHash: (Int64) throws -> String?) rethrows -> Plan {
        var insert: [AttendanceEvent] = []
        var current = head
        for event in batch {
            if event.hash != event.computedHash {
                return Plan(
                    insert: insert,
                    verdict: .conflict(seq: event.seq, reason: "the event's hash does not match its contents (changed after it was recorded)", acknowledgedThrough: current.seq),
                    newHead: current)
            }
            if event.seq <= head.seq {
                if try storedHash(event.seq) != event.hash {
                    return Plan(
                        insert: [],
                        verdict: .conflict(seq: event.seq, reason: "the hub already holds a different event with this seq (the log was forked or rewritten)", acknowledgedThrough: head.seq),
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
                    verdict: .conflict(seq: event.seq, reason: "prev_hash does not continue the chain (an event before it was changed or removed)", acknowledgedThrough: current.seq),
                    newHead: current)
            }
            insert.append(event)
            current = Head(seq: event.seq, hash: event.hash)
        }
        return Plan(insert: insert, verdict: .acknowledged(through: current.seq), newHead: current)
    }

    /// A batch must be non-empty and in ascending, consecutive seq order; returns why not, in plain words.
    public static func shapeProblem(_ events: [WireEvent]) -> String? {
        guard let first = events.first else { return "the batch has no events" }
        guard first.seq >= 1 else { return "seq starts at 1" }
        for (i, e) in events.enumerated() where i > 0 && e.seq != events[i - 1].seq + 1 {
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

    /// Records a success.
    public mutating func reset() { failures = 0 }
}

/// The `Idempotency-Key` of a batch: the same events always give the same key (also after a restart).
public func idempotencyKey(kiosk: String, events: [AttendanceEvent]) -> String {
    guard let first = events.first, let last = events.last else { return "\(kiosk):empty" }
    return "\(kiosk):\(first.seq)-\(last.seq):\(last.hash.prefix(16))"
}
