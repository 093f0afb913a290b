import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// Fills a log with many chained, realistic-looking events fast (benchmarks and tests): one
/// transaction, one prepared statement, continuing the chain after the newest event.
public enum SyntheticLog {
    /// Appends `count` events, 30 s apart and ending about now, cycling through `venues` and the member
    /// groups (one in four a denial). Returns the seq of the last one.
    @discardableResult
    public static func append(to database: AppDatabase, count: Int, venues: [String], seed: UInt64 = 3, now: Date = Date()) throws -> Int64
    {
        precondition(!venues.isEmpty, "at least one venue")
        var rng = SeededRandom(seed: seed)
        let groups = MemberGroup.allCases
        let start = now.addingTimeInterval(-Double(count) * 30)
        return try database.appendChainedEvents(count: count) { i, seq, prev in
            var uuid = [UInt8](repeating: 0, count: 16)
            for j in 0..<16 { uuid[j] = UInt8.random(in: 0...255, using: &rng) }
            let denied = i % 4 == 3
            return AttendanceEvent(
                seq: seq, id: UUID(uuid: uuid.withUnsafeBytes { $0.load(as: uuid_t.self) }).uuidString.lowercased(),
                at: start.addingTimeInterval(Double(i) * 30), venue: venues[i % venues.count],
                member: MemberID(number: UInt32(i % 997 + 1)), group: groups[i % groups.count],
                direction: denied || i % 2 == 0 ? .in : .out, outcome: denied ? .denied : .accepted,
                reason: denied ? .closed : nil, via: .scan, prevHash: prev)
        }
    }
}
