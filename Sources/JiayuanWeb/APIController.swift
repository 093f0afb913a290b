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
        enum CodingKeys: String, CodingKey {
            case code, venue
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
            let d = try await coordinator.checkIn(code: body.code, venue: body.venue, source: "api", guardianCode: body.guardianCode)
            return jsonResponse(d.json)
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
