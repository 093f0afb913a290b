import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore

/// `jiayuan checkin CODE --venue V --children all|M000123,…`: household check-in (issue 16).
extension CheckIn {
    /// The household answer for this command line, or nil when the single check-in path applies.
    func household(_ service: CheckInService, code text: String) throws -> HouseholdAnswer? {
        var selection: ChildSelection?
        if let children {
            guard let parsed = ChildSelection(text: children) else {
                throw ValidationError("--children takes all or member ids like M000123,M000124")
            }
            selection = parsed
        }
        return try service.household(
            code: text, venue: venue, children: selection, guardianCode: guardianCode,
            at: try parseInstant(at, zone: service.kiosk.config.timeZone), printer: target.printer)
    }

    /// Prints a household answer; exits 0 when a child came in or left, 3 when every child was refused, and 64
    /// (nobody checked in) when a guardian's card came without `--children`.
    func report(_ answer: HouseholdAnswer, kiosk: Kiosk) throws {
        switch answer {
        case .chooseChildren(let choice):
            if json {
                print(choice.json)
            } else {
                print("\(choice.guardian.displayName) (\(choice.guardian.id)) brings or collects:")
                for c in choice.children {
                    let state = c.inside ? "inside" : c.preview.accepted ? "may come in" : (c.preview.reason?.rawValue ?? "-")
                    print("  \(c.member.id) \(c.member.displayName) · \(state)")
                }
            }
            FileHandle.standardError.write(
                Data("jiayuan: this is a guardian's card; choose the children with --children all or M000123,M000124\n".utf8))
            throw ExitCode(64)
        case .decided(let household):
            if json {
                print(household.json)
            } else {
                if let code = household.pickupCode { print("接送码 Pickup code: \(code)") }
                for d in household.decisions {
                    print("\(d.accepted ? "✔" : "✘") \(d.member?.id.description ?? "-") \(d.message.zh)")
                    print("  \(d.message.en)")
                }
            }
            // The slip was queued with the drop-off; try to print it now (a printer problem never changes the answer).
            if household.pickupCode != nil { _ = try? PrintService(kiosk: kiosk).spoolNow() }
            if household.moved.isEmpty { throw ExitCode(3) }
        }
    }
}
