/// What a scanned or typed text turned out to be, before any member is looked up.
public enum ScanReading: Hashable, Sendable {
    /// A `JY1` card whose signature checked out.
    case card(CardPayload)
    /// A children's pickup slip (`JYK:` + the 3-character guardian code).
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
        if text.utf8.count == 7, text.uppercased().hasPrefix(pickupPrefix) {
            let code = String(text.dropFirst(4)).uppercased()
            return PickupCode.isWellFormed(code) ? .pickupSlip(code: code) : .unreadable(.invalidCode)
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

/// The guardian's 3-character security code for collecting a child.
public enum PickupCode {
    /// Letters and digits that cannot be mistaken for each other when read aloud or typed
    /// (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
    public static let alphabet: [Character] = Array("ACDEFGHJKMNPQRTUVWXY34679")

    /// Whether `code` is three characters of the alphabet (upper case).
    public static func isWellFormed(_ code: String) -> Bool {
        code.count == 3 && code.allSatisfy { alphabet.contains($0) }
    }

    /// A new code that is not in `used`, or nil when the day's codes are exhausted.
    public static func generate(avoiding used: Set<String>, using rng: inout some RandomNumberGenerator) -> String? {
        let total = alphabet.count * alphabet.count * alphabet.count
        guard used.count < total else { return nil }
        for _ in 0..<64 {
            let code = String((0..<3).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            if !used.contains(code) { return code }
        }
        // Nearly full: walk from a random start to the first free code.
        let start = Int.random(in: 0..<total, using: &rng)
        for i in 0..<total {
            let n = (start + i) % total
            let k = alphabet.count
            let code = String([alphabet[n / (k * k) % k], alphabet[n / k % k], alphabet[n % k]])
            if !used.contains(code) { return code }
        }
        return nil
    }
}
