import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// The first page and the floor: who is inside now (updating live), checking people in and out on their
/// behalf by scanning their card or typing a name or id, today's day-care fees, alerts in plain words.
struct FloorController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to group: RouterGroup<ConsoleContext>) {
        group.get("", use: home)
        group.get("floor", use: floor)
        group.get("floor/live", use: live)
        group.post("floor/checkin", use: checkIn)
        group.post("floor/paid", use: paid)
        group.post("floor/household", use: collectHousehold)
        group.post("printer/resume", use: resumePrinter)
    }

    // MARK: Pages

    @Sendable func home(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let env = self.env
        let model = try await env.work { () throws -> HomePage in
            let kiosk = env.kiosk
            let now = kiosk.clock()
            var venues: [HomePage.VenueRow] = []
            for venue in kiosk.config.venues {
                let people = try kiosk.database.inside(venue: venue, at: now, policy: kiosk.config.policy)
                venues.append(
                    HomePage.VenueRow(
                        id: venue.id, zh: venue.name.zh, en: venue.name.en, inside: people.count, capacity: venue.capacity,
                        earliest: people.map(\.since).min().map(env.clock) ?? "—"))
            }
            let audit = staff.role == .admin ? try kiosk.database.auditLog(limit: 8).map { AuditRow($0, env: env) } : []
            return HomePage(
                venues: venues, alerts: try Alerts.current(env, csrf: context.csrf), printBacklog: try kiosk.database.printBacklog(),
                uploadBacklog: kiosk.config.upload.hub == nil ? nil : try kiosk.database.uploadState().backlog, audit: audit,
                isAdmin: staff.role == .admin)
        }
        return try env.page("home", title: "首页 Home", context: context, model)
    }

    @Sendable func floor(_ request: Request, context: ConsoleContext) async throws -> Response {
        try await floorPage(context: context)
    }

    /// The live part of the floor page alone, for the page's script to refresh every few seconds.
    @Sendable func live(_ request: Request, context: ConsoleContext) async throws -> Response {
        _ = try context.account
        let env = self.env
        let model = try await env.work { try FloorLive.load(env, csrf: context.csrf) }
        let html = try env.views.render(model, "floor-live")
        return Response(status: .ok, headers: ConsoleHeaders.html, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func floorPage(context: ConsoleContext, status: HTTPResponse.Status = .ok, flash: Flash? = nil, form: FloorForm? = nil) async throws
        -> Response
    {
        let env = self.env
        let live = try await env.work { try FloorLive.load(env, csrf: context.csrf) }
        let chosen = form?.venue
        let venues = env.kiosk.config.venues.map { VenueOption(id: $0.id, zh: $0.name.zh, en: $0.name.en, selected: $0.id == chosen) }
        return try env.page(
            "floor", title: "现场 The floor", context: context, status: status, flash: flash,
            FloorPage(venues: venues, member: status == .ok ? "" : form?.member ?? "", live: live))
    }

    // MARK: Actions

    @Sendable func checkIn(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let form = try await decodeForm(FloorForm.self, request, context)
        let env = self.env
        let text = form.member.trimmed
        let venue = form.venue.trimmed
        let code = form.guardian_code.trimmed
        do {
            let (id, decision) = try await env.work { () throws -> (MemberID, Decision) in
                let id = try MemberLookup.one(text, env: env)
                return (id, try env.desk.checkInOnBehalf(member: id, venue: venue, guardianCode: code.isEmpty ? nil : code, staff: staff))
            }
            var message = "\(id) \(decision.member?.displayName ?? ""): \(decision.message.zh) \(decision.message.en)"
            if let c = decision.charge, !c.free { message += " — 费用 fee ¥\(formatYuan(fen: c.amountFen))，收据正在打印 receipt printing" }
            return try await floorPage(
                context: context, status: decision.accepted ? .ok : .conflict, flash: decision.accepted ? .ok(message) : .error(message),
                form: form)
        } catch {
            return try await floorPage(context: context, status: .badRequest, flash: .error(KioskError.describe(error)), form: form)
        }
    }

    @Sendable func paid(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let form = try await decodeForm(FeeForm.self, request, context)
        guard let seq = Int64(form.seq.trimmed) else {
            return try await floorPage(context: context, status: .badRequest, flash: .error("没有费用编号。No fee number."))
        }
        let kiosk = env.kiosk
        do {
            try await env.work { try kiosk.database.markFeePaid(checkoutSeq: seq, by: staff.id, at: kiosk.clock()) }
            return try await floorPage(context: context, flash: .ok("费用 \(seq) 已收款。Fee \(seq) marked paid."))
        } catch {
            return try await floorPage(context: context, status: .badRequest, flash: .error(KioskError.describe(error)))
        }
    }
}

extension FloorController {
    /// Starts the receipt printer's CUPS queue again (the alert's button); audited.
    @Sendable func resumePrinter(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let kiosk = env.kiosk
        do {
            let done = try await env.work { try PrintService(kiosk: kiosk).resumePrinter(staff: staff.id, at: kiosk.clock()) }
            return try await floorPage(context: context, flash: .ok("打印机已重新启动。\(done)."))
        } catch {
            return try await floorPage(
                context: context, status: .badGateway,
                flash: .error("打印机没能重新启动：\(KioskError.describe(error))。The printer could not be started again."))
        }
    }
}

/// Finds the one member a box names: a scanned card (`JY1:…`), a member id, or a name or phone ending that
/// matches exactly one member.
enum MemberLookup {
    static func one(_ text: String, env: ConsoleEnvironment) throws -> MemberID {
        guard !text.isEmpty else { throw KioskError("请扫会员卡，或输入会员号或姓名。Scan the member's card, or type an id or a name.") }
        if let id = cardOrID(text, reader: env.reader) { return id }
        let found = try env.kiosk.database.members(search: text, limit: 6)
        switch found.count {
        case 0: throw KioskError("没有找到“\(text)”。No member matches \"\(text)\".")
        case 1: return found[0].id
        default:
            throw KioskError("有 \(found.count) 位会员符合“\(text)”：请扫卡或输入会员号。Several members match \"\(text)\": scan the card or type the id.")
        }
    }

    /// The member of a scanned card or a typed id; nil for anything else.
    static func cardOrID(_ text: String, reader: ScanReader) -> MemberID? {
        if text.uppercased().hasPrefix("JY1:"), case .card(let payload) = reader.read(text) { return MemberID(number: payload.member) }
        return MemberID(text)
    }
}

/// A venue in a `<select>`.
struct VenueOption {
    let id: String
    let zh: String
    let en: String
    let selected: Bool
}

/// The first page.
struct HomePage {
    struct VenueRow {
        let id: String
        let zh: String
        let en: String
        let inside: Int
        let capacity: Int
        let earliest: String
    }
    let venues: [VenueRow]
    let alerts: [Alerts.Line]
    let printBacklog: Int
    /// Nil when there is no hub.
    let uploadBacklog: Int64?
    let audit: [AuditRow]
    let isAdmin: Bool
}

/// The floor page.
struct FloorPage {
    let venues: [VenueOption]
    /// What was in the member box when the action failed (so nothing typed is lost).
    let member: String
    let live: FloorLive
}

/// The live part of the floor: who is inside where, today's fees, alerts.
struct FloorLive {
    struct Person {
        let member: String
        let name: String
        let group: String
        let since: String
        let venue: String
        let needsCode: Bool
        let csrf: String
    }
    struct VenueBlock {
        let id: String
        let zh: String
        let en: String
        let count: Int
        let capacity: Int
        let people: [Person]
        let hasPeople: Bool
        /// Children grouped by drop-off (household check-in); they are not in `people`.
        var households: [Household] = []
    }
    struct Fee {
        let seq: Int64
        let member: String
        let out: String
        let amount: String
        let paid: String?
        let payable: Bool
        let csrf: String
    }
    let venues: [VenueBlock]
    let fees: [Fee]
    let alerts: [Alerts.Line]
    let updated: String
    let hasFees: Bool

    static func load(_ env: ConsoleEnvironment, csrf: String) throws -> FloorLive {
        let kiosk = env.kiosk
        let now = kiosk.clock()
        var venues: [VenueBlock] = []
        let dropOffs = try Household.load(env, csrf: csrf, at: now)
        for venue in kiosk.config.venues {
            let households = dropOffs.filter { $0.venue == venue.id }
            let grouped = Set(households.flatMap { $0.children.map(\.member) })
            let people = try kiosk.database.inside(venue: venue, at: now, policy: kiosk.config.policy).filter {
                !grouped.contains($0.member.description)
            }.map { p in
                let m = try kiosk.database.member(p.member)
                return Person(
                    member: p.member.description, name: m?.name ?? "", group: "\(p.group.zh) \(p.group.en)", since: env.clock(p.since),
                    venue: venue.id,
                    needsCode: p.pickupCode != nil, csrf: csrf)
            }
            venues.append(
                VenueBlock(
                    id: venue.id, zh: venue.name.zh, en: venue.name.en, count: people.count + grouped.count, capacity: venue.capacity,
                    people: people, hasPeople: !people.isEmpty, households: households))
        }
        let today = kiosk.today()
        let zone = kiosk.config.timeZone
        let fees = try kiosk.database.daycareFees(
            from: LocalTime.instant(date: today, minute: 0, in: zone),
            to: LocalTime.instant(date: today.adding(days: 1), minute: 0, in: zone)
        ).map { f in
            Fee(
                seq: f.checkoutSeq, member: f.member.description, out: env.clock(f.checkoutAt),
                amount: f.free ? "免费 free" : "¥" + formatYuan(fen: f.amountFen),
                paid: f.waivedBy.map { "已免收（更正第 \($0) 号）waived by correction \($0)" } ?? f.paidAt.map { "已付 paid \(env.clock($0))" },
                payable: !f.settled && f.amountFen > 0, csrf: csrf)
        }
        return FloorLive(
            venues: venues, fees: fees, alerts: try Alerts.current(env, csrf: csrf), updated: env.clock(now), hasFees: !fees.isEmpty)
    }
}
