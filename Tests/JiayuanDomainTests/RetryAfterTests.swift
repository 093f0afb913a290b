import Foundation
import JiayuanWire
import Testing

/// A generator that always draws the same fraction of the range (0: the bottom, `UInt64.max`: the top).
private struct FixedGenerator: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

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

    @Test("a busy answer waits at least what the hub asked and at least the back-off, plus jitter")
    func waitIsTheLongerPlusJitter() {
        // The lowest draws: the back-off's floor (a tenth of 1 s) loses to Retry-After 5; no jitter.
        var low = FixedGenerator(value: 0)
        var b = Backoff(base: 1, cap: 60)
        #expect(b.next(retryAfter: 5, using: &low) == 5)
        // The highest draws: half of it again on top.
        var high = FixedGenerator(value: .max)
        b = Backoff(base: 1, cap: 60)
        #expect(abs(b.next(retryAfter: 5, using: &high) - 7.5) < 0.001)
        // After many busy answers in a row the back-off (up to the cap) is longer than Retry-After.
        b = Backoff(base: 1, cap: 60)
        for _ in 0..<8 { _ = b.next(retryAfter: 1, using: &low) }
        #expect(b.next(retryAfter: 1, using: &high) > 60)
        // Without Retry-After, the back-off alone (plus its jitter).
        b = Backoff(base: 1, cap: 60)
        #expect(b.next(retryAfter: nil, using: &high) == 2)
    }

    @Test("a hub cannot park a kiosk: Retry-After counts up to the cap, and the whole wait is at most 1.5 × cap")
    func capped() {
        var high = FixedGenerator(value: .max)
        var b = Backoff(base: 1, cap: 60)
        #expect(b.next(retryAfter: 86_400, using: &high) <= 90)
        var rng = SplitMix(state: 7)
        b = Backoff(base: 1, cap: 60)
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
