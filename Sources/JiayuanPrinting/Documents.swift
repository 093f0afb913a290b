import Foundation
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// Local wall-clock text for receipts: `2026-11-28 08:05`.
public func wallClock(_ date: Date, _ zone: TimeZone) -> String {
    "\(LocalTime(date, in: zone).date) \(clockTime(date, zone))"
}

/// Local time of day: `08:05`.
public func clockTime(_ date: Date, _ zone: TimeZone) -> String {
    let t = LocalTime(date, in: zone)
    let h = t.secondOfDay / 3600, m = t.secondOfDay / 60 % 60
    return "\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m)"
}

/// The documents the centre prints, as layout models (DESIGN.md §4). Names are masked on anything a
/// resident takes away, except the membership card, which carries the holder's name.
public enum Documents {
    static func header(_ config: KioskConfig) -> [PrintBlock] {
        [.title("家园中心"), .text("Jiayuan Home Centre", align: .center), .separator]
    }

    static func footer(_ config: KioskConfig) -> [PrintBlock] {
        [.separator, .footer("\(config.kioskID) · 谢谢 Thank you")]
    }

    /// The receipt number of an event: `R` + seq.
    public static func receiptNumber(seq: Int64) -> String { "R" + String(format: "%06lld", seq) }

    /// A check-in (or check-out) receipt: masked name, venue, time, occupancy.
    public static func checkinReceipt(_ d: Decision, venue: Venue, config: KioskConfig) -> PrintDocument {
        let zone = config.policy.zone(for: venue)
        let number = receiptNumber(seq: d.seq ?? 0)
        var blocks = header(config)
        blocks += [
            .text(d.direction == .in ? "签到凭条 Check-in" : "签退凭条 Check-out", align: .center, bold: true),
            .row(label: "单号 No.", value: number),
            .row(label: "会员 Member", value: d.member?.displayName ?? "-"),
            .row(label: "场所 Venue", value: venue.name.zh),
            .row(label: "", value: venue.name.en),
            .row(label: "时间 Time", value: wallClock(d.at, zone)),
            .row(label: "在场 Inside", value: "\(d.inside)/\(d.capacity)"),
            .text(d.message.zh),
        ]
        return PrintDocument(kind: "checkin-receipt", blocks: blocks + footer(config))
    }

    /// The day-care fee receipt at check-out: times, half/full day, lunch, the amount from integer fen.
    public static func daycareReceipt(_ d: Decision, charge: DaycareCharge, venue: Venue, config: KioskConfig, paid: Bool) -> PrintDocument
    {
        let zone = config.policy.zone(for: venue)
        var blocks = header(config)
        blocks += [
            .text("\(venue.name.zh) 收费凭条", align: .center, bold: true),
            .text("Day-care fee receipt", align: .center),
            .row(label: "单号 No.", value: receiptNumber(seq: d.seq ?? 0)),
            .row(label: "会员 Member", value: "\(d.member?.displayName ?? "-") \(d.member?.id.description ?? "")"),
            .row(label: "入场 In", value: wallClock(charge.checkedInAt, zone)),
            .row(label: "离场 Out", value: wallClock(charge.checkedOutAt, zone)),
            .row(label: "时段 Stay", value: charge.kind == .halfDay ? "半天 Half day" : "全天 Full day"),
            .row(label: "午餐 Lunch", value: charge.lunch ? "老饭桌 Yes" : "无 No"),
            .separator,
        ]
        if charge.free {
            blocks.append(.row(label: "金额 Amount", value: "免费 — 低保"))
            blocks.append(.row(label: "", value: "Free — low income"))
        } else {
            blocks.append(.row(label: "金额 Amount", value: "￥\(formatYuan(fen: charge.amountFen)) 元"))
            blocks.append(.row(label: "状态 Status", value: paid ? "已付 Paid" : "未付 Unpaid"))
        }
        blocks.append(.qr("JYR:" + receiptNumber(seq: d.seq ?? 0), caption: receiptNumber(seq: d.seq ?? 0)))
        return PrintDocument(kind: "daycare-receipt", blocks: blocks + footer(config))
    }

    /// The children's pickup slip: the guardian's security code as text and as a QR (`JYK:` + code).
    public static func pickupSlip(_ d: Decision, code: String, venue: Venue, config: KioskConfig) -> PrintDocument {
        let zone = config.policy.zone(for: venue)
        var blocks = header(config)
        blocks += [
            .text("接送条 Pickup slip", align: .center, bold: true),
            .row(label: "儿童 Child", value: d.member?.displayName ?? "-"),
            .row(label: "场所 Venue", value: venue.name.zh),
            .row(label: "入场 In", value: wallClock(d.at, zone)),
            .text("接送码 Pickup code", align: .center),
            .big(code),
            .qr(ScanReading.pickupPrefix + code, caption: nil),
            .text("请家长凭此条或接送码接孩子。Show this slip or the code to collect the child.", align: .center),
        ]
        return PrintDocument(kind: "pickup-slip", blocks: blocks + footer(config))
    }

