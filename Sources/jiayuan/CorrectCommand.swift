import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// `jiayuan correct SEQ --reason TEXT`: voids a wrong check-in with a correction event (never an edit).
struct Correct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Void a wrong check-in (wrong venue or person) by its number; the figures leave it out (audited).",
        discussion: """
            SEQ is the check-in's number, shown by `jiayuan member visits ID`. A correction event naming it is \
            added to the log (nothing is edited or deleted), the member is taken off the floor if still inside, \
            and a day-care fee of the visit is waived with the reason. The reason stays on the kiosk (audit log); \
            the hub receives only which check-in was voided.
            """)
    @OptionGroup var data: DataOption
    @Argument(help: "The check-in's number (seq), e.g. 1042.") var seq: Int64
    @Option(help: "Why, in a few words (1 to \(StaffReason.maxLength) characters), e.g. \"wrong venue\".") var reason: String

    func validate() throws {
        guard seq >= 1 else { throw ValidationError("SEQ is a check-in's number, 1 or more") }
        guard StaffReason.validated(reason) != nil else {
            throw ValidationError("--reason must be 1 to \(StaffReason.maxLength) characters of plain text")
        }
    }

    func run() throws {
        let kiosk = try data.open()
        let c = try kiosk.correct(seq: seq, reason: reason, staff: nil)
        let venue = kiosk.config.venue(c.voided.venue)?.name ?? Bilingual(zh: c.voided.venue, en: c.voided.venue)
        let who = c.voided.member?.description ?? "?"
        print(
            "第 \(seq) 号签到已作废（更正记录第 \(c.event.seq) 号）。Check-in \(seq) (\(who), \(venue.zh) \(venue.en)) is voided by event \(c.event.seq).")
        if c.wasInside { print("  \(who) 已不在场内。\(who) is no longer shown inside.") }
        if let fee = c.waivedFee {
            let amount = "¥" + formatYuan(fen: fee.amountFen)
            print(
                fee.paidAt == nil
                    ? "  日间照料费 \(amount)（第 \(fee.checkoutSeq) 号）已免收。Day-care fee \(fee.checkoutSeq) (\(amount)) is waived."
                    : "  日间照料费 \(amount)（第 \(fee.checkoutSeq) 号）已付，请退款。Fee \(fee.checkoutSeq) (\(amount)) was paid: refund it.")
        }
    }
}
