/// Turns the raw bytes read from a Linux input device (`/dev/input/event*`) into scanned codes.
///
/// A USB scanner in keyboard mode "types" each code. The kernel hands out one `struct input_event` per key
/// press, release or auto-repeat, 24 bytes each on a 64-bit system, little-endian:
///
/// | bytes | field | |
/// |---|---|---|
/// | 0–7 | `time.tv_sec` | i64 |
/// | 8–15 | `time.tv_usec` | i64 |
/// | 16–17 | `type` | u16: 0 `EV_SYN`, 1 `EV_KEY`, 4 `EV_MSC` |
/// | 18–19 | `code` | u16: `KEY_*` |
/// | 20–23 | `value` | i32: 0 release, 1 press, 2 auto-repeat |
///
/// Key presses and auto-repeats are typed with the US layout (``character(forKey:shift:capsLock:)``), with either
/// Shift held for capitals and shifted symbols and Caps Lock toggling the case of letters (Caps Lock with Shift gives
/// lower case again). Releases, `EV_SYN` and `EV_MSC` events are ignored (releases of Shift, Ctrl and Alt only end
/// their hold).
///
/// A code ends at Enter or keypad Enter; a bare Enter (nothing typed since the last code, or Enter auto-repeat)
/// yields nothing. For scanners that send no Enter, a pause of ``gapTimeout`` seconds between key presses also
/// ends a code: the pause is measured on the events' own timestamps when the next key arrives, and by
/// ``flush(now:)`` when no more keys arrive. Without a gap (`gapTimeout: nil`) text left without an Enter for
/// ``halfCodeTimeout`` seconds is junk, "half a code".
///
/// Keys that type no printable character are kept as control characters so the code becomes junk,
/// "control characters" (it is never silently shortened): Tab → U+0009, Backspace → U+0008, Escape → U+001B,
/// Delete → U+007F, Ctrl+letter → its ASCII control code (Ctrl+A = U+0001), any key pressed while Ctrl, Alt or
/// Meta is held otherwise and every other key without a character (F1–F12, arrows, Home, …) → U+001A (SUB).
/// Shift, Ctrl, Alt, Meta, Caps Lock, Num Lock and Scroll Lock type nothing. Keypad digits type digits whatever
/// the Num Lock state (a scanner cannot see the kiosk's lock state).
///
/// Every finished code goes through ``ScanFilter``. A partial event at the end of a read is kept until the rest
/// arrives. The decoder is a value with no I/O: feed it bytes, it returns what was scanned.
public struct EvdevDecoder: Sendable {
    /// The size of one `struct input_event` on a 64-bit Linux system.
    public static let eventSize = 24

    /// A pause between key presses, in seconds, that ends a code; nil when only Enter ends one.
    public let gapTimeout: Double?
    /// Without a gap: seconds after which text still waiting for its Enter is dropped as "half a code".
    public let halfCodeTimeout: Double

    private var partial: [UInt8] = []
    private var text = String.UnicodeScalarView()
    private var textLength = 0
    private var lostKeys = false
    private var lastKeyTime: Double?
    private var shiftHeld: Set<UInt16> = []
    private var controlHeld: Set<UInt16> = []
    private var capsLock = false

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - gapTimeout: seconds without a key press that end a code (for scanners that send no Enter); nil, zero or
    ///     a negative value means only Enter ends a code.
    ///   - halfCodeTimeout: used only without a gap: seconds after which text without its Enter is junk.
    public init(gapTimeout: Double? = 0.1, halfCodeTimeout: Double = 1.0) {
        if let gap = gapTimeout, gap > 0 {
            self.gapTimeout = gap
        } else {
            self.gapTimeout = nil
        }
        self.halfCodeTimeout = halfCodeTimeout
    }

    /// Whether text has been typed that no Enter, gap or flush has ended yet.
    public var hasPendingText: Bool { textLength > 0 || lostKeys }

