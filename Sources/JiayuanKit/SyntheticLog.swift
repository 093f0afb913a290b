import Foundation
import GRDB
import JiayuanDomain
import JiayuanStore

/// Fills a log with many chained, realistic-looking events fast (benchmarks and tests): one
/// transaction, one prepared statement, continuing the chain after the newest event.
public enum SyntheticLog {
    /// Appends `count` events, 30 s apart and ending about now, cycling through `venues` and the member
    /// groups (one in four a denial). Returns the seq of the last one.
    @discardableResult
    public static func append(to database: AppDatabase, count: Int, venues: [String], seed: UInt64 = 3, now: Date = Date()) throws -> Int64 {
        precondition(!venues.isEmpty, "at least one venue")
        let last = try database.lastEvent()
        return try database.writer.write { db in
            let statement = try db.makeStatement(
                sql: """
                    INSERT INTO event (seq, id, at, venue, member, "group", direction, outcome, reason, via, code_digest, prev_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
                    """)
            var prev = last?.hash ?? AttendanceEvent.genesisHash
            var seq = last?.seq ?? 0
            var rng = SeededRandom(seed: seed)
            let groups = MemberGroup.allCases
            let start = now.addingTimeInterval(-Double(count) * 30)
            for i in 0..<count {
                seq += 1
                var uuid = [UInt8](repeating: 0, count: 16)
                for j in 0..<16 { uuid[j] = UInt8.random(in: 0...255, using: &rng) }
                let denied = i % 4 == 3
                let e = AttendanceEvent(
                    seq: seq, id: UUID(uuid: uuid.withUnsafeBytes { $0.load(as: uuid_t.self) }).uuidString.lowercased(),
                    at: start.addingTimeInterval(Double(i) * 30), venue: venues[i % venues.count],
                    member: MemberID(number: UInt32(i % 997 + 1)), group: groups[i % groups.count],
                    direction: denied || i % 2 == 0 ? .in : .out, outcome: denied ? .denied : .accepted,
                    reason: denied ? .closed : nil, via: .scan, prevHash: prev)
                try statement.execute(arguments: [
                    e.seq, e.id, ISOTime.format(e.at), e.venue, Int64(e.member!.number), e.group?.rawValue, e.direction.rawValue,
                    e.outcome.rawValue, e.reason?.rawValue, e.via.rawValue, e.prevHash, e.hash,
                ])
                prev = e.hash
            }
            return seq
        }
    }
}
