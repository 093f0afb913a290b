import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore

/// Service slips (home repair, meal order, queue ticket) with a preview that records nothing, printing
/// (numbered, queued and audited in one transaction), the print history and reprints.
struct SlipsController: Sendable {
    let env: ConsoleEnvironment

    func addRoutes(to group: RouterGroup<ConsoleContext>) {
        group.get("slips", use: slips)
        group.post("slips", use: post)
        group.post("prints/{id}/reprint", use: reprint)
    }

    @Sendable func slips(_ request: Request, context: ConsoleContext) async throws -> Response {
        try await page(context: context)
    }

    func page(
        context: ConsoleContext, status: HTTPResponse.Status = .ok, flash: Flash? = nil, form: SlipForm = SlipForm(), preview: String? = nil
    ) async throws -> Response {
        let kiosk = env.kiosk
        let jobs = try await env.work { try kiosk.database.printJobs(limit: 30) }
        let env = self.env
        let model = SlipsPage(
            form: form, preview: preview,
            jobs: jobs.map {
                SlipsPage.Job(
                    id: $0.id, document: "\(Self.kindWords($0.kind)) \($0.documentNumber ?? "")", state: Self.stateWords($0.state),
                    error: $0.lastError ?? "", when: env.localTime($0.createdAt), csrf: context.csrf, hasError: $0.lastError != nil)
            })
        return try env.page("slips", title: "单据 Slips", context: context, status: status, flash: flash, model)
    }

    @Sendable func post(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        let form = try await decodeForm(SlipForm.self, request, context)
        let kiosk = env.kiosk
        do {
            if form.action == "print" {
                let (slip, job) = try await env.work { () throws -> (ServiceSlip, PrintJob) in
                    try kiosk.printSlip(try form.request(kiosk: kiosk), staff: staff.id, at: kiosk.clock())
                }
                return try await page(
                    context: context, flash: .ok("\(slip.number) 已送打印（任务 \(job.id)）。\(slip.number) went to the printer (job \(job.id))."))
            }
            let html = try await env.work { () throws -> String in
                let doc = try kiosk.previewSlip(try form.request(kiosk: kiosk), at: kiosk.clock())
                return HTMLPreview.render(doc, paper: PrintService(kiosk: kiosk).paper, inlineStyles: false)
            }
            return try await page(context: context, form: form, preview: html)
        } catch {
            return try await page(context: context, status: .badRequest, flash: .error(KioskError.describe(error)), form: form)
        }
    }

    @Sendable func reprint(_ request: Request, context: ConsoleContext) async throws -> Response {
        let staff = try context.account
        guard let id = context.parameters.get("id").flatMap(Int64.init) else { throw ConsoleError.notFound }
        let desk = env.desk
        do {
            let job = try await env.work { try desk.reprint(job: id, staff: staff) }
            return try await page(context: context, flash: .ok("已重印，任务 \(job.id)。Reprint queued as job \(job.id)."))
        } catch {
            return try await page(context: context, status: .badRequest, flash: .error(KioskError.describe(error)))
        }
    }

    static func kindWords(_ kind: String) -> String {
        switch kind {
        case "member-card": "会员卡 Card"
        case "repair-slip": "维修单 Repair"
        case "meal-slip": "订餐单 Meal"
        case "queue-ticket": "排队号 Queue"
        case "pickup-slip": "接送条 Pickup slip"
        case "daycare-receipt": "日间照料收据 Day-care receipt"
        case "checkin-receipt": "签到凭条 Check-in receipt"
        case "test-page": "测试页 Test page"
        default: kind
        }
    }

    static func stateWords(_ state: PrintJobState) -> String {
        switch state {
        case .queued: "等待打印 Waiting"
        case .submitting, .submitted: "打印中 Printing"
        case .printed: "已打印 Printed"
        case .failed: "失败 Failed"
        }
    }
}

/// The slips page.
struct SlipsPage {
    struct Job {
        let id: Int64
        let document: String
        let state: String
        let error: String
        let when: String
        let csrf: String
        let hasError: Bool
    }
    let member: String
    let requestedBy: String
    let address: String
    let problem: String
    let meal: String
    let portions: String
    let deliveryAddress: String
    let note: String
    let service: String
    let preview: String?
    let jobs: [Job]

    init(form: SlipForm, preview: String?, jobs: [Job]) {
        member = form.member ?? ""
        requestedBy = form.requested_by ?? ""
        address = form.address ?? ""
        problem = form.problem ?? ""
        meal = form.meal ?? "午餐 Lunch"
        portions = form.portions ?? "1"
        deliveryAddress = form.delivery_address ?? ""
        note = form.note ?? ""
        service = form.service ?? "综合 General"
        self.preview = preview
        self.jobs = jobs
    }
}