    /// The pickup slip of a household drop-off: every child let in (names masked), one code, one QR.
    public static func householdSlip(_ h: HouseholdDecision, code: String, venue: Venue, config: KioskConfig) -> PrintDocument {
        let zone = config.policy.zone(for: venue)
        let children = h.moved.filter { $0.direction == .in }
        var blocks = header(config)
        blocks.append(.text("接送条 Pickup slip", align: .center, bold: true))
        for (i, d) in children.enumerated() {
            blocks.append(.row(label: i == 0 ? "儿童 Children" : "", value: d.member?.displayName ?? "-"))
        }
        blocks += [
            .row(label: "场所 Venue", value: venue.name.zh),
            .row(label: "入场 In", value: wallClock(children.first?.at ?? Date(), zone)),
            .text("接送码 Pickup code", align: .center),
            .big(code),
            .qr(ScanReading.pickupPrefix + code, caption: nil),
            .text("请家长凭此条或接送码接孩子。Show this slip or the code to collect the children.", align: .center),
        ]
        return PrintDocument(kind: "pickup-slip", blocks: blocks + footer(config))
    }

    /// A membership card: name, group, member id, valid until and the card QR.
    public static func memberCard(_ m: Member, card: IssuedCard, config: KioskConfig) -> PrintDocument {
        var blocks = header(config)
        blocks += [
            .text("会员卡 Membership card", align: .center, bold: true),
            .big(m.name),
            .row(label: "编号 ID", value: m.id.description),
            .row(label: "类别 Group", value: "\(m.group.zh) \(m.group.en)"),
            .row(label: "有效期至 Valid until", value: card.validUntil.description),
            .row(label: "卡号 Card", value: "#\(card.serial)"),
            .qr(card.code, caption: nil),
            .footer("扫码签到 Scan at the kiosk"),
        ]
        return PrintDocument(kind: "member-card", blocks: blocks)
    }

    /// A home-repair request slip: address, problem, requester, and the promised-by deadline.
    public static func repairSlip(_ slip: ServiceSlip, requester: Member?, config: KioskConfig) -> PrintDocument {
        var blocks = header(config)
        blocks += [
            .text("上门维修单 Home repair request", align: .center, bold: true),
            .row(label: "单号 No.", value: slip.number),
            .row(label: "登记 Logged", value: wallClock(slip.createdAt, config.timeZone)),
            .row(label: "申请人 By", value: requester.map { "\($0.displayName) \($0.id)" } ?? slip.details["requested_by"] ?? "-"),
            .text("地址 Address: \(slip.details["address"] ?? "")"),
            .text("问题 Problem: \(slip.details["problem"] ?? "")"),
        ]
        if let deadline = slip.deadline {
            blocks.append(.row(label: "承诺时限 Due by", value: wallClock(deadline, config.timeZone)))
            if slip.details["priority"] == "low_income" { blocks.append(.text("低保户 24 小时内上门 · Low-income: within 24 h", bold: true)) }
        }
        blocks.append(.qr("JYS:" + slip.number, caption: slip.number))
        return PrintDocument(kind: "repair-slip", blocks: blocks + footer(config))
    }

    /// A meal order / delivery slip.
    public static func mealSlip(_ slip: ServiceSlip, member: Member?, config: KioskConfig) -> PrintDocument {
        var blocks = header(config)
        let delivery = slip.details["delivery"] == "yes"
        blocks += [
            .text(delivery ? "送餐单 Meal delivery" : "订餐单 Meal order", align: .center, bold: true),
            .row(label: "单号 No.", value: slip.number),
            .row(label: "会员 Member", value: member.map { "\($0.displayName) \($0.id)" } ?? "-"),
            .row(label: "日期 Date", value: slip.details["date"] ?? slip.day.description),
            .row(label: "餐次 Meal", value: slip.details["meal"] ?? "午餐 Lunch"),
            .row(label: "份数 Portions", value: slip.details["portions"] ?? "1"),
        ]
        if delivery { blocks.append(.text("送至 Deliver to: \(slip.details["address"] ?? "")")) }
        if let note = slip.details["note"], !note.isEmpty { blocks.append(.text("备注 Note: \(note)")) }
        if let fen = slip.details["amount_fen"].flatMap(Int.init) {
            blocks.append(.row(label: "金额 Amount", value: fen == 0 ? "免费 Free" : "￥\(formatYuan(fen: fen)) 元"))
        }
        blocks.append(.qr("JYS:" + slip.number, caption: slip.number))
        return PrintDocument(kind: "meal-slip", blocks: blocks + footer(config))
    }

    /// A queue ticket for the public service hall, numbered per day.
    public static func queueTicket(_ slip: ServiceSlip, config: KioskConfig) -> PrintDocument {
        var blocks = header(config)
        blocks += [
            .text("便民服务大厅 排队号", align: .center, bold: true),
            .text("Public service hall — queue ticket", align: .center),
            .big(slip.number),
            .row(label: "服务 Service", value: slip.details["service"] ?? "综合 General"),
            .row(label: "取号 Taken", value: wallClock(slip.createdAt, config.timeZone)),
            .row(label: "今日 Today", value: "第 \(slip.seqOfDay) 号 No. \(slip.seqOfDay)"),
            .qr("JYS:" + slip.day.description + ":" + slip.number, caption: nil),
        ]
        return PrintDocument(kind: "queue-ticket", blocks: blocks + footer(config))
    }

    /// A printer test page: both languages, a row, a QR and the target.
    public static func testPage(target: String, at now: Date, config: KioskConfig) -> PrintDocument {
        var blocks = header(config)
        blocks += [
            .text("打印机测试页 Printer test page", align: .center, bold: true),
            .row(label: "打印机 Printer", value: target),
            .row(label: "时间 Time", value: wallClock(now, config.timeZone)),
            .text("中文显示正常则说明中文模式已开启。If you can read 中文 above, Chinese mode works."),
            .text("0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz"),
            .qr("JYT:" + config.kioskID, caption: "QR"),
        ]
        return PrintDocument(kind: "test-page", blocks: blocks + footer(config))
    }
}
