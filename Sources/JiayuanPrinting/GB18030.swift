// GB18030 text through the C library's iconv.

import Glibc

/// GB18030, the Chinese national character encoding that receipt printers use in Chinese mode.
///
/// ASCII is one byte; GB2312/GBK characters (nearly all Chinese text) are two bytes; every other
/// Unicode character has a four-byte code (e.g. `𠀀` U+20000 is `95 32 82 36`). Conversion goes
/// through glibc's iconv with a descriptor opened per call, so both functions are thread-safe.
public enum GB18030 {
    /// The GB18030 bytes of `s`. A character iconv cannot convert becomes `?`.
    ///
    /// If the C library has no GB18030 converter (no gconv modules installed), ASCII is copied
    /// and every other character becomes `?`; `isAvailable` tells whether that is the case.
    public static func encode(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 8)
        if let converter = IconvConverter(from: "UTF-8", to: "GB18030") {
            converter.appendGB18030(s, to: &out)
        } else {
            for scalar in s.unicodeScalars {
                out.append(scalar.isASCII ? UInt8(scalar.value) : 0x3F)
            }
        }
        return out
    }

    /// The text encoded by `bytes`, or nil when they are not valid, complete GB18030
    /// (or the C library has no GB18030 converter).
    public static func decode(_ bytes: [UInt8]) -> String? {
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let converter = IconvConverter(from: "GB18030", to: "UTF-8") else { return nil }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count * 2)
        let ok = bytes.withUnsafeBufferPointer { converter.convert($0, to: &utf8, replacingInvalid: false) }
        return ok ? String(decoding: utf8, as: UTF8.self) : nil
    }

    /// Whether the C library can convert to and from GB18030.
    public static var isAvailable: Bool {
        IconvConverter(from: "UTF-8", to: "GB18030") != nil
    }
}

/// One iconv conversion descriptor, closed when the value goes away. Not shareable between threads.
struct IconvConverter: ~Copyable {
    private let descriptor: iconv_t

    /// Opens a converter, or returns nil when iconv does not know one of the encodings.
    init?(from source: String, to target: String) {
        guard let descriptor = iconv_open(target, source), descriptor != iconv_t(bitPattern: -1) else { return nil }
        self.descriptor = descriptor
    }

    deinit {
        iconv_close(descriptor)
    }

    /// Appends the GB18030 bytes of `text` (the descriptor must convert UTF-8 to GB18030).
    /// ASCII-only text is copied without calling iconv.
    func appendGB18030(_ text: some StringProtocol, to out: inout [UInt8]) {
        let handled: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            appendGB18030(utf8: utf8, to: &out)
        }
        if handled == nil {
            var copy = String(text)
            copy.withUTF8 { appendGB18030(utf8: $0, to: &out) }
        }
    }

    private func appendGB18030(utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var ascii = true
        for byte in utf8 where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii {
            out.append(contentsOf: utf8)
        } else {
            _ = convert(utf8, to: &out, replacingInvalid: true)
        }
    }

    /// Converts `input`, appending the result to `out`. An input sequence iconv rejects is
    /// replaced by `?` (and one UTF-8 sequence skipped) when `replacingInvalid`; otherwise the
    /// conversion stops and returns false.
    func convert(_ input: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], replacingInvalid: Bool) -> Bool {
        guard let base = input.baseAddress, !input.isEmpty else { return true }
        // iconv's input parameter is not const, but iconv does not write through it.
        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: base)
            .assumingMemoryBound(to: CChar.self)
        var inLeft = input.count
        _ = iconv(descriptor, nil, nil, nil, nil)  // back to the initial state
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { scratch -> Bool in
            let scratchStart = UnsafeMutableRawPointer(scratch.baseAddress!).assumingMemoryBound(to: CChar.self)
            while inLeft > 0 {
                var outPointer: UnsafeMutablePointer<CChar>? = scratchStart
                var outLeft = scratch.count
                let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                let failure = result == -1 ? errno : 0
                out.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<(scratch.count - outLeft)]))
                if result != -1 || failure == E2BIG { continue }
                // EILSEQ: no code for this character (or invalid input); EINVAL: truncated input.
                guard replacingInvalid, let at = inPointer else { return false }
                out.append(0x3F)  // "?"
                let skip = min(max(Self.utf8SequenceLength(UInt8(bitPattern: at.pointee)), 1), inLeft)
                inPointer = at + skip
                inLeft -= skip
            }
            return true
        }
    }

    /// The length of the UTF-8 sequence that starts with `lead` (1 for a stray continuation byte).
    static func utf8SequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...0xF7: 4
        case 0xE0...0xEF: 3
        case 0xC0...0xDF: 2
        default: 1
        }
    }
}
