import Foundation
import GRDB
import JiayuanDomain
import JiayuanWire

/// How far the attendance log has reached the district hub.
public struct UploadState: Hashable, Sendable {
    /// Every event up to this seq is held by the hub.
    public var acknowledgedThrough: Int64
    /// The newest seq of the local log.
    public var lastSeq: Int64
    public var lastSuccessAt: Date?
    public var lastAttemptAt: Date?
    /// The last failure in plain words (nil after a success).
    public var lastError: String?
    /// Set when the hub refused the chain (409 conflict): uploading stops until staff clear it.
    public var conflictSeq: Int64?
    public var conflictReason: String?

    /// Events not yet acknowledged.
    public var backlog: Int64 { max(0, lastSeq - acknowledgedThrough) }
}

extension AppDatabase {
    /// Events with seq greater than `after`, at most `limit`, straight into their wire form (the stored
    /// text as it is: no parsing and formatting per event), read by primary-key range.
    public func wireEvents(after: Int64, limit: Int) throws -> [WireEvent] {
        try read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT seq, id, at, venue, member, "group", direction, outcome, reason, via, prev_hash, hash, corrects
                    FROM event WHERE seq > ? ORDER BY seq LIMIT ?
                    """)
            var out: [WireEvent] = []
            out.reserveCapacity(limit)
            let rows = try Row.fetchCursor(statement, arguments: [after, limit])
            while let row = try rows.next() {
                let member: Int64? = row[4]
                out.append(
                    WireEvent(
                        seq: row[0], id: row[1], at: row[2], venue: row[3],
                        member: member.flatMap { MemberID(number: UInt32(truncatingIfNeeded: $0))?.description }, group: row[5],
                        direction: row[6], outcome: row[7], reason: row[8], via: row[9], prevHash: row[10], hash: row[11],
                        corrects: row[12]))
            }
            return out
        }
    }

    /// The upload state and the log's newest seq, from one snapshot.
    public func uploadState() throws -> UploadState {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM upload_state WHERE id = 1")
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM event") ?? 0
            return UploadState(
                acknowledgedThrough: row?["acknowledged_through"] ?? 0, lastSeq: last,
                lastSuccessAt: (row?["last_success_at"] as String?).map(Stamp.date),
                lastAttemptAt: (row?["last_attempt_at"] as String?).map(Stamp.date),
                lastError: row?["last_error"], conflictSeq: row?["conflict_seq"], conflictReason: row?["conflict_reason"])
        }
    }

    /// Records the hub's acknowledgement. It may move the mark back (the hub asked for a resend from an
    /// earlier seq), never past the local log.
    public func recordUploadAcknowledged(through seq: Int64, at now: Date) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE upload_state SET acknowledged_through = MAX(0, MIN(?, (SELECT IFNULL(MAX(seq), 0) FROM event))),
                      last_success_at = ?, last_attempt_at = ?, last_error = NULL WHERE id = 1
                    """, arguments: [seq, Stamp.text(now), Stamp.text(now)])
        }
    }

    /// The hub asked for a resend from an earlier seq (it lost events, e.g. restored from a backup): move
    /// the mark back. Not a success.
    public func recordUploadRewound(to seq: Int64, at now: Date) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE upload_state SET acknowledged_through = MAX(0, MIN(?, acknowledged_through)),
                      last_attempt_at = ?, last_error = ? WHERE id = 1
                    """, arguments: [seq, Stamp.text(now), "the hub asked for the log again from seq \(seq + 1)"])
        }
    }

    /// Records a failed attempt (the hub down, a timeout, a refusal) in plain words.
    public func recordUploadFailure(_ message: String, at now: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE upload_state SET last_attempt_at = ?, last_error = ? WHERE id = 1", arguments: [Stamp.text(now), message])
        }
    }

    /// Records the hub's `409 conflict`: what it acknowledged, the refused seq, and an alert for staff.
    public func recordUploadConflict(seq: Int64, reason: String, acknowledgedThrough: Int64, at now: Date) throws {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE upload_state SET acknowledged_through = MAX(0, MIN(?, (SELECT IFNULL(MAX(seq), 0) FROM event))),
                      last_attempt_at = ?, last_error = ?, conflict_seq = ?, conflict_reason = ? WHERE id = 1
                    """,
                arguments: [acknowledgedThrough, Stamp.text(now), "the hub refused event \(seq): \(reason)", seq, reason])
            let open =
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM alert WHERE kind = 'upload_conflict' AND since_seq = ? AND resolved_at IS NULL",
                    arguments: [seq]) ?? 0
            if open == 0 {
                try db.execute(
                    sql: "INSERT INTO alert (kind, venue, member, since_seq, raised_at) VALUES ('upload_conflict', '', NULL, ?, ?)",
                    arguments: [seq, Stamp.text(now)])
            }
        }
    }

    /// Staff cleared the conflict (after the district checked the log): uploading may start again.
    public func clearUploadConflict(at now: Date) throws {
        try write { db in
            try db.execute(sql: "UPDATE upload_state SET conflict_seq = NULL, conflict_reason = NULL, last_error = NULL WHERE id = 1")
            try db.execute(
                sql: "UPDATE alert SET resolved_at = ? WHERE kind = 'upload_conflict' AND resolved_at IS NULL", arguments: [Stamp.text(now)]
            )
        }
    }
}
