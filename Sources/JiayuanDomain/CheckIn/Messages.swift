/// The words shown and spoken for each result, Mandarin first.
public enum Messages {
    /// Welcome on check-in.
    public static func welcome(_ name: String, venue: Venue) -> Bilingual {
        Bilingual(zh: "\(name)，欢迎来到\(venue.name.zh)", en: "Welcome to the \(venue.name.en)")
    }

    /// Goodbye on check-out, with the fee or the pickup where it applies.
    public static func goodbye(_ name: String, venue: Venue, charge: DaycareCharge?) -> Bilingual {
        var m = Bilingual(zh: "\(name)，再见！已离开\(venue.name.zh)", en: "Goodbye! You have checked out of the \(venue.name.en)")
        if let charge {
            if charge.free {
                m.zh += "。今日费用：低保免费"
                m.en += ". Today's fee: free (low income)"
            } else {
                m.zh += "。今日费用 \(formatYuan(fen: charge.amountFen)) 元"
                m.en += ". Today's fee: ¥\(formatYuan(fen: charge.amountFen))"
            }
        }
        return m
    }

    /// The pickup code line added to a children's check-in.
    public static func withPickupCode(_ m: Bilingual, code: String) -> Bilingual {
        Bilingual(zh: m.zh + "。接送码：\(code)", en: m.en + ". Pickup code: \(code)")
    }

    /// A child the card holder is not a registered guardian of (household check-in).
    public static let notYourChild = Bilingual(
        zh: "您不是这位儿童登记的监护人，请到前台咨询", en: "You are not a registered guardian of this child. Please see the front desk")

    /// A second scan within the minimum stay.
    public static func alreadyInside(_ name: String, venue: Venue) -> Bilingual {
        Bilingual(zh: "\(name)，您已在\(venue.name.zh)签到", en: "You are already checked in at the \(venue.name.en)")
    }

    /// Slip check-outs stopped after repeated wrong pickup codes (not a decision: nothing is recorded).
    public static let pickupLocked = Bilingual(
        zh: "接送码错误次数过多，请找工作人员办理接孩子", en: "Too many wrong pickup codes. Please ask a member of staff to collect the child")

    /// A denial in plain words, ending with where to get help.
    public static func denial(_ reason: DenialReason, venue: Venue) -> Bilingual {
        switch reason {
        case .invalidCode:
            Bilingual(zh: "无法识别此码，请重新扫描会员卡", en: "This code cannot be read. Please scan your membership card again")
        case .badSignature:
            Bilingual(zh: "此卡无法验证，请到前台咨询", en: "This card could not be verified. Please see the front desk")
        case .unknownKey:
            Bilingual(zh: "此卡不是本中心签发，请到前台咨询", en: "This card was not issued here. Please see the front desk")
        case .revoked:
            Bilingual(zh: "此卡已被新卡替换，请使用新卡或到前台咨询", en: "This card has been replaced. Please use your new card or see the front desk")
        case .expired:
            Bilingual(zh: "此卡已过期，请到前台续卡", en: "This card has expired. Please renew it at the front desk")
        case .inactiveMember:
            Bilingual(zh: "会员资格已停用，请到前台咨询", en: "This membership is not active. Please see the front desk")
        case .unknownMember:
            Bilingual(zh: "未找到会员信息，请到前台登记", en: "Member not found. Please register at the front desk")
        case .notEligible:
            Bilingual(
                zh: "\(venue.name.zh)暂不对您开放，请到前台咨询", en: "The \(venue.name.en) is not open to this membership. Please see the front desk")
        case .closed:
            Bilingual(zh: "\(venue.name.zh)现在不开放（开放时间 \(venue.hours)）", en: "The \(venue.name.en) is closed now (open \(venue.hours))")
        case .full:
            Bilingual(
                zh: "\(venue.name.zh)已满（\(venue.capacity)人），请稍后再来",
                en: "The \(venue.name.en) is full (\(venue.capacity) people). Please come back later")
        case .guardianCodeRequired:
            Bilingual(zh: "接孩子请出示接送条或接送码", en: "To collect a child, please show the pickup slip or code")
        }
    }
}
