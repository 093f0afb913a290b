import Foundation
import JiayuanDomain
import JiayuanStore

/// Why staff could not release a child without the pickup code.
public enum ReleaseError: PlainWordsError, Equatable, Sendable {
    /// The adult collecting is not a registered, active guardian of the child.
    case notAGuardian(child: MemberID, adult: MemberID)
    /// The child is not inside that venue, or the venue hands children over without a code anyway.
    case notInside(child: MemberID, venue: String)
    /// The reason is empty, too long or holds control characters.
    case badReason

    public var plainWords: String {
        switch self {
        case .notAGuardian(let child, let adult):
            "\(adult) 不是 \(child) 登记的监护人，不能接走孩子。\(adult) is not a registered guardian of \(child): the child stays."
        case .notInside(let child, let venue):
            "\(child) 不在需要接送码的场所 \(venue) 里。\(child) is not inside \(venue), or \(venue) needs no pickup code."
        case .badReason:
            "请写明情况（1 到 \(StaffReason.maxLength) 个字，例如“接送条丢失，已核对身份证”）。Say what happened in 1 to \(StaffReason.maxLength) characters, e.g. \"slip lost, ID card checked\"."
        }
    }
}

extension StaffDesk {
    /// Releases a child to a registered guardian who has neither the slip nor the code, after staff checked
    /// the adult's identity: the child leaves as a staff event through the same engine (the code on record
    /// is used, never shown), audited with the guardian and the reason in the same transaction. Never to an
    /// adult who is not the child's registered, active guardian.
    public func releaseChild(
        _ child: MemberID, venue venueID: String, to guardian: MemberID, reason: String, staff: StaffAccount
    ) throws -> Decision {
        let kiosk = service.kiosk
        guard let reason = StaffReason.validated(reason) else { throw ReleaseError.badReason }
        let venue = try kiosk.venue(venueID)
        guard let member = try kiosk.database.member(child), member.guardians.contains(guardian),
            try kiosk.database.member(guardian)?.active == true
        else { throw ReleaseError.notAGuardian(child: child, adult: guardian) }
        guard venue.guardianCode,
            let code = try kiosk.database.inside(venue: venue, at: kiosk.clock(), policy: kiosk.config.policy)
                .first(where: { $0.member == child })?.pickupCode
        else { throw ReleaseError.notInside(child: child, venue: venue.id) }
        guard let card = try kiosk.database.cards(of: child).first(where: { !$0.revoked }) else {
            throw KioskError("\(child) has no valid card: issue one first (the desk checks members out with their current card)")
        }
        return try service.checkIn(
            code: card.code, venue: venue.id, guardianCode: code, via: .staff, receipts: CheckInService.Receipts(requested: false),
            audit: { d in
                AuditNote(
                    staff: staff.id, action: "floor.release", member: child,
                    detail: d.accepted
                        ? "out \(venue.id) to guardian \(guardian) without the code: \(reason)"
                        : "denied \(venue.id): \(d.reason?.rawValue ?? "")",
                    at: kiosk.clock())
            })
    }
}
