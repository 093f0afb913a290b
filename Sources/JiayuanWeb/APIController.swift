import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import ServiceLifecycle

/// The resident screen's API: check-in, choosing a venue, state, occupancy, the event stream, voice, demo.
struct APIController {
    let kiosk: Kiosk
    let coordinator: ScanCoordinator
    let events: KioskEvents
    let voice: VoiceCache?
    let scanners: ScannerRegistry

    struct CheckInBody: Decodable {
        var code: String
        var venue: String
        var guardianCode: String?
        /// Household check-in: `"all"` or member ids.
        var children: ChildrenField?
        enum CodingKeys: String, CodingKey {
            case code, venue, children
            case guardianCode = "guardian_code"
        }
    }

    struct ChooseBody: Decodable {
        var token: String
        var venue: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/api/checkin", use: checkIn)
        router.post("/api/choose", use: choose)
        router.post("/api/children", use: chooseChildren)
        router.post("/api/pickup", use: collectChildren)
        router.get("/api/state", use: state)
        router.get("/api/occupancy", use: occupancy)
        router.get("/api/stream", use: stream)
        router.get("/api/voice/{file}", use: voiceFile)
        router.post("/api/demo/scan", use: demoScan)
        router.get("/api/demo/code", use: demoCode)
    }

    @Sendable func checkIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body: CheckInBody
        do {
            body = try await request.decode(as: CheckInBody.self, context: context)
        } catch {
            return errorResponse("send JSON like {\"code\": \"JY1:…\", \"venue\": \"gym\"}", status: .badRequest)
        }
        guard body.code.utf8.count <= 64 * 1024 else { return errorResponse("the code is too long", status: .contentTooLarge) }
        guard kiosk.config.venue(body.venue) != nil else {
            return errorResponse("unknown venue \"\(body.venue)\"", status: .notFound)
        }
        do {
            let children = try body.children?.selection()
            let answer = try await coordinator.submit(
                code: body.code, venue: body.venue, source: "api", children: children, guardianCode: body.guardianCode)
            return jsonResponse(answer.json)
        } catch let error as KioskError {
            return errorResponse(error.message, status: .badRequest)
        } catch let locked as PickupLocked {
            var response = errorResponse(
                "too many wrong pickup codes: collecting children by code at \(locked.venue) is stopped for now; please ask staff",
                status: .tooManyRequests)
            response.headers[.retryAfter] = String(locked.secondsLeft(at: kiosk.clock()))
            return response
        } catch {
            return errorResponse("the kiosk cannot record check-ins right now: \(KioskError.describe(error))", status: .serviceUnavailable)
        }
    }

    @Sendable func choose(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let body = try? await request.decode(as: ChooseBody.self, context: context) else {
            return errorResponse("send JSON like {\"token\": \"…\", \"venue\": \"gym\"}", status: .badRequest)
        }
        do {
            return jsonResponse(try await coordinator.choose(token: body.token, venue: body.venue).json)
        } catch let error as KioskError {
            return errorResponse(error.message, status: .gone)
        } catch {
            return errorResponse("the kiosk cannot record check-ins right now", status: .serviceUnavailable)
        }
    }

    @Sendable func state(_ request: Request, context: AppRequestContext) async throws -> Response {
        let out = await coordinator.outOfService
        return jsonResponse(object: [
            "kiosk": kiosk.config.kioskID, "demo": kiosk.config.demo, "voice": kiosk.config.voice,
            "time_zone": kiosk.config.timeZoneName,
            "venues": await coordinator.venueStates().map(\.object), "out_of_service": out.map { $0.json as Any } ?? NSNull(),
        ])
    }

    @Sendable func occupancy(_ request: Request, context: AppRequestContext) async throws -> Response {
        jsonResponse(object: ["venues": await coordinator.venueStates().map(\.object)])
    }

    /// Server-sent events: scan, decision, occupancy, service, invalid; a comment every 15 s keeps proxies open.
    @Sendable func stream(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (subscription, id) = await events.subscribeWithID()
        let events = self.events
        let hello = ScreenEvent(name: "occupancy", data: ScanCoordinator.json(["venues": await coordinator.venueStates().map(\.object)]))
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: 2000\n\n" + hello.wireFormat))
                // Ends when the screen goes away (a write fails) or the kiosk shuts down (the stream is finished).
                try await withGracefulShutdownHandler {
                    for await event in subscription { try await writer.write(ByteBuffer(string: event.wireFormat)) }
                } onGracefulShutdown: {
                    Task { await events.end(id) }
                }
                try await writer.finish(nil)
                // The stream was closed for a newer one (or the kiosk is stopping): close the connection too, so
                // its descriptor is free at once (a thrown error ends the connection).
                throw StreamEnded()
            })
    }

    /// Ends an event stream's connection with its stream.
    struct StreamEnded: Error {}

    @Sendable func voiceFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let voice, let file = context.parameters.get("file"), file.hasSuffix(".wav") else {
            return errorResponse("no such prompt", status: .notFound)
        }
        let key = String(file.dropLast(4))
        guard let data = try? await offload(on: Lane.voice, { try voice.wav(key: key) }) else {
            return errorResponse("no such prompt", status: .notFound)
        }
        return Response(
            status: .ok, headers: [.contentType: "audio/wav", .cacheControl: "public, max-age=86400"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Demo mode only: a random demo card goes through the same path as a scanner.
    @Sendable func demoScan(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard kiosk.config.demo else { return errorResponse("demo mode is off", status: .notFound) }
        guard let code = try await randomDemoCode() else { return errorResponse("no demo cards", status: .notFound) }
        await coordinator.scan(code, scanner: "demo", venue: nil)
        return jsonResponse(object: ["scanned": true])
    }

    @Sendable func demoCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard kiosk.config.demo else { return errorResponse("demo mode is off", status: .notFound) }
        guard let code = try await randomDemoCode() else { return errorResponse("no demo cards", status: .notFound) }
        return jsonResponse(object: ["code": code])
    }

    func randomDemoCode() async throws -> String? {
        let database = kiosk.database
        return try await offload {
            let members = try database.members(limit: 400).filter(\.active)
            guard let m = members.randomElement() else { return nil }
            return try database.cards(of: m.id).first { !$0.revoked }?.code
        }
    }
}

