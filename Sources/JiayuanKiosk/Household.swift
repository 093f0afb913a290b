import Foundation
import JiayuanDomain
import JiayuanPrinting
import JiayuanStore

/// What a household check-in came to (issue 16).
public enum HouseholdAnswer: Sendable {
    /// A guardian's card without a choice of children: the children to choose from; nobody was checked in.
    case chooseChildren(ChildChoice)
    /// A drop-off or pick-up: one decision per child and the shared pickup code.
    case decided(HouseholdDecision)

    /// `{"choose_children": [...]}` or `{"pickup_code": …, "decisions": [...]}`.
    public var json: String {
        switch self {
        case .decided(let household): household.json
        case .chooseChildren(let choice): choice.json
        }
    }
}

extension ChildChoice {
    /// `{"choose_children": [{"id", "display_name", "eligible", "inside", "reason", "message"}], "guardian": {…}, "venue": …}`.
    public var json: String {
        let items: [Any] = children.map { option in
            [
                "id": option.member.id.description, "display_name": option.member.displayName, "inside": option.inside,
                "eligible": option.preview.accepted && !option.inside, "reason": option.preview.reason?.rawValue ?? NSNull(),
                "message": ["zh": option.preview.message.zh, "en": option.preview.message.en],
            ] as [String: Any]
        }
        return JSONWriter.serialize([
            "choose_children": items, "venue": venue,
            "guardian": ["id": guardian.id.description, "display_name": guardian.displayName],
        ])
    }
}

extension CheckInService {
    /// Whether `household` can answer anything but nil: only at a venue with a guardian code, or when children
    /// were named (an unknown venue is left to `household` to refuse in words).
    public func takesHousehold(venue venueID: String, children: ChildSelection?) -> Bool {
        children != nil || kiosk.config.venue(venueID)?.guardianCode != false
    }

    /// The household path, when it applies: a guardian's card at a guardian-code venue (or any card sent with a
    /// choice of children there), or a pickup slip of a drop-off. Nil otherwise — the caller takes `checkIn`.
    ///
    /// Without `children` and a guardian code, a guardian's card answers with the children to choose from and
    /// records nothing; with `children` it is a drop-off; with a guardian code it is a pick-up of the children
    /// of that code the holder is a registered guardian of. Wrong pickup codes count toward the venue's lock
    /// like any other (`PickupLocked` is thrown while it holds); staff are neither counted nor locked.
    public func household(
        code: String, venue venueID: String, children: ChildSelection?, guardianCode: String? = nil, at: Date? = nil,
        via: Via = .scan, printer: String? = nil, audit: ((HouseholdDecision) -> AuditNote)? = nil
    ) throws -> HouseholdAnswer? {
        let venue = try kiosk.venue(venueID)
        let reading = reader.read(code)
        let now = at ?? kiosk.clock()
        let typed = guardianCode.map(PickupCode.normalized).flatMap { $0.isEmpty ? nil : $0 }
        var rng = SystemRandomNumberGenerator()
        let database = kiosk.database
        let engine = kiosk.engine
        switch reading {
        case .pickupSlip(let slip):
            guard venue.guardianCode, try database.isDropOffCode(slip, venue: venue, at: now, policy: kiosk.config.policy) else {
                return nil
            }
            return .decided(
                try guarded(venue: venue, at: now, via: via) {
                    try database.recordPickUp(
                        code: slip, card: nil, selection: children ?? .all, venue: venue, at: now, via: via, engine: engine, rng: &rng,
                        audit: audit)
                })
        case .card(let payload):
            guard venue.guardianCode else {
                if children != nil { throw KioskError("\(venue.id) takes no household check-in: only venues with a guardian code do") }
                return nil
            }
            // Anyone else's card (a child's own, an adult with no children) keeps the single check-in path.
            var isGuardian = false
            if children == nil, let holder = MemberID(number: payload.member) { isGuardian = try database.isGuardian(holder) }
            guard children != nil || isGuardian else { return nil }
            if let typed {
                return .decided(
                    try guarded(venue: venue, at: now, via: via) {
                        try database.recordPickUp(
                            code: typed, card: payload, selection: children ?? .all, venue: venue, at: now, via: via, engine: engine,
                            rng: &rng, audit: audit)
                    })
            }
            guard let children else {
                guard let choice = try database.childChoice(card: payload, venue: venue, at: now, engine: engine) else { return nil }
                return .chooseChildren(choice)
            }
            let printing = PrintService(kiosk: kiosk)
            let target = try printing.target(printer).description
            let config = kiosk.config
            let queuedAt = kiosk.clock()
            return .decided(
                try database.recordDropOff(
                    card: payload, selection: children, venue: venue, at: now, via: via, engine: engine, rng: &rng,
                    receipts: { household in
                        guard let code = household.pickupCode else { return [] }
                        let slip = Documents.householdSlip(household, code: code, venue: venue, config: config)
                        let number = Documents.receiptNumber(seq: household.moved.first?.seq ?? 0)
                        return [
                            NewPrintJob(
                                kind: slip.kind, documentNumber: number, target: target,
                                bytes: try ESCPOS.encode(slip, paper: printing.paper), queuedAt: queuedAt)
                        ]
                    }, audit: audit))
        case .legacyNumber, .unreadable:
            if children != nil, venue.guardianCode {
                throw KioskError("a household check-in needs a guardian's membership card (JY1) or a pickup slip")
            }
            return nil
        }
    }

    /// Runs a pick-up under the venue's guessing lock: refused while locked, a wrong code counted afterwards
    /// (the fifth within the window starts the lock and raises the staff alert).
    func guarded(venue: Venue, at now: Date, via: Via, _ body: () throws -> HouseholdDecision) throws -> HouseholdDecision {
        if via == .scan, let until = pickupGuard.lockedUntil(venue: venue.id, at: now) { throw PickupLocked(venue: venue.id, until: until) }
        let household = try body()
        let repeated = !household.decisions.isEmpty && household.decisions.allSatisfy(\.isRepeat)
        let wrong = household.moved.allSatisfy { $0.direction != .out } && !repeated
        if via == .scan, wrong, case .lockStarted = pickupGuard.recordWrongGuess(venue: venue.id, at: now) {
            try kiosk.database.raisePickupGuessingAlert(venue: venue.id, at: now)
        }
        return household
    }
}
