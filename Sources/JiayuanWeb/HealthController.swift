import Foundation
import GRDB
import Hummingbird
import JiayuanCUPS
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// `GET /healthz`: database, printer with its state reasons, scanners, backlog. 503 when the kiosk cannot
/// record check-ins.
struct HealthController {
    let kiosk: Kiosk
    let coordinator: ScanCoordinator
    let scanners: ScannerRegistry

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz", use: health)
        // The watchdog's probe: proof that the door accepts, reads, routes and answers (nothing else touched).
        router.get(RouterPath(ListenerProbe.path)) { _, _ in Response(status: .noContent) }
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        let kiosk = self.kiosk
        var body: [String: Any] = ["kiosk": kiosk.config.kioskID]
        var healthy = true
        do {
            let (backlog, upload) = try await offload {
                try kiosk.database.ping()
                return (try kiosk.database.printBacklog(), try kiosk.database.uploadState())
            }
            body["database"] = ["ok": true]
            body["backlog"] = ["print": backlog, "upload": upload.backlog]
            var u: [String: Any] = [
                "hub": kiosk.config.upload.hub ?? NSNull(), "backlog": upload.backlog, "acknowledged_through": upload.acknowledgedThrough,
                "last_success_at": upload.lastSuccessAt.map(ISOTime.format) ?? NSNull(), "last_error": upload.lastError ?? NSNull(),
            ]
            if let seq = upload.conflictSeq { u["conflict"] = ["seq": seq, "reason": upload.conflictReason ?? ""] }
            body["upload"] = u
        } catch {
            healthy = false
            body["database"] = ["ok": false, "error": KioskError.describe(error)]
            await coordinator.probeFailed(error)
        }
        if let out = await coordinator.outOfService {
            healthy = false
            body["out_of_service"] = out.json
        }
        body["printer"] = await printerStatus()
        body["scanners"] = await scanners.snapshot()
        body["status"] = healthy ? "ok" : "out_of_service"
        return jsonResponse(object: body, status: healthy ? .ok : .serviceUnavailable)
    }

    func printerStatus() async -> [String: Any] {
        let service = PrintService(kiosk: kiosk)
        guard let target = try? service.target() else { return ["target": kiosk.config.printerTarget, "ok": false] }
        switch target {
        case .file(let dir):
            return [
                "target": target.description,
                "ok": FileManager.default.isWritableFile(atPath: dir) || !FileManager.default.fileExists(atPath: dir),
                "reasons": [String](),
            ]
        case .cups(let queue):
            do {
                let status = try await CUPSClient(server: service.cupsServer, timeout: 3).printerStatus(queue: queue)
                return [
                    "target": target.description, "ok": status.state != .stopped && status.accepting, "state": status.state.rawValue,
                    "reasons": status.reasons, "explained": status.reasons.map { CUPSClient.explain(reason: $0).en },
                ]
            } catch {
                return ["target": target.description, "ok": false, "error": KioskError.describe(error)]
            }
        }
    }
}
