/// What a scanned or typed text turned out to be, before any member is looked up.
public enum ScanReading: Hashable, Sendable {
    /// A `JY1` card whose signature checked out.
    case card(CardPayload)
    /// A children's pickup slip: `JYK:` and the guardian code (any text after the prefix, upper-cased; a
    /// malformed one matches no child and counts as a wrong guess like any other).
    case pickupSlip(code: String)
    /// A plain number, possibly a legacy card registered by staff.
    case legacyNumber(String)
    /// Unusable: not a card, a forged card, or a card from a key this kiosk does not trust.
    case unreadable(CardReadError)

    /// The prefix of a pickup slip's QR code.
    public static let pickupPrefix = "JYK:"

    /// Reads whatever a scanner typed. Never traps, whatever the bytes.
    public static func read(_ raw: String, keys: CardKeyring) -> ScanReading {
        guard raw.utf8.count <= CardCode.maximumScanLength else { return .unreadable(.invalidCode) }
        let text = raw.trimmingWhitespace()
        if text.uppercased().hasPrefix(pickupPrefix) {
            return .pickupSlip(code: PickupCode.normalized(String(text.dropFirst(pickupPrefix.count))))
        }
        if (4...20).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return .legacyNumber(text)
        }
        do {
            return .card(try CardCode.verify(text, keys: keys))
        } catch {
            return .unreadable(error)
        }
    }
}

/// The guardian's security code for collecting a child: 6 characters (25^6 ≈ 244 million codes), so that
/// with the lock after 5 wrong guesses (`PickupGuessLedger`) guessing one of the day's codes is hopeless.
/// The slip's QR carries it; people type it rarely. Slips printed with 3-character codes before the change
/// keep working until their child leaves (matching is against the code handed out).
public enum PickupCode {
    /// Letters and digits that cannot be mistaken for each other when read aloud or typed
    /// (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
    public static let alphabet: [Character] = Array("ACDEFGHJKMNPQRTUVWXY34679")

    /// The length of new codes.
    public static let length = 6

    /// Whether `code` is 3 to 8 characters of the alphabet (upper case).
    public static func isWellFormed(_ code: String) -> Bool {
        (3...8).contains(code.count) && code.allSatisfy { alphabet.contains($0) }
    }

    /// A typed or scanned code as compared: upper case, without spaces or dashes ("k7q m3a" → "K7QM3A").
    public static func normalized(_ text: String) -> String {
        String(text.uppercased().filter { !$0.isWhitespace && $0 != "-" })
    }

    /// A new code of `length` characters that is not in `used`, or nil when the day's codes are exhausted.
    public static func generate(
        avoiding used: Set<String>, length: Int = PickupCode.length, using rng: inout some RandomNumberGenerator
    ) -> String? {
        let k = alphabet.count
        let total = (0..<length).reduce(1) { total, _ in total * k }
        guard used.count < total else { return nil }
        for _ in 0..<64 {
            let code = String((0..<length).map { _ in alphabet[Int.random(in: 0..<k, using: &rng)] })
            if !used.contains(code) { return code }
        }
        // Nearly full: walk from a random start to the first free code.
        let start = Int.random(in: 0..<total, using: &rng)
        for i in 0..<total {
            var n = (start + i) % total
            var digits: [Character] = []
            for _ in 0..<length {
                digits.append(alphabet[n % k])
                n /= k
            }
            let code = String(digits.reversed())
            if !used.contains(code) { return code }
        }
        return nil
    }
}
