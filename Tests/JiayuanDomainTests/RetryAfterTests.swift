import Foundation
import JiayuanWire
import Testing

/// A deterministic generator for many draws.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Retry-After and the busy hub's back-off")
struct RetryAfterTests {
    let now = Date(timeIntervalSince1970: 1_796_553_600)  // 2026-12-06T10:40:00Z

    @Test("Retry-After is read as whole seconds or as an HTTP date; anything else is nil")
    func parsing() {
        #expect(RetryAfter.seconds("120", now: now) == 120)
        #expect(RetryAfter.seconds(" 5 ", now: now) == 5)
        #expect(RetryAfter.seconds("0", now: now) == 0)
        #expect(RetryAfter.seconds("Sun, 06 Dec 2026 10:40:30 GMT", now: now) == 30)
        // A date already past means now.
        #expect(RetryAfter.seconds("Sun, 06 Dec 2026 10:00:00 GMT", now: now) == 0)
        #expect(RetryAfter.httpDate(now.addingTimeInterval(90)) == "Sun, 06 Dec 2026 10:41:30 GMT")
        for bad in ["", "-5", "1.5", "soon", "99999999999", "Sunday, 06-Dec-26 10:40:30 GMT", "2026-12-06T10:40:30Z"] {
            #expect(RetryAfter.seconds(bad, now: now) == nil, "\(bad)")
        }
    }

    @Test("a busy answer waits at least what the hub asked and at least the back-off, plus up to half again")
    func waitIsTheLongerPlusJitter() {
        // (A generator that always returns one value would hang Double.random(in: a...b): it rejects and draws again.)
        var rng = SplitMix(state: 1)
        // The first busy answer: the back-off (0.1–1 s) loses to Retry-After 5; jitter up to 2.5 s.
        let first = (0..<2000).map { _ in
            var b = Backoff(base: 1, cap: 60)
            return b.next(retryAfter: 5, using: &rng)
        }
        #expect(first.allSatisfy { $0 >= 5 && $0 <= 7.5 })
        #expect(first.min()! < 5.1 && first.max()! > 7.4)
        // Many busy answers in a row: the back-off (now up to the cap) outgrows Retry-After 1.
        var b = Backoff(base: 1, cap: 60)
        for _ in 0..<8 { _ = b.next(retryAfter: 1, using: &rng) }
        #expect(b.next(retryAfter: 1, using: &rng) >= 6)
        // Without Retry-After: the back-off alone, plus its jitter (at least up to a second).
        let plain = (0..<2000).map { _ in
            var b = Backoff(base: 1, cap: 60)
            return b.next(retryAfter: nil, using: &rng)
        }
        #expect(plain.allSatisfy { $0 >= 0.1 && $0 <= 2 })
    }

    @Test("a hub cannot park a kiosk: Retry-After counts up to the cap, and the whole wait is at most 1.5 × cap")
    func capped() {
        var rng = SplitMix(state: 7)
        for _ in 0..<1000 {
            var fresh = Backoff(base: 1, cap: 60)
            let wait = fresh.next(retryAfter: 86_400, using: &rng)
            #expect(wait >= 60 && wait <= 90)
        }
        var b = Backoff(base: 1, cap: 60)
        for _ in 0..<1000 {
            let wait = b.next(retryAfter: Double.random(in: 0...100_000, using: &rng), using: &rng)
            #expect(wait >= 0 && wait <= 90)
        }
    }

    @Test("kiosks told the same Retry-After spread out instead of coming back together")
    func jitterSpreads() {
        var rng = SplitMix(state: 42)
        var waits: [Double] = []
        for _ in 0..<500 {
            var b = Backoff(base: 1, cap: 300)
            waits.append(b.next(retryAfter: 10, using: &rng))
        }
        #expect(waits.allSatisfy { $0 >= 10 && $0 <= 15 })
        // Spread over the window: no second of it takes more than a third of the kiosks.
        let perSecond = Dictionary(grouping: waits) { Int($0) }.mapValues(\.count)
        #expect(perSecond.count == 5 || perSecond.count == 6)
        #expect(perSecond.values.allSatisfy { $0 < 500 / 3 })
    }
}
