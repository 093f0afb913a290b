import Foundation
import JiayuanDomain
import JiayuanStore

/// What front-desk staff do on a member's behalf, through the same check-in engine as the kiosk: recorded
/// as staff-assisted (`via: staff`) and audited with who did it.
public struct StaffDesk: Sendable {
    public let service: CheckInService

    /// A desk over a check-in service.
    public init(service: CheckInService) { self.service = service }

    var kiosk: Kiosk { service.kiosk }

    /// Checks a member in or out (the venue's toggle rule decides) with their current card; a child's
    /// check-out needs the guardian's code. Receipts follow the venue's settings (a day-care fee receipt
    /// on a day-care check-out).
    public func checkInOnBehalf(member id: MemberID, venue: String, guardianCode: String?, staff: StaffAccount) throws -> Decision {
        guard let card = try kiosk.database.cards(of: id).first(where: { !$0.revoked }) else {
            throw KioskError("\(id) has no valid card: issue one first (the desk checks members in with their current card)")
        }
        // The guardian may hand over the pickup slip: its scanned QR is the pickup prefix and the code.
        var code = guardianCode?.trimmingCharacters(in: .whitespaces)
        if let c = code, c.uppercased().hasPrefix(ScanReading.pickupPrefix) { code = String(c.dropFirst(ScanReading.pickupPrefix.count)) }
        let decision = try service.checkIn(
            code: card.code, venue: venue, guardianCode: code?.isEmpty == true ? nil : code, via: .staff,
            receipts: CheckInService.Receipts(requested: true))
        let what = decision.accepted ? "\(decision.direction.rawValue) \(venue)" : "denied \(venue): \(decision.reason?.rawValue ?? "")"
        try kiosk.database.audit(staff: staff.id, action: "floor.\(decision.direction == .out ? "checkout" : "checkin")", member: id, detail: what, at: kiosk.clock())
        return decision
    }

    /// Registers a member (all or nothing, audited).
    public func register(_ new: NewMember, staff: StaffAccount) throws -> Member {
        let member = try kiosk.database.addMember(new, at: kiosk.clock())
        try kiosk.database.audit(staff: staff.id, action: "member.add", member: member.id, detail: member.group.rawValue, at: kiosk.clock())
        return member
    }

    /// Issues the member's next card (the old one stops working) and queues the membership card for the
    /// printer; audited.
    public func reissueCard(member id: MemberID, staff: StaffAccount) throws -> (IssuedCard, PrintJob) {
        let key = try kiosk.data.loadSigningKey()
        let card = try kiosk.database.issueCard(
            member: id, keyID: key.keyID, today: kiosk.today(), validityDays: kiosk.config.cardValidityDays, at: kiosk.clock(), sign: key.sign)
        guard let member = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
        let job = try PrintService(kiosk: kiosk).enqueue(Documents.memberCard(member, card: card, config: kiosk.config), number: id.description)
        try kiosk.database.audit(staff: staff.id, action: "card.issue", member: id, detail: "serial \(card.serial), print job \(job.id)", at: kiosk.clock())
        return (card, job)
    }

    /// Deactivates a member: their cards stop working, their history stays; audited.
    public func deactivate(member id: MemberID, staff: StaffAccount) throws {
        try kiosk.database.deactivateMember(id)
        try kiosk.database.audit(staff: staff.id, action: "member.deactivate", member: id, at: kiosk.clock())
    }

    /// Corrects a member's name, birth year, phone or flags; audited with what changed (not the values).
    public func edit(member id: MemberID, name: String, born: Int?, phone: String?, flags: Set<MemberFlag>, staff: StaffAccount) throws -> Member {
        guard let before = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
        let after = try kiosk.database.updateMember(id, name: name, born: born, phone: phone, flags: flags)
        var changed: [String] = []
        if before.name != after.name { changed.append("name") }
        if before.born != after.born { changed.append("born") }
        if before.phone != after.phone { changed.append("phone") }
        if before.flags != after.flags { changed.append("flags") }
        try kiosk.database.audit(staff: staff.id, action: "member.edit", member: id, detail: changed.joined(separator: ","), at: kiosk.clock())
        return after
    }

    /// Registers a veterans' legacy card number for a member; audited.
    public func registerLegacyCard(_ number: String, member id: MemberID, staff: StaffAccount) throws {
        try kiosk.database.registerLegacyCard(number, member: id, at: kiosk.clock())
        try kiosk.database.audit(staff: staff.id, action: "card.legacy", member: id, detail: "number ending \(number.suffix(4))", at: kiosk.clock())
    }
}
