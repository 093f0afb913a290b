/// A member id: `M` followed by six digits. The digits are the number carried on the card.
public struct MemberID: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The number, 1…999999.
    public let number: UInt32

    /// Wraps a number; nil outside 1…999999.
    public init?(number: UInt32) {
        guard (1...999_999).contains(number) else { return nil }
        self.number = number
    }

    /// Parses `M000123` (also `m000123`).
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 7, u[0] == UInt8(ascii: "M") || u[0] == UInt8(ascii: "m"),
            u[1...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt32(String(decoding: u[1...], as: UTF8.self))
        else { return nil }
        self.init(number: n)
    }

    /// `M` + six digits.
    public var description: String {
        let digits = String(number)
        return "M" + String(repeating: "0", count: 6 - digits.count) + digits
    }

    public static func < (a: MemberID, b: MemberID) -> Bool { a.number < b.number }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = MemberID(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a member id: \(text)"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// The groups of people the centre serves (DESIGN.md §1).
public enum MemberGroup: String, CaseIterable, Sendable, Codable {
    case resident, elder, child, veteran, serviceman
    case militaryFamily = "military_family"

    /// Mandarin name.
    public var zh: String {
        switch self {
        case .resident: "居民"
        case .elder: "老年人"
        case .child: "儿童"
        case .veteran: "退役军人"
        case .serviceman: "现役军人"
        case .militaryFamily: "军属"
        }
    }

    /// English name.
    public var en: String {
        switch self {
        case .resident: "Resident"
        case .elder: "Elder"
        case .child: "Child"
        case .veteran: "Veteran"
        case .serviceman: "Serviceman"
        case .militaryFamily: "Military family"
        }
    }
}

/// Care flags on a member.
public enum MemberFlag: String, CaseIterable, Sendable, Codable {
    /// 低保: services are free.
    case lowIncome = "low_income"
    case disabled
    /// Voice prompts always on.
    case blind
    /// Large visual feedback.
    case hardOfHearing = "hard_of_hearing"
}

/// A registered person.
public struct Member: Hashable, Sendable {
    public var id: MemberID
    public var name: String
    public var group: MemberGroup
    /// Year of birth, when known.
    public var born: Int?
    public var phone: String?
    public var flags: Set<MemberFlag>
    public var active: Bool
    /// For children: the members who may collect them.
    public var guardians: [MemberID]

    /// Creates a member.
    public init(
        id: MemberID, name: String, group: MemberGroup, born: Int? = nil, phone: String? = nil,
        flags: Set<MemberFlag> = [], active: Bool = true, guardians: [MemberID] = []
    ) {
        self.id = id
        self.name = name
        self.group = group
        self.born = born
        self.phone = phone
        self.flags = flags
        self.active = active
        self.guardians = guardians
    }

    /// The name as shown on a public screen: first and last character kept, the rest masked (王*英, 李*).
    public var displayName: String { NameMask.mask(name) }
}

/// Masks personal names for public screens and receipts.
public enum NameMask {
    /// `王小英` → `王*英`, `李伟` → `李*`, `欧阳明华` → `欧**华`, `Li Wei` → `L****i`.
    public static func mask(_ name: String) -> String {
        let chars = Array(name.trimmingWhitespace())
        switch chars.count {
        case 0: return ""
        case 1: return "*"
        case 2: return String(chars[0]) + "*"
        default: return String(chars[0]) + String(repeating: "*", count: chars.count - 2) + String(chars[chars.count - 1])
        }
    }
}

extension String {
    /// The string without leading and trailing white space (no Foundation needed).
    public func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