/// Household check-in on the resident door (issue 16).
extension APIController {
    /// `"children": "all"` or `["M000123", …]`.
    enum ChildrenField: Decodable {
        case all
        case ids([String])

        init(from decoder: any Decoder) throws {
            let value = try decoder.singleValueContainer()
            if let text = try? value.decode(String.self) {
                self = text.lowercased() == "all" ? .all : .ids([text])
            } else {
                let list = try value.decode([String].self)
                self = list.count == 1 && list[0].lowercased() == "all" ? .all : .ids(list)
            }
        }

        /// The selection, or a plain error naming what is wrong.
        func selection() throws -> ChildSelection {
            switch self {
            case .all: return .all
            case .ids(let texts):
                let ids = texts.compactMap(MemberID.init)
                guard !ids.isEmpty, ids.count == texts.count else {
                    throw KioskError("\"children\" takes \"all\" or member ids like [\"M000123\", \"M000124\"]")
                }
                return .only(ids)
            }
        }
    }

    struct PickupBody: Decodable {
        var token: String
        var code: String
    }

    /// The guardian typed the pickup code on the screen's pad.
    @Sendable func collectChildren(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let body = try? await request.decode(as: PickupBody.self, context: context), body.code.count <= 32 else {
            return errorResponse("send JSON like {\"token\": \"…\", \"code\": \"K7QM3A\"}", status: .badRequest)
        }
        do {
            return jsonResponse(try await coordinator.collectChildren(token: body.token, code: body.code).json)
        } catch let error as KioskError {
            return errorResponse(error.message, status: .gone)
        } catch let locked as PickupLocked {
            var response = errorResponse("collecting children by code is stopped for now; please ask staff", status: .tooManyRequests)
            response.headers[.retryAfter] = String(locked.secondsLeft(at: kiosk.clock()))
            return response
        } catch {
            return errorResponse("the kiosk cannot record check-ins right now", status: .serviceUnavailable)
        }
    }

    struct ChildrenBody: Decodable {
        var token: String
        var children: [String]
    }

    /// The guardian confirmed the ticked children on screen.
    @Sendable func chooseChildren(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let body = try? await request.decode(as: ChildrenBody.self, context: context), body.children.count <= 64 else {
            return errorResponse("send JSON like {\"token\": \"…\", \"children\": [\"M000123\"]}", status: .badRequest)
        }
        let ids = body.children.compactMap(MemberID.init)
        guard ids.count == body.children.count else { return errorResponse("children are member ids like M000123", status: .badRequest) }
        do {
            return jsonResponse(try await coordinator.confirmChildren(token: body.token, children: ids).json)
        } catch let error as KioskError {
            return errorResponse(error.message, status: .gone)
        } catch is PickupLocked {
            return errorResponse("collecting children by code is stopped for now; please ask staff", status: .tooManyRequests)
        } catch {
            return errorResponse("the kiosk cannot record check-ins right now", status: .serviceUnavailable)
        }
    }
}
