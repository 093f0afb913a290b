import Foundation
import JiayuanDomain
import JiayuanStore

extension StaffDesk {
    /// Checks the children of an open drop-off out on the guardian's behalf (issue 16): the guardian's code
    /// (typed, or the slip's scanned QR) is still needed, as for one child; every child leaves as a staff event,
    /// and the audit entry names the drop-off, the guardian and the children, in the same transaction.
    public func collectHousehold(dropoff id: Int64, guardianCode: String, staff: StaffAccount) throws -> HouseholdDecision {
        let kiosk = service.kiosk
        let now = kiosk.clock()
        guard
            let open = try kiosk.database.openDropOffs(venues: kiosk.config.venues, at: now, policy: kiosk.config.policy).first(where: {
                $0.id == id
            })
        else { throw KioskError("drop-off \(id) has no child inside any more") }
        var code = guardianCode.trimmingWhitespace()
        if code.uppercased().hasPrefix(ScanReading.pickupPrefix) { code = String(code.dropFirst(ScanReading.pickupPrefix.count)) }
        let venue = try kiosk.venue(open.venue)
        var rng = SystemRandomNumberGenerator()
        return try kiosk.database.recordPickUp(
            code: PickupCode.normalized(code), card: nil, selection: .only(open.children), venue: venue, at: now, via: .staff,
            engine: kiosk.engine, rng: &rng,
            audit: { household in
                let out = household.moved.compactMap { $0.member?.id.description }
                let detail =
                    out.isEmpty
                    ? "denied \(venue.id): drop-off \(id), wrong code" : "out \(venue.id): drop-off \(id), " + out.joined(separator: ",")
                return AuditNote(staff: staff.id, action: "floor.household_checkout", member: open.guardian, detail: detail, at: now)
            })
    }
}
