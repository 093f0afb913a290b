import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore
import Logging

/// Why the kiosk cannot take check-ins (shown full screen with a short code).
public struct OutOfService: Sendable, Equatable {
    public var code: String
    public var zh: String
    public var en: String

    var json: [String: String] { ["code": code, "zh": zh, "en": en] }
}

/// One venue as the screen shows it.
public struct VenueState: Sendable {
    public var venue: Venue
    public var open: Bool
    public var inside: Int

    /// As JSON-ready values.
    var object: [String: Any] {
        [
            "id": venue.id, "name": ["zh": venue.name.zh, "en": venue.name.en], "hours": venue.hours.description, "open": open,
            "inside": inside, "capacity": venue.capacity,
        ]
    }
}

/// Takes scans from scanners, the screen and the demo button through one path: read the card, let the
/// member choose a venue where needed, decide and record durably, then tell the screen, speak, and queue
/// receipts. A printer or voice problem never changes a decision.
public actor ScanCoordinator {
    let kiosk: Kiosk
    let service: CheckInService
    let events: KioskEvents
    let voice: VoiceCache?
    let logger: Logger
    private var pending: [String: (code: String, expires: Date, scanner: String)] = [:]
    /// Guardians' cards waiting for the children to be ticked, by token (household check-in).
    var households: [String: (code: String, venue: String, expires: Date, scanner: String)] = [:]
    public private(set) var outOfService: OutOfService?

    /// A coordinator for `kiosk`.
    public init(kiosk: Kiosk, service: CheckInService, events: KioskEvents, voice: VoiceCache?, logger: Logger) {
        self.kiosk = kiosk
        self.service = service
        self.events = events
        self.voice = voice
        self.logger = logger
    }

    /// A scanned text from scanner `scanner`, bound to `venue` or not.
    public func scan(_ code: String, scanner: String, venue: String?) async {
        if let venue {
            _ = try? await submit(code: code, venue: venue, source: scanner)
            return
        }
        let reading = service.reader.read(code)
        if case .pickupSlip(let slip) = reading {
            // A slip goes to the venue whose child it names, else to the first children's venue, where a
            // wrong one is counted like any other (never previewed: a preview would answer without counting).
            let kiosk = self.kiosk
            let now = kiosk.clock()
            let found = try? await offload {
                try kiosk.database.pickupVenue(code: slip, venues: kiosk.config.venues, at: now, policy: kiosk.config.policy)
            }
            let venue = found ?? kiosk.config.venues.first(where: \.guardianCode)?.id ?? kiosk.config.venues[0].id
            _ = try? await submit(code: code, venue: venue, source: scanner)
            return
        }
        if case .unreadable(let error) = reading {
            logger.info("scan refused", metadata: ["scan.scanner": "\(scanner)", "scan.reason": "\(error.reason.rawValue)"])
            await publishInvalid(error.reason, message: nil)
            return
        }
        let now = kiosk.clock()
        var previews: [Decision]
        let household: Set<String>
        let blind: Bool
        do {
            let venues = kiosk.config.venues
            let engine = kiosk.engine
            let database = kiosk.database
            // One trip to the database lane: the previews, whether their member needs the voice, and where a
            // guardian (whose card is good: refused only as no child) may go on to choose the children.
            (previews, blind, household) = try await offload {
                let previews = try database.previewCheckIn(reading, venues: venues, at: now, engine: engine)
                let member = previews.lazy.compactMap(\.member).first
                let household = try Self.householdVenues(reading, database: database, venues: venues)
                    .intersection(previews.filter { $0.reason == .notEligible }.map(\.venue))
                return (previews, member.flatMap { try? database.member($0.id) }??.flags.contains(.blind) ?? false, household)
            }
            previews = previews.map { household.contains($0.venue) ? Self.allowed($0) : $0 }
        } catch {
            await fail(error)
            return
        }
        // Nobody to choose for, or nowhere to go: say why; nothing is recorded until a venue is chosen.
        let possible = previews.filter { $0.accepted || $0.direction == .out }
        guard let member = previews.lazy.compactMap(\.member).first, !possible.isEmpty else {
            let first = previews.first { $0.reason != nil }
            logger.info("scan refused", metadata: ["scan.scanner": "\(scanner)", "scan.reason": "\(first?.reason?.rawValue ?? "-")"])
            await publishInvalid(first?.reason ?? .invalidCode, message: first?.message)
            return
        }
        if possible.count == 1 {
            _ = try? await submit(code: code, venue: possible[0].venue, source: scanner)
            return
        }
        pruneExpired(now)
        let token = UUID().uuidString.lowercased()
        pending[token] = (code, now.addingTimeInterval(180), scanner)
        var venues: [[String: Any]] = []
        for (venue, preview) in zip(kiosk.config.venues, previews) {
            // A preview of an accepted entry counts the member already; the screen shows who is inside now.
            let insideNow =
                !preview.accepted || preview.isRepeat ? preview.inside : preview.direction == .in ? preview.inside - 1 : preview.inside + 1
            var item: [String: Any] = [
                "id": venue.id, "name": ["zh": venue.name.zh, "en": venue.name.en], "hours": venue.hours.description,
                "inside": insideNow, "capacity": venue.capacity,
                "allowed": preview.accepted || preview.direction == .out, "direction": preview.direction.rawValue,
            ]
            if household.contains(venue.id) { item["household"] = true }
            if let reason = preview.reason {
                item["reason"] = reason.rawValue
                item["message"] = ["zh": preview.message.zh, "en": preview.message.en]
            }
            venues.append(item)
        }
        let payload: [String: Any] = [
            "token": token, "scanner": scanner, "bound_venue": NSNull(), "venues": venues,
            "member": ["id": member.id.description, "display_name": member.displayName, "group": member.group.rawValue, "blind": blind],
        ]
        await events.publish(ScreenEvent(name: "scan", data: Self.json(payload)))
    }

    /// The member chose `venue` on screen after the scan that issued `token`.
    public func choose(token: String, venue: String) async throws -> ScanAnswer {
        pruneExpired(kiosk.clock())
        guard let entry = pending.removeValue(forKey: token) else {
            throw KioskError("this choice has expired; please scan the card again")
        }
        return try await submit(code: entry.code, venue: venue, source: entry.scanner)
    }

    /// Decides and records one check-in, then tells the screen, speaks, and queues receipts.
    @discardableResult
    public func checkIn(code: String, venue: String, source: String, guardianCode: String? = nil, via: Via = .scan) async throws -> Decision
    {
        _ = try kiosk.venue(venue)
        let service = self.service
        // One trip to the database lane: the decision, and whether the member needs the voice.
        let (decision, blind) = try await recordOnLane(venue: venue, source: source) { [kiosk] in
            let d = try service.checkIn(code: code, venue: venue, guardianCode: guardianCode, via: via, receipts: CheckInService.Receipts())
            let flags = try d.member.flatMap { try kiosk.database.member($0.id)?.flags } ?? []
            return (d, flags.contains(.blind))
        }
        // Spoken without the masked name (a screen reader would read the asterisks aloud).
        let speak = kiosk.config.voice || blind
        var sentence = decision.message.zh
        if let name = decision.member?.displayName { sentence = sentence.replacingOccurrences(of: name + "，", with: "") }
        // The children's pickup code is for the guardian's slip, not for the whole lobby to hear.
        if let code = decision.pickupCode { sentence = sentence.replacingOccurrences(of: "。接送码：\(code)", with: "") }
        let voiceURL = speak ? voice?.url(for: sentence) : nil
        await events.publish(ScreenEvent(name: "decision", data: decision.json(voice: voiceURL)))
        logger.info(
            "check-in decided",
            metadata: [
                "scan.venue": "\(venue)", "scan.outcome": "\(decision.outcome.rawValue)",
                "scan.direction": "\(decision.direction.rawValue)",
                "scan.reason": "\(decision.reason?.rawValue ?? "-")", "scan.seq": "\(decision.seq.map(String.init) ?? "-")",
                "scan.source": "\(source)", "scan.repeat": "\(decision.isRepeat)",
            ])
        await publishOccupancy()
        return decision
    }

    /// Junk from a scanner: shown on screen, logged, not recorded (no venue was chosen).
    public func junk(reason: String, scanner: String) async {
        logger.notice("scanner input dropped", metadata: ["scan.scanner": "\(scanner)", "scan.junk": "\(reason)"])
        await publishInvalid(.invalidCode, message: nil)
    }

    func publishInvalid(_ reason: DenialReason, message given: Bilingual?) async {
        await publishInvalid(reason: reason.rawValue, message: given ?? Messages.denial(reason, venue: kiosk.config.venues[0]))
    }

    /// An `invalid` screen event: a denial code (or `pickup_locked`, which is no decision) and its words.
    func publishInvalid(reason: String, message: Bilingual) async {
        let voiceURL = kiosk.config.voice ? voice?.url(for: message.zh) : nil
        let payload: [String: Any] = [
            "reason": reason, "message": ["zh": message.zh, "en": message.en], "voice": voiceURL ?? NSNull(),
        ]
        await events.publish(ScreenEvent(name: "invalid", data: Self.json(payload)))
    }

    /// The venues with occupancy and whether they are open now.
    public nonisolated func venueStates() async -> [VenueState] {
        let kiosk = self.kiosk
        let now = kiosk.clock()
        let occupancy =
            (try? await offload { try kiosk.database.occupancy(venues: kiosk.config.venues, at: now, policy: kiosk.config.policy) }) ?? [:]
        return kiosk.config.venues.map { v in
            let minute = LocalTime(now, in: kiosk.config.policy.zone(for: v)).minuteOfDay
            return VenueState(venue: v, open: v.hours.isOpen(atMinute: minute), inside: occupancy[v.id] ?? 0)
        }
    }

    /// Tells the screens the current occupancy.
    public func publishOccupancy() async {
        let venues = await venueStates().map(\.object)
        await events.publish(ScreenEvent(name: "occupancy", data: Self.json(["venues": venues])))
    }

    /// A database or disk failure: out of service until a check succeeds again.
    /// Runs a recording on the database lane and settles the screen's service state: back in service after it,
    /// out of service on a storage failure; a refusal in words (`KioskError`) goes to the caller, and a pickup
    /// code tried while the venue is locked tells the screen to ask staff.
    func recordOnLane<T: Sendable>(venue: String, source: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            let result = try await offload(body)
            await setInService()
            return result
        } catch let error as KioskError {
            throw error
        } catch let locked as PickupLocked {
            // Nothing was recorded; the screen tells the guardian to ask staff (a log line per refusal would let
            // a guesser flood the journal, so only at debug).
            logger.debug("pickup code refused: venue locked", metadata: ["scan.venue": "\(venue)", "scan.source": "\(source)"])
            await publishInvalid(reason: "pickup_locked", message: locked.message)
            throw locked
        } catch {
            await fail(error)
            throw error
        }
    }

    func fail(_ error: any Error) async {
        let message = KioskError.describe(error)
        logger.error("check-in failed", metadata: ["error": "\(message)"])
        let code =
            switch error as? StorageFailure {
            case .diskFull?: "DISK-1"
            default: "DB-1"
            }
        let state = OutOfService(code: code, zh: "暂停服务，请到前台", en: "Out of service — please see the front desk")
        if outOfService != state {
            outOfService = state
            await events.publish(ScreenEvent(name: "service", data: Self.json(["out_of_service": state.json])))
        }
    }

    /// Back in service after a successful database round trip.
    public func setInService() async {
        guard outOfService != nil else { return }
        outOfService = nil
        logger.notice("back in service")
        await events.publish(ScreenEvent(name: "service", data: Self.json(["out_of_service": NSNull()])))
    }

    /// Marks the kiosk out of service from a health probe.
    public func probeFailed(_ error: any Error) async { await fail(error) }

    func pruneExpired(_ now: Date) {
        pending = pending.filter { $0.value.expires > now }
        households = households.filter { $0.value.expires > now }
    }

    static func json(_ object: Any) -> String { JSONWriter.serialize(object) }
}
