import Foundation
import GRDB
import JiayuanDomain

extension StaffAlert {
    /// Kind: an elder or child still inside at closing (the sweep raises it; it clears when they leave).
    public static let insideAtClosing = "inside_at_closing"
    /// Kind: the hub refused the upload chain (cleared when uploads go through again).
    public static let uploadConflict = "upload_conflict"
    /// Kind: repeated wrong pickup codes stopped slip check-outs at `venue` for a while (issue 13). Open until
    /// staff dismiss it; `raisedAt` is when the latest lock there began.
    public static let pickupLocked = "pickup_locked"

    /// The alert in plain words for the staff pages, Mandarin first.
    public var words: Bilingual {
        switch kind {
        case Self.insideAtClosing: Bilingual(zh: "闭馆仍在场", en: "Still inside at closing")
        case Self.uploadConflict: Bilingual(zh: "上传被拒", en: "Upload refused by the hub")
        case Self.pickupLocked:
            Bilingual(
                zh: "接送码多次输错，扫码接孩子已暂停15分钟，请在前台办理",
                en: "Repeated wrong pickup codes: collecting children by slip is stopped for 15 minutes; collect them at the desk")
        default: Bilingual(zh: kind, en: kind)
        }
    }
}

extension AppDatabase {
    /// Raises the staff alert that slip check-outs at `venue` stopped at `now`, or renews the one still open
    /// there (so repeated locks keep one row, never a growing list).
    public func raisePickupGuessingAlert(venue: String, at now: Date) throws {
        try write { db in
            try db.execute(
                sql: "UPDATE alert SET raised_at = ? WHERE kind = ? AND venue = ? AND resolved_at IS NULL",
                arguments: [Stamp.text(now), StaffAlert.pickupLocked, venue])
            if db.changesCount == 0 {
                try db.execute(
                    sql: "INSERT INTO alert (kind, venue, member, since_seq, raised_at) VALUES (?, ?, NULL, NULL, ?)",
                    arguments: [StaffAlert.pickupLocked, venue, Stamp.text(now)])
            }
        }
    }

    /// When the latest pickup lock at each venue began, for locks begun at or after `since` (to put them
    /// back after a restart).
    public func pickupLockStarts(since: Date) throws -> [String: Date] {
        try read { db in
            var out: [String: Date] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT venue, MAX(raised_at) AS at FROM alert WHERE kind = ? AND raised_at >= ? GROUP BY venue",
                arguments: [StaffAlert.pickupLocked, Stamp.text(since)])
            for row in rows { out[row["venue"]] = Stamp.date(row["at"]) }
            return out
        }
    }

    /// Marks an alert as dealt with (staff dismissed it); false when there was no such open alert.
    @discardableResult
    public func resolveAlert(id: Int64, at now: Date) throws -> Bool {
        try write { db in
            try db.execute(sql: "UPDATE alert SET resolved_at = ? WHERE id = ? AND resolved_at IS NULL", arguments: [Stamp.text(now), id])
            return db.changesCount > 0
        }
    }

    /// The venue where `code` is today's open pickup code of a child still inside, among `venues` (for a
    /// scanner bound to no venue); nil when it is nobody's.
    public func pickupVenue(code: String, venues: [Venue], at now: Date, policy: CheckInPolicy) throws -> String? {
        try read { db in
            for venue in venues where venue.guardianCode {
                let day = LocalTime(now, in: policy.zone(for: venue)).date.description
                let found =
                    try Bool.fetchOne(
                        db,
                        sql: "SELECT EXISTS (SELECT 1 FROM pickup_code WHERE day = ? AND code = ? AND venue = ? AND checkout_seq IS NULL)",
                        arguments: [day, code, venue.id]) ?? false
                if found { return venue.id }
            }
            return nil
        }
    }
}
