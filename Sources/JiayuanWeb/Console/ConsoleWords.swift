import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// Alerts for the desk, each saying what happened and what to do, in both languages.
enum Alerts {
    struct Line {
        let zh: String
        let en: String
        /// The printer's queue is stopped: the line carries a "start it again" button.
        var resume = false
        /// The page's form token, for that button.
        var csrf = ""
    }

    static func current(_ env: ConsoleEnvironment, csrf: String) throws -> [Line] {
        let kiosk = env.kiosk
        var lines: [Line] = try kiosk.database.openAlerts().map { a in
            let venue = kiosk.config.venue(a.venue).map { "\($0.name.zh) \($0.name.en)" } ?? a.venue
            let who = a.member.map { $0.description } ?? ""
            switch a.kind {
            case "inside_at_closing":
                return Line(
                    zh: "\(venue)：\(who) 闭馆时仍在场。请找到本人，确认安全后在“现场”页为其签出。",
                    en:
                        "\(who) was still inside \(venue) at closing: find them, make sure they are safe, then check them out on the Floor page."
                )
            case "upload_conflict":
                return Line(
                    zh: "区里的服务器拒收了本机的记录，上传已暂停。记录都在本机，不会丢。请联系街道技术员。",
                    en:
                        "The district hub refused this kiosk's records and uploading has stopped. Nothing is lost here. Call the sub-district's technician."
                )
            case "pickup_locked":
                return Line(
                    zh: "\(venue)：接送码连续输错，扫接送条签出已暂停 15 分钟。请核对接孩子的人，在“现场”页为孩子签出。",
                    en:
                        "\(venue): too many wrong pickup codes, so pickup-slip check-outs are paused for 15 minutes. Check who is collecting and check the child out on the Floor page."
                )
            default:
                return Line(zh: "\(venue) \(who)：\(a.kind)", en: "\(a.kind) at \(venue) \(who)")
            }
        }
        let printer = Doctor.printer(kiosk)
        if printer.verdict == .problem {
            let words = printer.words ?? Bilingual(zh: printer.detail, en: printer.detail)
            lines.append(
                Line(
                    zh: "打印机有问题：\(words.zh)。请检查纸和电源；打印任务会保留，修好后自动打印。",
                    en: "The printer has a problem: \(words.en). Check the paper and the power; jobs are kept and print once it is fixed.",
                    resume: printer.stopped, csrf: csrf))
        }
        if kiosk.config.upload.hub != nil, let upload = try? kiosk.database.uploadState(), upload.backlog > 0, let error = upload.lastError
        {
            lines.append(
                Line(
                    zh: "有 \(upload.backlog) 条记录还没上传（\(error)）。记录在本机保存，网络恢复后会自动上传。",
                    en:
                        "\(upload.backlog) records are not uploaded yet (\(error)). They are kept here and go up by themselves once the network is back."
                ))
        }
        return lines
    }
}

/// One audit entry in local time and words.
struct AuditRow {
    let at: String
    let who: String
    let what: String
    let member: String
    let detail: String

    init(_ e: AuditEntry, env: ConsoleEnvironment) {
        at = env.localTime(e.at)
        who = e.staff ?? "—"
        what = AuditRow.words(e.action)
        member = e.member?.description ?? ""
        detail = e.detail
    }

    /// What an action is called at the desk.
    static func words(_ action: String) -> String {
        switch action {
        case "staff.login": "登录 Logged in"
        case "staff.logout": "退出 Logged out"
        case "staff.locked": "登录锁定 Log-in locked"
        case "staff.unlock": "解锁 Unlocked"
        case "staff.add": "新员工 Staff added"
        case "member.add": "登记会员 Registered a member"
        case "member.edit": "修改会员 Edited a member"
        case "member.deactivate": "停用会员 Deactivated a member"
        case "member.reactivate": "恢复会员 Reactivated a member"
        case "event.correct": "更正作废一次签到 Voided a wrong check-in"
        case "floor.release": "核对身份后交给监护人（无接送码） Released a child to a guardian without the code"
        case "card.issue": "发新卡 Issued a card"
        case "card.print": "重印会员卡 Printed a card again"
        case "card.legacy": "登记旧证件 Registered a legacy card"
        case "floor.checkin": "代为签到 Checked in for a member"
        case "floor.checkout": "代为签出 Checked out for a member"
        case "fee.paid": "收费 Fee paid"
        case "slip.repair": "维修单 Repair slip"
        case "slip.meal": "订餐单 Meal order"
        case "slip.queue": "排队号 Queue ticket"
        case "print.reprint": "重印 Reprint"
        case "print.resume": "重新启动打印机 Started the printer again"
        case "figures.export": "导出统计 Exported figures"
        default: action
        }
    }
}
