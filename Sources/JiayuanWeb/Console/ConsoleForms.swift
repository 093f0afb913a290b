import Foundation
import Hummingbird
import JiayuanDomain
import JiayuanKiosk
import JiayuanStore

// The console's forms, decoded with Hummingbird's URLEncodedFormDecoder. Every field is an optional string:
// a missing or strange value becomes a plain-language message from the form's own check, never a crash.

/// Decodes the request body as form `T` (400 "unreadable form" on garbage).
func decodeForm<T: Decodable>(_ type: T.Type, _ request: Request, _ context: ConsoleContext) async throws -> T {
    try await URLEncodedFormDecoder().decode(T.self, from: request, context: context)
}

extension Optional where Wrapped == String {
    /// The value without surrounding white space; empty when missing.
    var trimmed: String { (self ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// `/staff/login`.
struct LoginForm: Decodable, Sendable {
    var csrf: String?
    var name: String?
    var pin: String?
}

/// Only the form token (log-out, card actions, reprint).
struct TokenForm: Decodable, Sendable {
    var csrf: String?
}

/// A form with a member's flags as checkboxes `flag_low_income`, `flag_disabled`, ….
protocol MemberFlagFields {
    var flag_low_income: String? { get }
    var flag_disabled: String? { get }
    var flag_blind: String? { get }
    var flag_hard_of_hearing: String? { get }
}

extension MemberFlagFields {
    /// The ticked flags.
    var flags: Set<MemberFlag> {
        var out: Set<MemberFlag> = []
        if flag_low_income != nil { out.insert(.lowIncome) }
        if flag_disabled != nil { out.insert(.disabled) }
        if flag_blind != nil { out.insert(.blind) }
        if flag_hard_of_hearing != nil { out.insert(.hardOfHearing) }
        return out
    }
}

/// Reads a four-digit year of birth; nil when empty.
func birthYear(_ text: String) throws -> Int? {
    guard !text.isEmpty else { return nil }
    guard text.count == 4, let year = Int(text), (1900...2100).contains(year) else {
        throw KioskError("出生年是四位数字，比如 1948。The year of birth is four digits, like 1948.")
    }
    return year
}

/// `/staff/members/new`.
struct RegisterForm: Decodable, Sendable, MemberFlagFields {
    var name: String?
    var group: String?
    var born: String?
    var phone: String?
    var guardians: String?
    var flag_low_income: String?
    var flag_disabled: String?
    var flag_blind: String?
    var flag_hard_of_hearing: String?

    /// The registration, or the first thing wrong in plain words.
    func newMember() throws -> NewMember {
        guard let group = MemberGroup(rawValue: group.trimmed) else { throw KioskError("请选择人群。Choose a group.") }
        let phone = (self.phone ?? "").filter { !$0.isWhitespace }
        if !phone.isEmpty, !phone.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "+" || $0 == "-") }) {
            throw KioskError("手机号只能有数字、+ 和 -。The phone number may only have digits, + and -.")
        }
        var ids: [MemberID] = []
        for part in (guardians ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == " " }) {
            guard let id = MemberID(String(part)) else {
                throw KioskError("\"\(part)\" 不是会员号（如 M000123）。\"\(part)\" is not a member id like M000123.")
            }
            ids.append(id)
        }
        return NewMember(
            name: name.trimmed, group: group, born: try birthYear(born.trimmed), phone: phone.isEmpty ? nil : phone, flags: flags,
            guardians: ids)
    }
}

/// `/staff/members/{id}/edit`.
struct EditForm: Decodable, Sendable, MemberFlagFields {
    var name: String?
    var born: String?
    /// Empty keeps the phone on record (staff never see the whole number).
    var phone: String?
    var flag_low_income: String?
    var flag_disabled: String?
    var flag_blind: String?
    var flag_hard_of_hearing: String?
}

/// `/staff/members/{id}/correct`: which check-in, and why.
struct CorrectForm: Decodable, Sendable {
    var seq: String?
    var reason: String?
}

/// `/staff/members/{id}/release`: a child to a registered guardian without the code.
struct ReleaseForm: Decodable, Sendable {
    var venue: String?
    var guardian: String?
    var reason: String?
}

/// `/staff/members/{id}/legacy`.
struct LegacyForm: Decodable, Sendable {
    var number: String?
}

/// `/staff/floor/checkin`: a member (scanned card, id, or a name that matches one member), a venue, and
/// the guardian's code for a child.
struct FloorForm: Decodable, Sendable {
    var member: String?
    var venue: String?
    var guardian_code: String?
}

/// `/staff/floor/paid`.
struct FeeForm: Decodable, Sendable {
    var seq: String?
}

/// `/staff/slips`: one form for the three kinds (`kind`), previewed or printed (`action`).
struct SlipForm: Decodable, Sendable {
    var kind: String?
    var action: String?
    var member: String?
    var requested_by: String?
    var address: String?
    var problem: String?
    var meal: String?
    var portions: String?
    var delivery_address: String?
    var note: String?
    var service: String?

    /// The slip asked for, by the rules shared with `jiayuan slip`.
    func request(kiosk: Kiosk) throws -> SlipRequest {
        func member(required: Bool) throws -> Member? {
            let text = self.member.trimmed
            if text.isEmpty, required { throw KioskError("订餐要填会员号。A meal order needs the member id.") }
            return try kiosk.member(text: text.isEmpty ? nil : text)
        }
        switch kind {
        case "repair":
            return .repair(
                member: try member(required: false), requestedBy: requested_by.trimmed, address: address.trimmed, problem: problem.trimmed)
        case "meal":
            guard let portions = Int(portions.trimmed.isEmpty ? "1" : portions.trimmed) else {
                throw KioskError("份数是整数。Portions is a whole number.")
            }
            let address = delivery_address.trimmed
            let meal = self.meal.trimmed
            return .meal(
                member: try member(required: true)!, meal: meal.isEmpty ? "午餐 Lunch" : meal, portions: portions,
                address: address.isEmpty ? nil : address,
                date: nil, note: note.trimmed)
        case "queue":
            return .queue(service: service.trimmed)
        default:
            throw KioskError("请选择单据种类。Choose a kind of slip.")
        }
    }
}
