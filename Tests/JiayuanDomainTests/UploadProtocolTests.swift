import Foundation
import JiayuanDomain
import JiayuanWire
import Testing

private func events(_ n: Int, after head: HubChain.Head = .empty, venue: String = "gym") -> [AttendanceEvent] {
    var prev = head.hash
    return (1...n).map { i in
        let seq = head.seq + Int64(i)
        let e = AttendanceEvent(
            seq: seq, id: "id-\(seq)-\(venue)", at: Date(timeIntervalSince1970: 1_795_000_000 + Double(seq) * 60), venue: venue,
            member: MemberID(number: 7), group: .child, direction: .in, outcome: .accepted, reason: nil, via: .scan, prevHash: prev)
        prev = e.hash
        return e
    }
}

@Suite("Upload protocol")
struct UploadProtocolTests {
    @Test("new events after the head are stored and acknowledged")
    func newEvents() {
        let batch = events(5)
        let plan = HubChain.plan(batch: batch, head: .empty) { _ in nil }
        #expect(plan.insert == batch)
        #expect(plan.verdict == .acknowledged(through: 5))
        #expect(plan.newHead == HubChain.Head(seq: 5, hash: batch[4].hash))
    }

    @Test("a resend of held events stores nothing and is acknowledged through the head")
    func resend() {
        let batch = events(5)
        let held = Dictionary(uniqueKeysWithValues: batch.map { ($0.seq, $0.hash) })
        let plan = HubChain.plan(batch: Array(batch[1...3]), head: HubChain.Head(seq: 5, hash: batch[4].hash)) { held[$0] }
        #expect(plan.insert.isEmpty)
        #expect(plan.verdict == .acknowledged(through: 4), "through what was sent, not the hub's newest")
    }

    @Test("a batch after a gap asks for the missing seq")
    func gap() {
        let later = events(3, after: HubChain.Head(seq: 7, hash: String(repeating: "1", count: 64)))
        #expect(HubChain.plan(batch: later, head: .empty) { _ in nil }.verdict == .gap(expectedSeq: 1))
    }

    @Test("a tampered event keeps the valid events before it and refuses it and everything after")
    func tampered() {
        var batch = events(6)
        batch[3].venue = "library"  // contents changed, hash kept
        let plan = HubChain.plan(batch: batch, head: .empty) { _ in nil }
        #expect(plan.insert == Array(batch[0..<3]))
        guard case .conflict(let seq, let reason, let through) = plan.verdict else { Issue.record("expected a conflict"); return }
        #expect(seq == 4 && through == 3 && reason.contains("does not match"))
    }

