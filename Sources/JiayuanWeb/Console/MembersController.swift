import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore

/// Members: find (by name, id, phone ending, or a scanned card), register, the member page with the card's
/// preview, printing it again, re-issuing it, editing, legacy cards, deactivating and reactivating.
struct MembersController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to group: RouterGroup<ConsoleContext>) {
        group.get("members", use: search)
        group.get("members/new", use: newForm)
        group.post("members/new", use: register)
        group.get("members/{id}", use: show)
        group.post("members/{id}/card", use: reissue)
        group.post("members/{id}/print-card", use: printCard)
        group.post("members/{id}/deactivate", use: deactivate)
        group.post("members/{id}/reactivate", use: reactivate)
        group.post("members/{id}/edit", use: edit)
        group.post("members/{id}/legacy", use: legacy)
        group.post("members/{id}/correct", use: correct)
        group.post("members/{id}/release", use: release)
    }

    // MARK: Finding

    @Sendable func search(_ request: Request, context: ConsoleContext) async throws -> Response {
        let q = String((request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))
        let env = self.env
        // A scanned card or an exact id goes straight to the member.
        if let id = MemberLookup.cardOrID(q, reader: env.reader), try await env.work({ try env.kiosk.database.member(id) }) != nil {
            return env.redirect("/staff/members/\(id)")
        }
        let found = q.isEmpty ? [] : try await env.work { try env.kiosk.database.members(search: q, limit: 50) }
        let rows = found.map {
            SearchPage.Row(
                id: $0.id.description, name: $0.name, group: "\($0.group.zh) \($0.group.en)", phone: Self.phoneTail($0.phone),
                inactive: !$0.active)
        }
        return try env.page("members", title: "会员 Members", context: context, SearchPage(q: q, rows: rows, searched: !q.isEmpty))
    }

    /// `…1234`: staff recognise a member by the end of the number; the whole number stays off the screen.
    static func phoneTail(_ phone: String?) -> String {
        guard let phone, phone.count >= 4 else { return "—" }
        return "…" + phone.suffix(4)
    }

    // MARK: The member page

    @Sendable func show(_ request: Request, context: ConsoleContext) async throws -> Response {
        try await memberPage(try memberID(context), context: context)
    }

    func memberID(_ context: ConsoleContext) throws -> MemberID {
        guard let id = context.parameters.get("id").flatMap(MemberID.init) else { throw ConsoleError.notFound }
        return id
    }

    func memberPage(_ id: MemberID, context: ConsoleContext, status: HTTPResponse.Status = .ok, flash: Flash? = nil) async throws
        -> Response
    {
        let env = self.env
        let model = try await env.work { () throws -> MemberPage? in
            let kiosk = env.kiosk
            guard let m = try kiosk.database.member(id) else { return nil }
            let cards = try kiosk.database.cards(of: id)
            let current = cards.first { !$0.revoked }
            let preview = current.map {
                HTMLPreview.render(
                    Documents.memberCard(m, card: $0, config: kiosk.config), paper: PrintService(kiosk: kiosk).paper, inlineStyles: false)
            }
            let visits = try kiosk.visits(of: id, days: 30, limit: 50)
            var page = MemberPage(member: m, cards: cards, preview: preview, visits: visits, csrf: context.csrf)
            // A child inside a venue that hands children over by code: the desk's way to release them without it.
            for venue in kiosk.config.venues where venue.guardianCode && !m.guardians.isEmpty {
                guard
                    let visit = try kiosk.database.inside(venue: venue, at: kiosk.clock(), policy: kiosk.config.policy)
                        .first(where: { $0.member == id })
                else { continue }
                let guardians = try m.guardians.compactMap { try kiosk.database.member($0) }.filter(\.active)
                page.release.append(
                    MemberPage.Release(
                        venue: venue.id, zh: venue.name.zh, en: venue.name.en, since: env.clock(visit.since),
                        guardians: guardians.map { MemberPage.Release.Guardian(id: $0.id.description, name: $0.name) }))
            }
            return page
        }
        guard let model else { throw ConsoleError.notFound }
        return try env.page("member", title: "\(model.name) \(model.id)", context: context, status: status, flash: flash, model)
    }

    /// A POSTed action on one member: runs `work` on the console's lane and shows the member page with its
    /// message, or the error in plain words (nothing half-done: each action is one transaction).
    func action(
        _ request: Request, _ context: ConsoleContext, _ work: @escaping @Sendable (StaffAccount, MemberID) throws -> String
    ) async throws -> Response {
        let staff = try context.account
        let id = try memberID(context)
        do {
            let message = try await env.work { try work(staff, id) }
            return try await memberPage(id, context: context, flash: .ok(message))
        } catch {
            return try await memberPage(id, context: context, status: .badRequest, flash: .error(KioskError.describe(error)))
        }
    }

    @Sendable func reissue(_ request: Request, context: ConsoleContext) async throws -> Response {
        let desk = env.desk
        return try await action(request, context) { staff, id in
            let (card, job) = try desk.reissueCard(member: id, staff: staff)
            return
                "新卡已发（第 \(card.serial) 张），旧卡失效；打印任务 \(job.id)。New card \(card.serial) issued, the old one stops working; print job \(job.id)."
        }
    }

    @Sendable func printCard(_ request: Request, context: ConsoleContext) async throws -> Response {
        let desk = env.desk
        return try await action(request, context) { staff, id in
            let job = try desk.printCurrentCard(member: id, staff: staff)
            return "会员卡已送打印（任务 \(job.id)），卡号不变。The card went to the printer (job \(job.id)); it is the same card."
        }
    }

    @Sendable func deactivate(_ request: Request, context: ConsoleContext) async throws -> Response {
        let desk = env.desk
        return try await action(request, context) { staff, id in
            try desk.deactivate(member: id, staff: staff)
            return "已停用：卡片失效，记录保留。Deactivated: the cards stop working, the history stays."
        }
    }

    @Sendable func reactivate(_ request: Request, context: ConsoleContext) async throws -> Response {
        let desk = env.desk
        return try await action(request, context) { staff, id in
            try desk.reactivate(member: id, staff: staff)
            return "已恢复。旧卡仍然无效，请补发新卡。Reactivated. Old cards stay void: issue a new card."
        }
    }

    /// Voids one of the member's check-ins (wrong venue or person) with a correction event; audited.
    @Sendable func correct(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await decodeForm(CorrectForm.self, request, context)
        let kiosk = env.kiosk
        return try await action(request, context) { staff, id in
            guard let seq = form.seq.flatMap({ Int64($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw CorrectionError.noSuchEvent(seq: 0)
            }
            let c = try kiosk.correct(seq: seq, of: id, reason: form.reason ?? "", staff: staff.id)
            var message = "第 \(seq) 号签到已作废，不计入统计。Check-in \(seq) is voided and left out of the figures."
            if c.wasInside { message += " 已从场内名单移除。Taken off the floor." }
            if let fee = c.waivedFee {
                message +=
                    fee.paidAt == nil
                    ? " 日间照料费已免收。The day-care fee is waived."
                    : " 日间照料费已付，请退款 ¥\(formatYuan(fen: fee.amountFen))。The fee was paid: refund it."
            }
            return message
        }
    }

    /// Releases a child to a registered guardian without the slip or code, after staff checked the adult's ID.
    @Sendable func release(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await decodeForm(ReleaseForm.self, request, context)
        let desk = env.desk
        return try await action(request, context) { staff, id in
            guard let guardian = form.guardian.flatMap({ MemberID($0.trimmingCharacters(in: .whitespaces)) }) else {
                throw KioskError("请选择来接孩子的监护人。Choose the guardian who is collecting.")
            }
            let d = try desk.releaseChild(id, venue: form.venue ?? "", to: guardian, reason: form.reason ?? "", staff: staff)
            guard d.accepted else { throw KioskError(d.message.zh + " " + d.message.en) }
            return "\(id) 已交给监护人 \(guardian)（已记录）。\(id) went home with guardian \(guardian) (recorded)."
        }
    }

    @Sendable func edit(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await decodeForm(EditForm.self, request, context)
        let desk = env.desk
        let kiosk = env.kiosk
        return try await action(request, context) { staff, id in
            guard let current = try kiosk.database.member(id) else { throw KioskError("no member \(id)") }
            let typedPhone = (form.phone ?? "").filter { !$0.isWhitespace }
            do {
                _ = try desk.edit(
                    member: id, name: form.name.trimmed, born: try birthYear(form.born.trimmed),
                    phone: typedPhone.isEmpty ? current.phone : typedPhone,
                    flags: form.flags, staff: staff)
            } catch {
                throw KioskError("没有保存 Nothing was saved: \(KioskError.describe(error))")
            }
            return "已保存。Saved."
        }
    }

    @Sendable func legacy(_ request: Request, context: ConsoleContext) async throws -> Response {
        let form = try await decodeForm(LegacyForm.self, request, context)
        let desk = env.desk
        return try await action(request, context) { staff, id in
            try desk.registerLegacyCard(form.number.trimmed, member: id, staff: staff)
            return "旧证件已登记。Legacy card registered."
        }
    }

    // MARK: Registering

    @Sendable func newForm(_ request: Request, context: ConsoleContext) async throws -> Response {
        try env.page("register", title: "登记新会员 Register a member", context: context, RegisterPage(form: RegisterForm()))
    }

    @Sendable func register(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let form = try await decodeForm(RegisterForm.self, request, context)
        let desk = env.desk
        do {
            let new = try form.newMember()
            let member = try await env.work { try desk.register(new, staff: staff) }
            return env.redirect("/staff/members/\(member.id)")
        } catch {
            return try env.page(
                "register", title: "登记新会员 Register a member", context: context, status: .badRequest,
                flash: .error("没有保存 Nothing was saved: \(KioskError.describe(error))"), RegisterPage(form: form))
        }
    }
}

/// Search results.
struct SearchPage {
    struct Row {
        let id: String
        let name: String
        let group: String
        let phone: String
        let inactive: Bool
    }
    let q: String
    let rows: [Row]
    let searched: Bool
    /// Searched and nothing found.
    var none: Bool = false

    init(q: String, rows: [Row], searched: Bool) {
        self.q = q
        self.rows = rows
        self.searched = searched
        none = searched && rows.isEmpty
    }
}

/// One member.
struct MemberPage {
    struct CardRow {
        let serial: Int
        let issued: String
        let validUntil: String
        let state: String
    }
    let id: String
    let name: String
    let group: String
    let born: String
    let phone: String
    let flags: String
    let active: Bool
    let guardians: [String]
    let hasGuardians: Bool
    let cards: [CardRow]
    /// The printed card's preview (HTML made by `HTMLPreview`, which escapes its text).
    let preview: String?
    let flagBoxes: [FlagBox]
    let bornValue: String
    /// The last 30 days' check-ins, check-outs and refusals, newest first (at most 50).
    let visits: [VisitLine]
    /// A child inside a venue that hands children over by code: who may collect them without it.
    struct Release {
        struct Guardian {
            let id: String
            let name: String
        }
        let venue: String
        let zh: String
        let en: String
        let since: String
        let guardians: [Guardian]
    }
    var release: [Release] = []
    let hasVisits: Bool
    let csrf: String

    init(member m: Member, cards: [IssuedCard], preview: String?, visits: [VisitLine], csrf: String) {
        id = m.id.description
        name = m.name
        group = "\(m.group.zh) \(m.group.en)"
        born = m.born.map(String.init) ?? "—"
        bornValue = m.born.map(String.init) ?? ""
        phone = MembersController.phoneTail(m.phone)
        flags = m.flags.isEmpty ? "—" : m.flags.map { FlagLabels.label($0) }.sorted().joined(separator: "，")
        active = m.active
        guardians = m.guardians.map(\.description)
        hasGuardians = !m.guardians.isEmpty
        self.cards = cards.map {
            CardRow(
                serial: Int($0.serial), issued: $0.issued.description, validUntil: $0.validUntil.description,
                state: $0.revoked ? "已作废 void" : "有效 valid")
        }
        self.preview = preview
        flagBoxes = FlagBox.all(m.flags)
        self.visits = visits
        hasVisits = !visits.isEmpty
        self.csrf = csrf
    }
}

/// The registration form, refilled after a mistake.
struct RegisterPage {
    struct Option {
        let value: String
        let label: String
        let selected: Bool
    }
    let name: String
    let born: String
    let phone: String
    let guardians: String
    let groups: [Option]
    let flagBoxes: [FlagBox]

    init(form: RegisterForm) {
        name = form.name ?? ""
        born = form.born ?? ""
        phone = form.phone ?? ""
        guardians = form.guardians ?? ""
        groups = MemberGroup.allCases.map { Option(value: $0.rawValue, label: "\($0.zh) \($0.en)", selected: form.group == $0.rawValue) }
        flagBoxes = FlagBox.all(form.flags)
    }
}

/// A flag as a checkbox (the member page's edit form and the registration form).
struct FlagBox {
    let key: String
    let label: String
    let checked: Bool

    /// Every flag, ticked where `chosen` has it.
    static func all(_ chosen: Set<MemberFlag>) -> [FlagBox] {
        MemberFlag.allCases.map { FlagBox(key: $0.rawValue, label: FlagLabels.label($0), checked: chosen.contains($0)) }
    }
}

/// Member flags in words.
enum FlagLabels {
    static func label(_ flag: MemberFlag) -> String {
        switch flag {
        case .lowIncome: "低保 Low income"
        case .disabled: "残疾 Disabled"
        case .blind: "视障 Blind"
        case .hardOfHearing: "听障 Hard of hearing"
        }
    }
}
