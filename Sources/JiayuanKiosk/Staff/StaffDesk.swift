import Foundation
import JiayuanDomain
import JiayuanPrinting
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
            receipts: CheckInService.Receipts(requested: true),
            audit: { d in
                let what = d.accepted ? "\(d.direction.rawValue) \(venue)" : "denied \(venue): \(d.reason?.rawValue ?? "")"
                return AuditNote(
                    staff: staff.id, action: "floor.\(d.direction == .out ? "checkout" : "checkin")", member: id, detail: what,
                    at: kiosk.clock())
            })
        return decision
    }

    /// Registers a member (all or nothing, audited in the same transaction).
    public func register(_ new: NewMember, staff: StaffAccount) throws -> Member {
        try kiosk.database.addMember(
            new, at: kiosk.clock(), audit: AuditNote(staff: staff.id, action: "member.add", detail: new.group.rawValue, at: kiosk.clock()))
    }

    /// Issues the member's next card (the old one stops working) and queues the membership card for the
    /// printer; card, print job and audit entry in one transaction.
    public func reissueCard(member id: MemberID, staff: StaffAccount) throws -> (IssuedCard, PrintJob) {
        let key = try kiosk.data.loadSigningKey()
        guard let member = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
        let printing = PrintService(kiosk: kiosk)
        let config = kiosk.config
        let (card, job) = try kiosk.database.issueCard(
            member: id, keyID: key.keyID, today: kiosk.today(), validityDays: config.cardValidityDays, at: kiosk.clock(), sign: key.sign,
            print: { card in try printing.newJob(Documents.memberCard(member, card: card, config: config), number: id.description) },
            audit: AuditNote(staff: staff.id, action: "card.issue", at: kiosk.clock()))
        return (card, job!)
    }

    /// Prints the member's current card again (same code, nothing revoked); job and audit entry together.
    public func printCurrentCard(member id: MemberID, staff: StaffAccount) throws -> PrintJob {
        guard let member = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
        guard member.active, let card = try kiosk.database.cards(of: id).first(where: { !$0.revoked }) else {
            throw KioskError("\(id) has no valid card: issue a new one")
        }
        let job = try PrintService(kiosk: kiosk).newJob(
            Documents.memberCard(member, card: card, config: kiosk.config), number: id.description)
        return try kiosk.database.enqueuePrint(
            job, audit: AuditNote(staff: staff.id, action: "card.print", member: id, detail: "serial \(card.serial)", at: kiosk.clock()))
    }

    /// Deactivates a member: their cards stop working, their history stays; audited in the same transaction.
    public func deactivate(member id: MemberID, staff: StaffAccount) throws {
        try kiosk.database.deactivateMember(
            id, audit: AuditNote(staff: staff.id, action: "member.deactivate", member: id, at: kiosk.clock()))
    }

    /// Makes a deactivated member active again (their old cards stay void); audited in the same transaction.
    public func reactivate(member id: MemberID, staff: StaffAccount) throws {
        try kiosk.database.reactivateMember(
            id, audit: AuditNote(staff: staff.id, action: "member.reactivate", member: id, at: kiosk.clock()))
    }

    /// Corrects a member's name, birth year, phone or flags; audited (in the same transaction) with what
    /// changed, not the values.
    public func edit(member id: MemberID, name: String, born: Int?, phone: String?, flags: Set<MemberFlag>, staff: StaffAccount) throws
        -> Member
    {
        try kiosk.database.updateMember(
            id, name: name, born: born, phone: phone, flags: flags,
            audit: AuditNote(staff: staff.id, action: "member.edit", member: id, at: kiosk.clock()))
    }

    /// Registers a veterans' legacy card number for a member; audited (by its last four digits).
    public func registerLegacyCard(_ number: String, member id: MemberID, staff: StaffAccount) throws {
        try kiosk.database.registerLegacyCard(
            number, member: id, at: kiosk.clock(),
            audit: AuditNote(
                staff: staff.id, action: "card.legacy", member: id, detail: "number ending \(number.suffix(4))", at: kiosk.clock()))
    }

    /// Queues job `id` again on the configured printer; audited with the new job.
    public func reprint(job id: Int64, staff: StaffAccount) throws -> PrintJob {
        try kiosk.database.reprint(
            id, target: try PrintService(kiosk: kiosk).target().description, at: kiosk.clock(),
            audit: AuditNote(staff: staff.id, action: "print.reprint", at: kiosk.clock()))
    }
}
