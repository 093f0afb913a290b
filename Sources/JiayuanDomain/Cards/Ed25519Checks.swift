/// Strict checks on Ed25519 public keys and signatures, on top of the library's verification.
///
/// swift-crypto on Linux verifies with BoringSSL's `ED25519_verify`, which refuses a signature whose S is not
/// below the group order L, but accepts any public key that decodes to a curve point, small-order points
/// included, and compares R byte for byte with a recomputed point. With the identity as the public key
/// (`01 00…00`), the signature R = identity, S = 0 verifies for every message. These checks close that:
/// a key or an R that is one of the 8 points of small order (in any spelling) is refused, an encoding whose
/// y is not below p is refused, and S must be below L (checked here too, so the rule does not rest on the
/// library alone). Pure functions over bytes; no curve arithmetic.
public enum Ed25519Checks {
    /// What is wrong with a key or signature encoding.
    public enum Problem: Error, Hashable, Sendable {
        /// Not 32 bytes (key) or 64 bytes (signature).
        case wrongLength
        /// One of the 8 points of small order: signs nothing, verifies forgeries.
        case smallOrder
        /// y is not below p = 2^255 − 19: a second spelling of some point.
        case nonCanonical
        /// The signature's S is not below the group order L (a malleated signature).
        case scalarOutOfRange

        /// A plain reason, for people.
        public var reason: String {
            switch self {
            case .wrongLength: "it is not an Ed25519 key of 32 bytes"
            case .smallOrder: "it is a small-order point (such a key accepts forged cards)"
            case .nonCanonical: "it is not canonically encoded (y is not below 2^255 − 19)"
            case .scalarOutOfRange: "its S is not below the group order"
            }
        }
    }

    /// The encodings (little-endian, sign of x in the top bit) of the points of small order.
    /// The first 8 are the canonical encodings of the 8 points; the last 6 are the other spellings a lax
    /// decoder accepts: x = 0 with the sign bit set (identity, order-2 point), and y + p for y = 0 and 1.
    public static let smallOrderEncodings: [[UInt8]] = [
        // identity (0, 1), order 1
        hex("0100000000000000000000000000000000000000000000000000000000000000"),
        // (0, −1), order 2
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        // (±√−1, 0), order 4
        hex("0000000000000000000000000000000000000000000000000000000000000000"),
        hex("0000000000000000000000000000000000000000000000000000000000000080"),
        // the four points of order 8
        hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
        hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
        // non-canonical: x = 0 with the sign bit set
        hex("0100000000000000000000000000000000000000000000000000000000000080"),
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        // non-canonical: y = p (≡ 0) and y = p + 1 (≡ 1), either sign bit
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
    ]

    /// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    public static let order: [UInt8] = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

    /// Why `encoding` is not acceptable as a public key, or nil when it is.
    public static func keyProblem(_ encoding: some Collection<UInt8>) -> Problem? {
        let e = Array(encoding)
        guard e.count == 32 else { return .wrongLength }
        if smallOrderEncodings.contains(e) { return .smallOrder }
        if !isCanonical(e) { return .nonCanonical }
        return nil
    }

    /// Why a 64-byte signature R ‖ S is not acceptable, or nil when it may be verified.
    public static func signatureProblem(_ signature: some Collection<UInt8>) -> Problem? {
        let s = Array(signature)
        guard s.count == 64 else { return .wrongLength }
        let r = Array(s[0..<32])
        if smallOrderEncodings.contains(r) { return .smallOrder }
        if !isCanonical(r) { return .nonCanonical }
        if !isScalarInRange(Array(s[32...])) { return .scalarOutOfRange }
        return nil
    }

    /// Whether the y coordinate (the low 255 bits) of a 32-byte encoding is below p = 2^255 − 19.
    public static func isCanonical(_ e: [UInt8]) -> Bool {
        guard e.count == 32 else { return false }
        // y ≥ p exactly when bits 5…254 are all ones and the low byte is ≥ 0xed.
        guard e[31] & 0x7F == 0x7F, e[1..<31].allSatisfy({ $0 == 0xFF }) else { return true }
        return e[0] < 0xED
    }

    /// Whether a 32-byte little-endian scalar is below the group order L.
    public static func isScalarInRange(_ s: [UInt8]) -> Bool {
        guard s.count == 32 else { return false }
        for i in stride(from: 31, through: 0, by: -1) where s[i] != order[i] {
            return s[i] < order[i]
        }
        return false
    }

    /// `s + L` as 32 little-endian bytes (for tests of malleated signatures; S < 2^253 keeps it in range).
    static func addOrder(_ s: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var carry = 0
        for i in 0..<32 {
            let sum = Int(s[i]) + Int(order[i]) + carry
            out[i] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        return out
    }

    private static func hex(_ text: StaticString) -> [UInt8] {
        let chars = Array(text.description.utf8)
        func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
        return stride(from: 0, to: chars.count, by: 2).map { nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
    }
}