    /// Whether Caps Lock is on, as toggled by the scanner's own Caps Lock presses.
    public var isCapsLockOn: Bool { capsLock }

    /// Decodes the next bytes read from the device, in the order read, and returns the codes (and junk) they
    /// finished. Bytes of an incomplete last event are kept for the next call.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [ScanInput] {
        partial.append(contentsOf: bytes)
        var out: [ScanInput] = []
        var offset = 0
        while partial.count - offset >= Self.eventSize {
            let (time, type, code, value) = partial.withUnsafeBytes { raw in
                let event = raw.baseAddress! + offset
                let seconds = Int64(littleEndian: event.loadUnaligned(fromByteOffset: 0, as: Int64.self))
                let micros = Int64(littleEndian: event.loadUnaligned(fromByteOffset: 8, as: Int64.self))
                return (
                    Double(seconds) + Double(micros) / 1_000_000,
                    UInt16(littleEndian: event.loadUnaligned(fromByteOffset: 16, as: UInt16.self)),
                    UInt16(littleEndian: event.loadUnaligned(fromByteOffset: 18, as: UInt16.self)),
                    Int32(littleEndian: event.loadUnaligned(fromByteOffset: 20, as: Int32.self))
                )
            }
            process(time: time, type: type, code: code, value: value, into: &out)
            offset += Self.eventSize
        }
        partial.removeFirst(offset)
        return out
    }

    /// Ends the code being typed if its last key press is at least ``gapTimeout`` seconds before `now` (or, without
    /// a gap, drops it as "half a code" after ``halfCodeTimeout``). `now` is on the clock of the events' timestamps
    /// (`CLOCK_MONOTONIC` when the reader could select it, else `CLOCK_REALTIME`).
    public mutating func flush(now: Double) -> [ScanInput] {
        var out: [ScanInput] = []
        checkPause(at: now, into: &out)
        return out
    }

    /// Forgets everything in progress (after the device was unplugged): the text, a partial event, held keys and
    /// Caps Lock. Returns "half a code" when text was waiting for its end.
    public mutating func reset() -> [ScanInput] {
        let pending = hasPendingText
        self = EvdevDecoder(gapTimeout: gapTimeout, halfCodeTimeout: halfCodeTimeout)
        return pending ? [.junk(reason: ScanFilter.halfCode)] : []
    }

    // MARK: Events

    private static let evSyn: UInt16 = 0
    private static let evKey: UInt16 = 1
    private static let synDropped: UInt16 = 3

    private mutating func process(time: Double, type: UInt16, code: UInt16, value: Int32, into out: inout [ScanInput]) {
        if type == Self.evSyn && code == Self.synDropped {
            // The kernel's buffer overflowed: keys are missing from the code being typed, and a Shift or Ctrl release
            // may be among them.
            if textLength > 0 { lostKeys = true }
            shiftHeld = []
            controlHeld = []
            return
        }
        guard type == Self.evKey else { return }  // EV_SYN reports, EV_MSC scan codes, LEDs, …
        if value == 0 {
            shiftHeld.remove(code)
            controlHeld.remove(code)
            return
        }
        guard value == 1 || value == 2 else { return }
        checkPause(at: time, into: &out)
        lastKeyTime = time
        switch code {
        case 42, 54:  // KEY_LEFTSHIFT, KEY_RIGHTSHIFT
            shiftHeld.insert(code)
        case 29, 97, 56, 100, 125, 126:  // Ctrl, Alt, Meta (left and right)
            controlHeld.insert(code)
        case 58:  // KEY_CAPSLOCK
            if value == 1 { capsLock.toggle() }
        case 69, 70:  // KEY_NUMLOCK, KEY_SCROLLLOCK
            break
        case 28, 96:  // KEY_ENTER, KEY_KPENTER
            if let input = finishCode() { out.append(input) }
        default:
            append(typedScalar(code))
        }
    }

    /// The character a key press types with the current modifiers.
    private func typedScalar(_ code: UInt16) -> Unicode.Scalar {
        let character = Self.character(forKey: code, shift: !shiftHeld.isEmpty, capsLock: capsLock)
        if !controlHeld.isEmpty {
            let ctrlOnly = controlHeld.isSubset(of: [29, 97])
            if ctrlOnly, let c = character, let ascii = c.asciiValue, c.isLetter {
                return Unicode.Scalar(ascii & 0x1F)
            }
            return "\u{1A}"
        }
        if let c = character { return c.unicodeScalars.first! }
        return Self.controlKeys[code] ?? "\u{1A}"
    }

    private mutating func append(_ scalar: Unicode.Scalar) {
        textLength += 1
        // Keep one character beyond the limit: enough for the filter to call it too long, never unbounded.
        if textLength <= ScanFilter.maximumLength + 1 { text.append(scalar) }
    }

    private mutating func checkPause(at time: Double, into out: inout [ScanInput]) {
        guard hasPendingText, let last = lastKeyTime else { return }
        if let gap = gapTimeout {
            if time - last >= gap, let input = finishCode() { out.append(input) }
        } else if time - last >= halfCodeTimeout {
            clearText()
            out.append(.junk(reason: ScanFilter.halfCode))
        }
    }

    private mutating func finishCode() -> ScanInput? {
        defer { clearText() }
        if lostKeys { return .junk(reason: ScanFilter.keysLost) }
        if textLength == 0 { return nil }
        if textLength > ScanFilter.maximumLength { return .junk(reason: ScanFilter.tooLong) }
        return ScanFilter.check(String(text))
    }

    private mutating func clearText() {
        text = String.UnicodeScalarView()
        textLength = 0
        lostKeys = false
    }

    // MARK: The US key map

    private static let letters: [UInt16: Character] = [
        16: "q", 17: "w", 18: "e", 19: "r", 20: "t", 21: "y", 22: "u", 23: "i", 24: "o", 25: "p",
        30: "a", 31: "s", 32: "d", 33: "f", 34: "g", 35: "h", 36: "j", 37: "k", 38: "l",
        44: "z", 45: "x", 46: "c", 47: "v", 48: "b", 49: "n", 50: "m",
    ]

    private static let symbols: [UInt16: (plain: Character, shifted: Character)] = [
        2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"),
        7: ("6", "^"), 8: ("7", "&"), 9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"),
        12: ("-", "_"), 13: ("=", "+"), 26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"), 40: ("'", "\""),
        41: ("`", "~"), 43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"), 57: (" ", " "),
    ]

    private static let keypad: [UInt16: Character] = [
        71: "7", 72: "8", 73: "9", 74: "-", 75: "4", 76: "5", 77: "6", 78: "+",
        79: "1", 80: "2", 81: "3", 82: "0", 83: ".", 55: "*", 98: "/", 117: "=", 121: ",",
    ]

    private static let controlKeys: [UInt16: Unicode.Scalar] = [1: "\u{1B}", 14: "\u{08}", 15: "\u{09}", 111: "\u{7F}"]

    /// The character a key types on a US keyboard, or nil for keys that type none (Enter, modifiers, Tab, F-keys, …).
    ///
    /// Letters: `KEY_A`… → `a`…, upper case with Shift or Caps Lock (not both). Digit row `1`…`0` → `!@#$%^&*()` with
    /// Shift; `-` `_`, `=` `+`, `[` `{`, `]` `}`, `;` `:`, `'` `"`, `` ` `` `~`, `\` `|`, `,` `<`, `.` `>`, `/` `?`;
    /// Space → space. Keypad `0`–`9`, `.`, `+`, `-`, `*`, `/`, `=` and `,` type themselves, Shift or not.
    public static func character(forKey code: UInt16, shift: Bool, capsLock: Bool) -> Character? {
        if let letter = letters[code] {
            return shift != capsLock ? Character(letter.uppercased()) : letter
        }
        if let pair = symbols[code] { return shift ? pair.shifted : pair.plain }
        return keypad[code]
    }
}
