import Foundation
import JiayuanDomain
import JiayuanStore

/// About 200 fictional members of every group, with Chinese names and a card each.
public enum DemoData {
    /// The demo's staff account (printed when the demo kiosk starts; never in real data).
    public static let staffName = "前台"
    public static let staffPIN = "246810"

    static let surnames = Array("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
    static let olderGiven = [
        "秀兰", "桂英", "建国", "淑珍", "玉兰", "德华", "凤英", "国庆", "秀英", "振华", "文华", "淑英", "卫东", "玉珍", "志明", "英", "华", "军", "芳", "明",
    ]
    static let adultGiven = [
        "伟", "芳", "敏", "静", "丽", "强", "磊", "洋", "艳", "杰", "娟", "涛", "超", "霞", "平", "刚", "海燕", "晓东", "丽娜", "志强", "海涛", "雪梅",
    ]
    static let childGiven = ["子涵", "梓萱", "浩然", "一诺", "欣怡", "宇轩", "思远", "雨桐", "子墨", "诗涵", "俊熙", "若汐", "梓睿", "安琪", "博文"]

    /// How many of each group the demo registers, in id order (M000001 is a veteran).
    public static let plan: [(MemberGroup, Int)] = [
        (.veteran, 25), (.serviceman, 10), (.militaryFamily, 20), (.elder, 55), (.resident, 60), (.child, 30),
    ]

    /// Registers the demo members and issues each a card, in one transaction per step.
    public static func seed(
        _ db: AppDatabase, key: CardSigningKey, today: CivilDate, validityDays: Int, now: Date,
        rng: inout some RandomNumberGenerator
    ) throws -> [(Member, IssuedCard)] {
        var batch: [NewMember] = []
        var residentIDs: [MemberID] = []
        var next: UInt32 = 1
        for (group, count) in plan {
            for i in 0..<count {
                let id = MemberID(number: next)!
                next += 1
                let given: [String]
                let born: Int
                var flags: Set<MemberFlag> = []
                var guardians: [MemberID] = []
                switch group {
                case .elder:
                    given = olderGiven
                    born = Int.random(in: 1932...1964, using: &rng)
                    if i % 5 == 0 { flags.insert(.lowIncome) }
                    if i % 11 == 3 { flags.insert(.blind) }
                    if i % 7 == 2 { flags.insert(.hardOfHearing) }
                case .veteran:
                    given = olderGiven + adultGiven
                    born = Int.random(in: 1945...1992, using: &rng)
                    if i % 6 == 1 { flags.insert(.disabled) }
                case .serviceman:
                    given = adultGiven
                    born = Int.random(in: 1990...2005, using: &rng)
                case .militaryFamily:
                    given = adultGiven + olderGiven
                    born = Int.random(in: 1955...2004, using: &rng)
                case .resident:
                    given = adultGiven
                    born = Int.random(in: 1966...2008, using: &rng)
                    if i % 8 == 0 { flags.insert(.lowIncome) }
                    residentIDs.append(id)
                case .child:
                    given = childGiven
                    born = Int.random(in: 2013...2020, using: &rng)
                    guardians = [residentIDs[i % residentIDs.count]]
                    if i % 3 == 0 { guardians.append(residentIDs[(i + 29) % residentIDs.count]) }
                }
                let name = String(surnames.randomElement(using: &rng)!) + given.randomElement(using: &rng)!
                let phone = group == .child ? nil : "1390531" + String(format: "%04d", Int(next))
                batch.append(NewMember(name: name, group: group, born: born, phone: phone, flags: flags, guardians: guardians))
            }
        }
        let members = try db.addMembers(batch, at: now)
        var out: [(Member, IssuedCard)] = []
        for m in members {
            let card = try db.issueCard(
                member: m.id, keyID: key.keyID, today: today, validityDays: validityDays, at: now, sign: key.sign)
            out.append((m, card))
        }
        // The first five veterans also carry the old numbered veterans' card.
        for m in members.filter({ $0.group == .veteran }).prefix(5) {
            try db.registerLegacyCard("2019" + String(format: "%04d", Int(m.id.number)), member: m.id, at: now)
        }
        return out
    }
}

/// A small, fast, seedable random source (SplitMix64) for demo data, benchmarks and tests.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// A generator that always yields the same sequence for the same seed.
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
