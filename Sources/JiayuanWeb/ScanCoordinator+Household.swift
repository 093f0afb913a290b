import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

/// What a scan or a request came to: one decision, or a household check-in (issue 16).
public enum ScanAnswer: Sendable {
    case decision(Decision)
    case household(HouseholdAnswer)

    /// The decision object, `{"pickup_code": …, "decisions": […]}` or `{"choose_children": […]}`.
    public var json: String {
        switch self {
        case .decision(let d): d.json
        case .household(let h): h.json
        }
    }
}

/// Household check-in on the screen: a guardian's card at a guardian-code venue shows the children to tick
/// (`children` event), the confirmation records the drop-off, and a drop-off or pick-up shows one result
/// with every child and the code (`household` event).
extension ScanCoordinator {
    /// Decides a scan or request at `venue`: the household path where it applies, else one check-in.
    @discardableResult
    public func submit(
        code: String, venue: String, source: String, children: ChildSelection? = nil, guardianCode: String? = nil, via: Via = .scan
    ) async throws -> ScanAnswer {
        let service = self.service
        // Most scans are at venues without a guardian code: straight to the single check-in, one trip to the
        // lane and one reading of the card, not a household look first.
        guard service.takesHousehold(venue: venue, children: children) else {
            return .decision(try await checkIn(code: code, venue: venue, source: source, guardianCode: guardianCode, via: via))
        }
        let answer = try await recordOnLane(venue: venue, source: source) {
            try service.household(code: code, venue: venue, children: children, guardianCode: guardianCode, via: via)
        }
        switch answer {
        case nil:
            return .decision(try await checkIn(code: code, venue: venue, source: source, guardianCode: guardianCode, via: via))
        case .chooseChildren(let choice)?:
            pruneExpired(kiosk.clock())
            let token = UUID().uuidString.lowercased()
            households[token] = (code, venue, kiosk.clock().addingTimeInterval(180), source)
            await publishChildren(choice, token: token)
        case .decided(let household)?:
            await publishHousehold(household, venue: venue, source: source)
        }
        return .household(answer!)
    }

    /// The guardian ticked `children` on screen after the scan that issued `token`: the drop-off.
    public func confirmChildren(token: String, children: [MemberID]) async throws -> ScanAnswer {
        pruneExpired(kiosk.clock())
        guard !children.isEmpty else { throw KioskError("choose at least one child") }
        guard let entry = households.removeValue(forKey: token) else {
            throw KioskError("this choice has expired; please scan the card again")
        }
        return try await submit(code: entry.code, venue: entry.venue, source: entry.scanner, children: .only(children))
    }

    /// The guardian typed the pickup code on the screen's pad after the scan that issued `token`: the pick-up of
    /// the children of that code the card holder is a registered guardian of. One try per scan; wrong codes count
    /// toward the venue's lock.
    public func collectChildren(token: String, code: String) async throws -> ScanAnswer {
        pruneExpired(kiosk.clock())
        guard let entry = households.removeValue(forKey: token) else {
            throw KioskError("this choice has expired; please scan the card again")
        }
        let typed = PickupCode.normalized(code)
        guard !typed.isEmpty else { throw KioskError("type the pickup code") }
        return try await submit(code: entry.code, venue: entry.venue, source: entry.scanner, guardianCode: typed)
    }

    /// The guardian-code venues where the card's holder brings children (a registered guardian's card); runs on
    /// the database lane.
    nonisolated static func householdVenues(_ reading: ScanReading, database: AppDatabase, venues: [Venue]) throws -> Set<String> {
        guard case .card(let payload) = reading, venues.contains(where: \.guardianCode), let holder = MemberID(number: payload.member),
            try database.isGuardian(holder)
        else { return [] }
        return Set(venues.filter(\.guardianCode).map(\.id))
    }

    /// A preview made a button: the guardian may go on to choose the children there.
    nonisolated static func allowed(_ d: Decision) -> Decision {
        guard !d.accepted, d.direction == .in else { return d }
        var d = d
        d.outcome = .accepted
        d.reason = nil
        return d
    }

    func publishChildren(_ choice: ChildChoice, token: String) async {
        let prompt = Bilingual(zh: "请选择要签到的孩子，然后按确认", en: "Choose the children to check in, then press Confirm")
        let blind = choice.guardian.flags.contains(.blind)
        let voiceURL = kiosk.config.voice || blind ? voice?.url(for: prompt.zh) : nil
        let venue = try? kiosk.venue(choice.venue)
        let children: [Any] = choice.children.map { option in
            [
                "id": option.member.id.description, "display_name": option.member.displayName, "inside": option.inside,
                "eligible": option.preview.accepted && !option.inside, "reason": option.preview.reason?.rawValue ?? NSNull(),
                "message": ["zh": option.preview.message.zh, "en": option.preview.message.en],
            ] as [String: Any]
        }
        let payload: [String: Any] = [
            "token": token, "venue": choice.venue,
            "venue_name": venue.map { ["zh": $0.name.zh, "en": $0.name.en] as [String: Any] } ?? NSNull(),
            "guardian": ["id": choice.guardian.id.description, "display_name": choice.guardian.displayName, "blind": blind],
            "children": children, "voice": voiceURL ?? NSNull(),
        ]
        await events.publish(ScreenEvent(name: "children", data: Self.json(payload)))
    }

    func publishHousehold(_ household: HouseholdDecision, venue: String, source: String) async {
        let moved = household.moved
        let out = moved.contains { $0.direction == .out }
        let sentence: String
        if moved.isEmpty {
            sentence = household.decisions.first?.message.zh ?? "请到前台咨询"
        } else if out {
            sentence = "已接走\(moved.count)位孩子，再见"
        } else {
            // The code is for the guardian's slip, not for the whole lobby to hear.
            sentence = "已为\(moved.count)位孩子签到，请取接送条"
        }
        let voiceURL = kiosk.config.voice ? voice?.url(for: sentence) : nil
        var quoted = "null"
        if let voiceURL {
            quoted = ""
            JSONWriter.appendString(voiceURL, to: &quoted)
        }
        var venueQuoted = ""
        JSONWriter.appendString(venue, to: &venueQuoted)
        let data = "{\"voice\":\(quoted),\"venue\":\(venueQuoted)," + household.json.dropFirst()
        await events.publish(ScreenEvent(name: "household", data: data))
        logger.info(
            "household check-in decided",
            metadata: [
                "scan.venue": "\(venue)", "scan.children": "\(household.decisions.count)", "scan.moved": "\(moved.count)",
                "scan.direction": "\(out ? "out" : "in")", "scan.source": "\(source)",
            ])
        await publishOccupancy()
    }
}
