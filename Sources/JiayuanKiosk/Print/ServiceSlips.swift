import Foundation
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// A service slip someone asked for at the desk: the one set of rules for the command line and the staff
/// console (who may ask, what must be filled in, the repair deadline, the meal price).
public enum SlipRequest: Sendable {
    /// A home-repair request (上门维修): due within 24 h for low-income households, else 72 h.
    case repair(member: Member?, requestedBy: String?, address: String, problem: String)
    /// A meal order, or a delivery (送餐) with an address; free for low-income members.
    case meal(member: Member, meal: String, portions: Int, address: String?, date: String?, note: String?)
    /// A queue ticket for the public service hall.
    case queue(service: String)
}

extension Kiosk {
    /// Checks a request and turns it into what is recorded: kind, member, details and deadline.
    public func slipDraft(_ request: SlipRequest, at now: Date) throws -> (ServiceSlip.Kind, MemberID?, [String: String], Date?) {
        switch request {
        case .repair(let m, let requestedBy, let address, let problem):
            guard m != nil || !(requestedBy ?? "").trimmingWhitespace().isEmpty else {
                throw KioskError("a repair request needs the member or the name of who asked")
            }
            guard !address.trimmingWhitespace().isEmpty, !problem.trimmingWhitespace().isEmpty else {
                throw KioskError("the address and the problem must not be empty")
            }
            let lowIncome = m?.flags.contains(.lowIncome) == true
            var details = ["address": address, "problem": problem]
            if let requestedBy, !requestedBy.isEmpty { details["requested_by"] = requestedBy }
            if lowIncome { details["priority"] = "low_income" }
            return (.repair, m?.id, details, now.addingTimeInterval(Double(lowIncome ? 24 : 72) * 3600))
        case .meal(let m, let meal, let portions, let address, let date, let note):
            guard (1...20).contains(portions) else { throw KioskError("portions must be between 1 and 20") }
            if let date, CivilDate(iso: date) == nil { throw KioskError("\"\(date)\" is not a date like 2026-11-28") }
            let fen = m.flags.contains(.lowIncome) ? 0 : config.mealFen * portions
            var details = [
                "meal": meal, "portions": String(portions), "amount_fen": String(fen), "delivery": address == nil ? "no" : "yes",
            ]
            if let address { details["address"] = address }
            if let date { details["date"] = date }
            if let note, !note.isEmpty { details["note"] = note }
            return (.meal, m.id, details, nil)
        case .queue(let service):
            return (.queue, nil, ["service": service.isEmpty ? "综合 General" : service], nil)
        }
    }

    /// The printed slip.
    public func slipDocument(_ slip: ServiceSlip, request: SlipRequest) -> PrintDocument {
        switch request {
        case .repair(let m, _, _, _): Documents.repairSlip(slip, requester: m, config: config)
        case .meal(let m, _, _, _, _, _): Documents.mealSlip(slip, member: m, config: config)
        case .queue: Documents.queueTicket(slip, config: config)
        }
    }

    /// What the slip will look like, without recording it or taking a number.
    public func previewSlip(_ request: SlipRequest, at now: Date) throws -> PrintDocument {
        let (kind, member, details, deadline) = try slipDraft(request, at: now)
        let slip = ServiceSlip(
            number: "预览 PREVIEW", kind: kind, day: today(at: now), seqOfDay: 0, member: member, details: details, deadline: deadline,
            createdAt: now)
        return slipDocument(slip, request: request)
    }

    /// Records the slip with the day's next number and returns it with its document.
    public func issueSlip(_ request: SlipRequest, at now: Date) throws -> (ServiceSlip, PrintDocument) {
        let (kind, member, details, deadline) = try slipDraft(request, at: now)
        let slip = try recordSlip(kind, member: member, details: details, deadline: deadline, at: now)
        return (slip, slipDocument(slip, request: request))
    }

    /// Records the slip with the day's next number, its print job and the staff member's audit entry, all in
    /// one transaction.
    public func printSlip(_ request: SlipRequest, staff: Int64, at now: Date) throws -> (ServiceSlip, PrintJob) {
        let (kind, member, details, deadline) = try slipDraft(request, at: now)
        let printing = PrintService(kiosk: self)
        let (slip, job) = try recordSlip(
            kind, member: member, details: details, deadline: deadline, at: now,
            print: { slip in try printing.newJob(self.slipDocument(slip, request: request), number: slip.number) },
            audit: AuditNote(staff: staff, action: "slip.\(kind.rawValue)", at: now))
        return (slip, job!)
    }
}