    @Test("a forked log (a different event under a held seq) is a conflict and stores nothing")
    func forked() {
        let held = events(5)
        let fork = events(3, after: HubChain.Head(seq: 2, hash: held[1].hash), venue: "library")
        let map = Dictionary(uniqueKeysWithValues: held.map { ($0.seq, $0.hash) })
        let plan = HubChain.plan(batch: fork, head: HubChain.Head(seq: 5, hash: held[4].hash)) { map[$0] }
        #expect(plan.insert.isEmpty)
        #expect(
            plan.verdict
                == .conflict(
                    seq: 3, reason: "the hub already holds a different event with this seq (the log was forked or rewritten)",
                    acknowledgedThrough: 2))
    }

    @Test("an event whose prev_hash does not continue the held chain is a conflict")
    func brokenLink() {
        let held = events(2)
        let next = events(2, after: HubChain.Head(seq: 2, hash: String(repeating: "f", count: 64)))
        let plan = HubChain.plan(batch: next, head: HubChain.Head(seq: 2, hash: held[1].hash)) { _ in nil }
        guard case .conflict(let seq, _, let through) = plan.verdict else { Issue.record("expected a conflict"); return }
        #expect(seq == 3 && through == 2 && plan.insert.isEmpty)
    }

    @Test("a batch must be consecutive and non-empty")
    func shape() {
        let e = events(3).map(WireEvent.init)
        #expect(HubChain.shapeProblem(e) == nil)
        #expect(HubChain.shapeProblem([]) == "the batch has no events")
        #expect(HubChain.shapeProblem([e[0], e[2]])?.contains("consecutive") == true)
        var huge = e[0]
        huge.seq = Int64.max
        #expect(HubChain.shapeProblem([huge, e[0]]) != nil, "no overflow trap on a hostile seq")
    }

    @Test("the wire form reads back to the same event and hash; other spellings are refused")
    func wireRoundTrip() throws {
        for e in events(3) {
            #expect(try AttendanceEvent(wire: WireEvent(e)) == e)
        }
        var w = WireEvent(events(1)[0])
        w.at = "2026-11-29T10:00:00+08:00"
        #expect(throws: WireError.self) { try AttendanceEvent(wire: w) }
        w = WireEvent(events(1)[0])
        w.member = "M7"
        #expect(throws: WireError.self) { try AttendanceEvent(wire: w) }
        w = WireEvent(events(1)[0])
        w.hash = String(repeating: "G", count: 64)
        #expect(throws: WireError.self) { try AttendanceEvent(wire: w) }
    }

    @Test("a correction travels with \"corrects\", reads back with its hash; corrects on any other event is refused")
    func correctionOnTheWire() throws {
        let visit = events(1)[0]
        let void = AttendanceEvent(
            seq: 2, id: "id-void", at: visit.at.addingTimeInterval(120), venue: "gym", member: visit.member, group: visit.group,
            direction: .in, outcome: .void, reason: nil, via: .staff, prevHash: visit.hash, corrects: 1)
        let wire = WireEvent(void)
        #expect(wire.corrects == 1 && wire.outcome == "void")
        let body = UploadBatch(kiosk: "K", centre: "C", events: [WireEvent(visit), wire]).json()
        #expect(String(decoding: body, as: UTF8.self).contains(#""reason":null,"corrects":1,"via":"staff""#))
        let parsed = try UploadBatch(json: body)
        #expect(parsed.events[0].corrects == nil)
        let back = try AttendanceEvent(wire: parsed.events[1])
        #expect(back == void && back.hash == back.computedHash && wire.computedHash == void.hash)
        #expect(HubChain.plan(batch: parsed.events, head: .empty) { _ in nil }.verdict == .acknowledged(through: 2))

        func refused(_ change: (inout WireEvent) -> Void) -> Bool {
            var w = wire
            change(&w)
            do {
                _ = try AttendanceEvent(wire: w)
                return false
            } catch { return true }
        }
        #expect(refused { $0.corrects = nil }, "a correction must name a check-in")
        #expect(refused { $0.corrects = 2 }, "only an earlier one")
        #expect(refused { $0.via = "scan" })
        #expect(refused { $0.direction = "out" })
        #expect(refused { $0.reason = "closed" })
        #expect(refused { $0.outcome = "accepted" }, "only a correction carries corrects")
        var plain = WireEvent(visit)
        plain.corrects = 1
        #expect(throws: WireError.self) { try AttendanceEvent(wire: plain) }
    }

    @Test("back-off doubles up to the cap with jitter, never below a tenth, and resets after a success")
    func backoff() {
        var b = Backoff(base: 1, cap: 20)
        var rng = SystemRandomNumberGenerator()
        let ceilings: [Double] = [1, 2, 4, 8, 16, 20, 20]
        for ceiling in ceilings {
            let wait = b.next(using: &rng)
            #expect(wait >= ceiling / 10 && wait <= ceiling)
        }
        b.reset()
        #expect(b.next(using: &rng) <= 1)
    }

    @Test("the idempotency key depends only on the batch")
    func key() {
        let e = events(4)
        let key = idempotencyKey(kiosk: "k", firstSeq: 1, lastSeq: 4, lastHash: e[3].hash)
        #expect(key == idempotencyKey(kiosk: "k", firstSeq: 1, lastSeq: 4, lastHash: e[3].hash))
        #expect(key != idempotencyKey(kiosk: "k", firstSeq: 1, lastSeq: 3, lastHash: e[2].hash))
        #expect(key.hasPrefix("k:1-4:"))
    }

    @Test("the hub's byte-level canonical JSON and hash equal the kiosk's for any strings")
    func canonicalBytesMatch() throws {
        let venues = ["gym", "图书馆", "quote\"back\\slash", "tab\tnew\nline\u{7F}", "emoji 🧓"]
        for (i, venue) in venues.enumerated() {
            for group in [MemberGroup.elder, nil] {
                let e = AttendanceEvent(
                    seq: Int64(i + 1), id: "id-\(i)", at: Date(timeIntervalSince1970: 1_795_000_000 + Double(i)), venue: venue,
                    member: group == nil ? nil : MemberID(number: 42), group: group, direction: .out, outcome: .denied, reason: .closed,
                    via: .staff, prevHash: AttendanceEvent.genesisHash)
                let w = WireEvent(e)
                #expect(String(decoding: w.canonicalJSON, as: UTF8.self) == e.canonicalJSON)
                #expect(w.computedHash == e.hash)
            }
        }
    }

    @Test("only real UTC times in the one spelling pass")
    func stamps() throws {
        var w = WireEvent(events(1)[0])
        for bad in [
            "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z", "2026-11-29T24:00:00Z", "2026-11-29T10:00:00", "2026-11-29t10:00:00Z",
            "２026-11-29T10:00:00Z",
        ] {
            w.at = bad
            #expect(throws: WireError.self, "\(bad)") { try w.validate() }
        }
        for good in ["2024-02-29T23:59:59Z", "2026-11-29T00:00:00Z"] {
            w.at = good
            #expect(throws: Never.self) { try w.validate() }
        }
    }

    @Test("a tampered event below the hub's head is refused without acknowledging it or anything after it")
    func tamperedBelowHead() {
        let held = events(6)
        var resend = Array(held[1...4])
        resend[1].venue = "library"  // seq 3 changed, hash kept
        let map = Dictionary(uniqueKeysWithValues: held.map { ($0.seq, $0.hash) })
        let plan = HubChain.plan(batch: resend, head: HubChain.Head(seq: 6, hash: held[5].hash)) { map[$0] }
        guard case .conflict(let seq, _, let through) = plan.verdict else { Issue.record("expected a conflict"); return }
        #expect(seq == 3 && through == 2)
    }
}
