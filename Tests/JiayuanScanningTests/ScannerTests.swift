import Foundation
import Testing

@testable import JiayuanScanning

#if canImport(Glibc)
    import Glibc
#endif

// MARK: - Recorded input_event streams

/// The US keyboard as a USB barcode scanner types it: Linux key code, HID usage (what the kernel reports in its
/// `EV_MSC MSC_SCAN` event, page 7) and whether Shift is pressed for the character.
/// Written out independently of the decoder's own table, from linux/input-event-codes.h and the HID usage tables.
enum USKeyboard {
    struct Key {
        var code: UInt16
        var usage: UInt32
        var shift: Bool
    }

    static let leftShift = Key(code: 42, usage: 0xE1, shift: false)
    static let rightShift = Key(code: 54, usage: 0xE5, shift: false)
    static let leftCtrl = Key(code: 29, usage: 0xE0, shift: false)
    static let capsLock = Key(code: 58, usage: 0x39, shift: false)
    static let enter = Key(code: 28, usage: 0x28, shift: false)
    static let keypadEnter = Key(code: 96, usage: 0x58, shift: false)
    static let tab = Key(code: 15, usage: 0x2B, shift: false)
    static let f1 = Key(code: 59, usage: 0x3A, shift: false)
    /// Keypad 0–9.
    static let keypad: [Key] = zip(
        [82, 79, 80, 81, 75, 76, 77, 71, 72, 73] as [UInt16], [0x62, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x61] as [UInt32]
    )
    .map { Key(code: $0, usage: $1, shift: false) }

    static let keys: [Character: Key] = {
        var keys: [Character: Key] = [:]
        let letterCodes: [UInt16] = [
            30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38, 50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44,
        ]
        for (i, letter) in "abcdefghijklmnopqrstuvwxyz".enumerated() {
            keys[letter] = Key(code: letterCodes[i], usage: 0x04 + UInt32(i), shift: false)
            keys[Character(letter.uppercased())] = Key(code: letterCodes[i], usage: 0x04 + UInt32(i), shift: true)
        }
        for (i, (plain, shifted)) in zip("1234567890", "!@#$%^&*()").enumerated() {
            keys[plain] = Key(code: 2 + UInt16(i), usage: 0x1E + UInt32(i), shift: false)
            keys[shifted] = Key(code: 2 + UInt16(i), usage: 0x1E + UInt32(i), shift: true)
        }
        let symbols: [(Character, Character, UInt16, UInt32)] = [
            ("-", "_", 12, 0x2D), ("=", "+", 13, 0x2E), ("[", "{", 26, 0x2F), ("]", "}", 27, 0x30), ("\\", "|", 43, 0x31),
            (";", ":", 39, 0x33), ("'", "\"", 40, 0x34), ("`", "~", 41, 0x35), (",", "<", 51, 0x36), (".", ">", 52, 0x37),
            ("/", "?", 53, 0x38),
        ]
        for (plain, shifted, code, usage) in symbols {
            keys[plain] = Key(code: code, usage: usage, shift: false)
            keys[shifted] = Key(code: code, usage: usage, shift: true)
        }
        keys[" "] = Key(code: 57, usage: 0x2C, shift: false)
        return keys
    }()
}

/// Builds the byte stream a 64-bit Linux kernel hands out of `/dev/input/eventN` while a scanner types: for each key
/// `EV_MSC MSC_SCAN` (the HID usage), `EV_KEY` and `EV_SYN SYN_REPORT`, at press and at release, 2 ms apart.
struct Recording {
    private(set) var bytes: [UInt8] = []
    /// The timestamp of the next event, in microseconds (as `struct timeval`).
    var micros: Int64

    init(startingAt seconds: Double = 1_764_288_000.25) {
        micros = Int64((seconds * 1_000_000).rounded())
    }

    /// The time of the next event, in seconds.
    var time: Double { Double(micros) / 1_000_000 }

    /// `struct input_event { struct timeval time; __u16 type; __u16 code; __s32 value; }`, 24 bytes, little-endian.
    static func event(micros: Int64, type: UInt16, code: UInt16, value: Int32) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: (micros / 1_000_000).littleEndian) { out += $0 }  // tv_sec
        withUnsafeBytes(of: (micros % 1_000_000).littleEndian) { out += $0 }  // tv_usec
        withUnsafeBytes(of: type.littleEndian) { out += $0 }
        withUnsafeBytes(of: code.littleEndian) { out += $0 }
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
        return out
    }

    mutating func raw(type: UInt16, code: UInt16, value: Int32) {
        bytes += Self.event(micros: micros, type: type, code: code, value: value)
    }

    mutating func sync() { raw(type: 0, code: 0, value: 0) }

    /// A key going down (1), up (0) or repeating (2), as one report.
    mutating func key(_ key: USKeyboard.Key, _ value: Int32) {
        if value != 2 { raw(type: 4, code: 4, value: Int32(0x70000 | key.usage)) }  // EV_MSC MSC_SCAN
        raw(type: 1, code: key.code, value: value)
        sync()
        micros += value == 2 ? 33_000 : 2_000
    }

    mutating func tap(_ key: USKeyboard.Key) {
        self.key(key, 1)
        self.key(key, 0)
    }

    /// Types `text` the way scanners do: Shift pressed and released around every shifted character.
    mutating func type(_ text: String, shift: USKeyboard.Key = USKeyboard.leftShift) {
        for character in text {
            let key = USKeyboard.keys[character]!
            if key.shift { self.key(shift, 1) }
            tap(key)
            if key.shift { self.key(shift, 0) }
        }
    }

    mutating func enter() { tap(USKeyboard.enter) }

    mutating func pause(_ seconds: Double) { micros += Int64(seconds * 1_000_000) }
}

/// A card-like code: `JY1:` and 122 base32 characters, the length of a real card (DESIGN.md §3.2).
func cardLikeCode(seed: UInt64) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var state = seed
    var code = "JY1:"
    for _ in 0..<122 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        code.append(alphabet[Int(state >> 59)])
    }
    return code
}

// MARK: - Evdev decoder

@Suite("Evdev decoder on recorded input_event streams")
struct EvdevDecoderTests {
    @Test("the recording helper packs input_event as the kernel does: timeval, type, code, value in 24 bytes")
    func recordingLayout() {
        let bytes = Recording.event(micros: 1_764_288_000_250_000, type: 1, code: 30, value: 1)
        #expect(bytes.count == 24)
        var time = timeval(tv_sec: 1_764_288_000, tv_usec: 250_000)
        let timeBytes = withUnsafeBytes(of: &time) { Array($0) }
        #expect(Array(bytes[0..<16]) == timeBytes, "struct timeval of this machine")
        #expect(Array(bytes[16..<24]) == [1, 0, 30, 0, 1, 0, 0, 0])
    }

    @Test("a full card code with Shift around each capital and the colon, then Enter, reads back exactly")
    func fullCardCode() throws {
        let code = cardLikeCode(seed: 42)
        #expect(code.count == 126)
        var recording = Recording()
        recording.type(code)
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code(code)])
        #expect(!decoder.hasPendingText)
        // Right Shift, and one read per arbitrary slice of the stream, give the same.
        var right = Recording()
        right.type(code, shift: USKeyboard.rightShift)
        right.enter()
        for chunk in [1, 7, 23, 24, 25, 100, 4096] {
            var decoder = EvdevDecoder()
            var out: [ScanInput] = []
            var rest = right.bytes[...]
            while !rest.isEmpty {
                out += decoder.feed(rest.prefix(chunk))
                rest = rest.dropFirst(chunk)
            }
            #expect(out == [.code(code)], "read in chunks of \(chunk) bytes")
        }
    }

    @Test("two codes in one read, each ended by Enter or keypad Enter, come out in order")
    func twoCodes() {
        var recording = Recording()
        recording.type("JY1:AAAA")
        recording.enter()
        recording.type("JY1:BBBB")
        recording.tap(USKeyboard.keypadEnter)
        var decoder = EvdevDecoder(gapTimeout: nil)
        #expect(decoder.feed(recording.bytes) == [.code("JY1:AAAA"), .code("JY1:BBBB")])
    }

    @Test("lower case, digits, space and every US symbol key, plain and shifted")
    func symbols() {
        let text = "hello world 0123456789 -_=+[]{}\\|;:'\",<.>/?`~!@#$%^&*()"
        var recording = Recording()
        recording.type(text)
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code(text)])
    }

    @Test("Shift held down across several characters keeps them shifted until it is released")
    func heldShift() {
        var recording = Recording()
        recording.key(USKeyboard.leftShift, 1)
        recording.key(USKeyboard.leftShift, 2)  // Shift auto-repeats while held
        for c in "jy1;" { recording.tap(USKeyboard.keys[c]!) }
        recording.key(USKeyboard.leftShift, 0)
        recording.type("abc")
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code("JY!:abc")])
    }

    @Test("Caps Lock from the scanner turns letters to capitals (Shift undoes it), digits stay, a second press turns it off")
    func capsLock() {
        var recording = Recording()
        recording.tap(USKeyboard.capsLock)
        recording.key(USKeyboard.capsLock, 2)  // auto-repeat of Caps Lock does not toggle again
        for c in "jy1" { recording.tap(USKeyboard.keys[c]!) }
        recording.type(":")
        for c in "abc" { recording.tap(USKeyboard.keys[c]!) }
        recording.type("D")  // Shift + d with Caps Lock on: lower case
        recording.enter()
        recording.tap(USKeyboard.capsLock)
        recording.type("xyz")
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code("JY1:ABCd"), .code("xyz")])
        #expect(!decoder.isCapsLockOn)
    }

    @Test("auto-repeat (value 2) types the key again; releases, EV_MSC and EV_SYN type nothing")
    func autoRepeat() {
        var recording = Recording()
        let seven = USKeyboard.keys["7"]!
        recording.key(seven, 1)
        recording.key(seven, 2)
        recording.key(seven, 2)
        recording.key(seven, 0)
        recording.raw(type: 4, code: 4, value: 0x70024)  // a stray scan code
        recording.sync()
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code("777")])
    }

    @Test("keypad digits type digits and keypad Enter ends the code")
    func keypad() {
        var recording = Recording()
        for digit in [4, 2, 0, 9] { recording.tap(USKeyboard.keypad[digit]) }
        recording.tap(USKeyboard.keypadEnter)
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.code("4209")])
    }

    @Test("a bare Enter, or Enter auto-repeating, is not a scan")
    func bareEnter() {
        var recording = Recording()
        recording.enter()
        recording.key(USKeyboard.enter, 1)
        recording.key(USKeyboard.enter, 2)
        recording.key(USKeyboard.enter, 0)
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [])
    }

    @Test("without Enter, a 0.2 s pause between keys ends the first code; flush ends the last once the gap has passed")
    func gapEndsCode() {
        var recording = Recording()
        recording.type("JY1:FIRST")
        recording.pause(0.2)
        recording.type("JY1:SECOND")
        let lastKey = recording.time - 0.002
        var decoder = EvdevDecoder(gapTimeout: 0.1)
        #expect(decoder.feed(recording.bytes) == [.code("JY1:FIRST")])
        #expect(decoder.hasPendingText)
        #expect(decoder.flush(now: lastKey + 0.05) == [], "still within the gap: the scanner may be typing")
        #expect(decoder.flush(now: lastKey + 0.15) == [.code("JY1:SECOND")])
        #expect(decoder.flush(now: lastKey + 5) == [])
    }

    @Test("typing at a scanner's pace (2 ms a key) never trips the gap, even over 126 characters")
    func noFalseGap() {
        var recording = Recording()
        let code = cardLikeCode(seed: 7)
        recording.type(code)
        var decoder = EvdevDecoder(gapTimeout: 0.1)
        #expect(decoder.feed(recording.bytes) == [])
        #expect(decoder.flush(now: recording.time + 0.2) == [.code(code)])
    }

    @Test("without a gap, text left without Enter is half a code after a second, and the next code reads cleanly")
    func halfCodeWithoutGap() {
        var recording = Recording()
        recording.type("JY1:HALF")
        let lastKey = recording.time
        var decoder = EvdevDecoder(gapTimeout: nil)
        #expect(decoder.feed(recording.bytes) == [])
        #expect(decoder.flush(now: lastKey + 0.5) == [])
        #expect(decoder.flush(now: lastKey + 1.5) == [.junk(reason: ScanFilter.halfCode)])
        // A half code found when the next scan begins.
        var next = Recording()
        next.type("JY1:HA")
        next.pause(3)
        next.type("JY1:WHOLE")
        next.enter()
        #expect(decoder.feed(next.bytes) == [.junk(reason: ScanFilter.halfCode), .code("JY1:WHOLE")])
        // Unplugged while typing: what was typed is half a code, and Caps Lock and Shift start afresh.
        var unplugged = Recording()
        unplugged.tap(USKeyboard.capsLock)
        unplugged.key(USKeyboard.leftShift, 1)
        unplugged.type("a")
        #expect(decoder.feed(unplugged.bytes) == [] && decoder.isCapsLockOn)
        #expect(decoder.reset() == [.junk(reason: ScanFilter.halfCode)])
        #expect(!decoder.isCapsLockOn && !decoder.hasPendingText)
    }

    @Test("a 24-byte event split across two reads is kept until its second half arrives")
    func splitEvent() {
        var recording = Recording()
        recording.type("JY1:Q")
        recording.enter()
        let bytes = recording.bytes
        // Cut inside the EV_KEY press of Enter: the last report is MSC, KEY up, SYN; before it MSC, KEY down, SYN.
        let enterDown = bytes.count - 6 * 24 + 24
        var decoder = EvdevDecoder()
        #expect(decoder.feed(bytes[..<(enterDown + 10)]) == [])
        #expect(decoder.feed(bytes[(enterDown + 10)...]) == [.code("JY1:Q")])
        // One byte at a time.
        var slow = EvdevDecoder()
        var out: [ScanInput] = []
        for byte in bytes { out += slow.feed(CollectionOfOne(byte)) }
        #expect(out == [.code("JY1:Q")])
    }

    @Test("a 600-character code is junk, longer than 512 characters; 512 characters are a code")
    func tooLong() {
        let long = String(repeating: "A1", count: 300)
        var recording = Recording()
        recording.type(long)
        recording.enter()
        let limit = String(repeating: "7", count: 512)
        recording.type(limit)
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.junk(reason: "longer than 512 characters"), .code(limit)])
    }

    @Test("Tab, a Ctrl combination or a function key inside a code make it junk: control characters")
    func controlKeys() {
        var recording = Recording()
        recording.type("JY1:AB")
        recording.tap(USKeyboard.tab)
        recording.type("CD")
        recording.enter()
        recording.key(USKeyboard.leftCtrl, 1)
        recording.tap(USKeyboard.keys["j"]!)
        recording.key(USKeyboard.leftCtrl, 0)
        recording.type("12")
        recording.enter()
        recording.type("34")
        recording.tap(USKeyboard.f1)
        recording.enter()
        recording.type("JY1:FINE")  // Ctrl was released: a clean code again
        recording.enter()
        var decoder = EvdevDecoder()
        let junk = ScanInput.junk(reason: "control characters")
        #expect(decoder.feed(recording.bytes) == [junk, junk, junk, .code("JY1:FINE")])
    }

    @Test("keys lost by the kernel (SYN_DROPPED) make the code being typed junk")
    func droppedEvents() {
        var recording = Recording()
        recording.type("JY1:AB")
        recording.raw(type: 0, code: 3, value: 0)  // SYN_DROPPED
        recording.type("CD")
        recording.enter()
        recording.type("OK")
        recording.enter()
        var decoder = EvdevDecoder()
        #expect(decoder.feed(recording.bytes) == [.junk(reason: ScanFilter.keysLost), .code("OK")])
    }

    @Test("the US key map, key by key")
    func keyMap() {
        func c(_ code: UInt16, shift: Bool = false, caps: Bool = false) -> Character? {
            EvdevDecoder.character(forKey: code, shift: shift, capsLock: caps)
        }
        #expect(c(30) == "a" && c(30, shift: true) == "A" && c(30, caps: true) == "A" && c(30, shift: true, caps: true) == "a")
        #expect(c(2) == "1" && c(2, shift: true) == "!" && c(2, caps: true) == "1")
        #expect(c(39, shift: true) == ":" && c(12, shift: true) == "_" && c(13, shift: true) == "+")
        #expect(c(53) == "/" && c(52) == "." && c(51) == "," && c(57) == " " && c(57, shift: true) == " ")
        #expect(c(82) == "0" && c(79, shift: true) == "1" && c(83) == ".")
        #expect(c(28) == nil && c(42) == nil && c(15) == nil && c(59) == nil)
        // Every printable ASCII character the recording helper knows is typed back by the decoder's map.
        for (character, key) in USKeyboard.keys {
            #expect(c(key.code, shift: key.shift) == character, "key \(key.code) shift \(key.shift)")
        }
    }
}

// MARK: - Filter and line decoder

@Suite("Junk filter and line decoder")
struct LineDecoderTests {
    @Test("the filter passes codes and names junk in plain English")
    func filter() {
        #expect(ScanFilter.check("JY1:ABC") == .code("JY1:ABC"))
        #expect(ScanFilter.check(String(repeating: "x", count: 512)) == .code(String(repeating: "x", count: 512)))
        #expect(ScanFilter.check(String(repeating: "x", count: 513)) == .junk(reason: "longer than 512 characters"))
        #expect(ScanFilter.check("") == .junk(reason: "empty"))
        for bad in ["a\tb", "a\u{0}b", "\u{1B}[A", "ab\u{7F}", "x\u{85}"] {
            #expect(ScanFilter.check(bad) == .junk(reason: "control characters"), "\(bad.unicodeScalars.map(\.value))")
        }
        #expect(ScanFilter.check("王秀英 1234") == .code("王秀英 1234"), "text is not judged, only its characters")
    }

    @Test("lines end at LF, CR LF or CR, also when CR LF is split across reads; empty lines are skipped")
    func lineEnds() {
        var decoder = LineDecoder()
        #expect(
            decoder.feed(Array("ONE\nTWO\r\nTHREE\rFOUR\r".utf8), at: 0) == [.code("ONE"), .code("TWO"), .code("THREE"), .code("FOUR")])
        #expect(decoder.feed(Array("\nFIVE\n\n\r\n".utf8), at: 0.01) == [.code("FIVE")])
        #expect(!decoder.hasPendingText)
    }

    @Test("a line arriving in pieces within the gap is one code")
    func pieces() {
        var decoder = LineDecoder(gapTimeout: 0.1)
        #expect(decoder.feed(Array("JY1:AB".utf8), at: 10.00) == [])
        #expect(decoder.flush(now: 10.05) == [])
        #expect(decoder.feed(Array("CD\r\n".utf8), at: 10.08) == [.code("JY1:ABCD")])
    }

    @Test("bytes that are not UTF-8 make the line junk; the next line is read")
    func invalidUTF8() {
        var decoder = LineDecoder()
        let bytes: [UInt8] = [0x4A, 0x59, 0xFF, 0x31, 0x0A] + [0xE7, 0x8E, 0x0A] + Array("好\n".utf8)
        #expect(decoder.feed(bytes, at: 0) == [.junk(reason: ScanFilter.invalidUTF8), .junk(reason: ScanFilter.invalidUTF8), .code("好")])
    }

    @Test("a 10 KB line is junk, longer than 512 characters, without keeping 10 KB; the next line is read")
    func hugeLine() {
        var decoder = LineDecoder()
        var out: [ScanInput] = []
        for _ in 0..<10 { out += decoder.feed([UInt8](repeating: 0x41, count: 1024), at: 0) }
        out += decoder.feed(Array("\nJY1:NEXT\n".utf8), at: 0)
        #expect(out == [.junk(reason: "longer than 512 characters"), .code("JY1:NEXT")])
        var short = LineDecoder()
        #expect(short.feed(Array((String(repeating: "B", count: 600) + "\n").utf8), at: 0) == [.junk(reason: "longer than 512 characters")])
    }

    @Test("a tab or other control byte inside a line makes it junk")
    func controlBytes() {
        var decoder = LineDecoder()
        #expect(
            decoder.feed(Array("JY1:A\tB\nJY1:\u{1B}C\n".utf8), at: 0) == [
                .junk(reason: "control characters"), .junk(reason: "control characters"),
            ])
    }

    @Test("text without its line end for longer than the gap is half a code; what follows is a new line")
    func halfCode() {
        var decoder = LineDecoder(gapTimeout: 0.1)
        #expect(decoder.feed(Array("JY1:HA".utf8), at: 1.0) == [])
        #expect(decoder.flush(now: 1.2) == [.junk(reason: "half a code (no end of line)")])
        #expect(!decoder.hasPendingText)
        #expect(decoder.feed(Array("JY1:OK\n".utf8), at: 1.3) == [.code("JY1:OK")])
        // Noticed when the next bytes come, if nobody flushed.
        #expect(decoder.feed(Array("JY1:HA".utf8), at: 2.0) == [])
        #expect(decoder.feed(Array("JY1:NEW\n".utf8), at: 2.5) == [.junk(reason: ScanFilter.halfCode), .code("JY1:NEW")])
        // Without a gap, a line waits for its end.
        var patient = LineDecoder(gapTimeout: nil)
        #expect(patient.feed(Array("AB".utf8), at: 0) == [] && patient.flush(now: 1000) == [])
        #expect(patient.feed(Array("C\n".utf8), at: 1000) == [.code("ABC")])
    }

    @Test("at the end of input a last line without its line end is still a line")
    func endOfInput() {
        var decoder = LineDecoder()
        #expect(decoder.feed(Array("ONE\nLAST".utf8), at: 0) == [.code("ONE")])
        #expect(decoder.finish() == [.code("LAST")])
        #expect(decoder.finish() == [])
        // A source that fails mid-line (unplugged) leaves half a code, not a line.
        #expect(decoder.feed(Array("JY1:CUT".utf8), at: 0) == [])
        #expect(decoder.reset() == [.junk(reason: ScanFilter.halfCode)])
        #expect(decoder.reset() == [] && !decoder.hasPendingText)
    }
}

// MARK: - Sources

@Suite("Scanner source configuration")
struct ScannerSourceTests {
    @Test("the four source forms parse, and description writes them back")
    func parsing() throws {
        let cases: [(String, ScannerSource)] = [
            ("evdev:/dev/input/by-id/usb-Netum_Scanner-event-kbd", .evdev(path: "/dev/input/by-id/usb-Netum_Scanner-event-kbd")),
            ("serial:/dev/ttyACM0", .serial(path: "/dev/ttyACM0", baud: 9600)),
            ("serial:/dev/ttyUSB0@115200", .serial(path: "/dev/ttyUSB0", baud: 115200)),
            ("stdin", .stdin),
            ("  STDIN\n", .stdin),
            ("fifo:/run/jiayuan/scan", .fifo(path: "/run/jiayuan/scan")),
            ("fifo:scan.fifo", .fifo(path: "scan.fifo")),
        ]
        for (text, source) in cases {
            let parsed = try ScannerSource(parsing: text)
            #expect(parsed == source, "\(text)")
            #expect(try ScannerSource(parsing: parsed.description) == parsed, "round trip of \(parsed)")
        }
        #expect(try ScannerSource(parsing: "serial:/dev/ttyACM0", baud: 19200) == .serial(path: "/dev/ttyACM0", baud: 19200))
        #expect(try ScannerSource(parsing: "serial:/dev/ttyACM0@57600", baud: 19200) == .serial(path: "/dev/ttyACM0", baud: 57600))
        #expect(ScannerSource.serial(path: "/dev/ttyUSB0", baud: 115200).description == "serial:/dev/ttyUSB0@115200")
        #expect(ScannerSource.evdev(path: "/dev/input/event3").description == "evdev:/dev/input/event3")
        #expect(ScannerSource.fifo(path: "/run/jiayuan/scan").description == "fifo:/run/jiayuan/scan")
        #expect(ScannerSource.stdin.description == "stdin")
    }

    @Test("anything else is refused with a sentence that says what is accepted")
    func errors() {
        func message(_ text: String, baud: Int = 9600) -> String {
            do {
                _ = try ScannerSource(parsing: text, baud: baud)
                return "accepted"
            } catch let error as ScannerSourceError {
                return error.message
            } catch {
                return "other error \(error)"
            }
        }
        #expect(message("").contains("empty"))
        #expect(message("keyboard").contains("unknown scanner source \"keyboard\""))
        #expect(message("usb:/dev/hidraw0").contains("use evdev:"))
        #expect(message("evdev:").contains("evdev needs the input device"))
        #expect(message("fifo:").contains("fifo needs the path"))
        #expect(message("serial:").contains("serial needs the device"))
        #expect(message("serial:@9600").contains("serial needs the device"))
        #expect(message("serial:/dev/ttyUSB0@12345").contains("unsupported baud rate 12345"))
        #expect(message("serial:/dev/ttyUSB0@fast").contains("must be a number"))
        #expect(message("serial:/dev/ttyUSB0@").contains("must be a number"))
        #expect(message("serial:/dev/ttyUSB0", baud: 100).contains("unsupported baud rate 100"))
        #expect(message("stdin:/dev/tty").contains("stdin takes no path"))
        #expect(throws: ScannerSourceError.self) { try ScannerSource(parsing: "http://scanner") }
    }

    @Test("relative paths resolve against a directory; absolute ones and stdin stay")
    func resolving() {
        #expect(ScannerSource.fifo(path: "scan.fifo").resolved(relativeTo: "/var/lib/jiayuan") == .fifo(path: "/var/lib/jiayuan/scan.fifo"))
        #expect(ScannerSource.fifo(path: "/run/scan").resolved(relativeTo: "/var/lib/jiayuan/") == .fifo(path: "/run/scan"))
        #expect(ScannerSource.serial(path: "tty", baud: 9600).resolved(relativeTo: "/dev/") == .serial(path: "/dev/tty", baud: 9600))
        #expect(ScannerSource.stdin.resolved(relativeTo: "/x") == .stdin)
        #expect(ScannerSource.evdev(path: "/dev/input/event0").path == "/dev/input/event0" && ScannerSource.stdin.path == nil)
    }
}

// MARK: - Readers, end to end

/// Lines logged by a reader (it logs from its own thread).
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var log: @Sendable (String) -> Void { { [self] line in lock.withLock { lines.append(line) } } }
    var all: [String] { lock.withLock { lines } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }
}

/// Takes everything a reader yields, from the moment it starts, on a task of its own.
final class Collector: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ScanInput] = []
    private var ended = false
    private var task: Task<Void, Never>?

    init(_ stream: AsyncStream<ScanInput>) {
        task = Task { [self] in
            for await input in stream { lock.withLock { items.append(input) } }
            lock.withLock { ended = true }
        }
    }

    var received: [ScanInput] { lock.withLock { items } }
    var hasEnded: Bool { lock.withLock { ended } }

    /// Waits until `count` inputs have come (or `seconds` passed) and returns what came.
    func wait(for count: Int, within seconds: Double) async -> [ScanInput] {
        _ = await eventually(within: seconds) { self.received.count >= count }
        return received
    }

    /// Stops consuming: the stream terminates and the reader thread must stop.
    func cancel() { task?.cancel() }
}

/// Polls `condition` every 10 ms until it holds or `seconds` pass.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// A fresh private directory for one test.
func temporaryDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "/jiayuan-scanner-XXXXXX").utf8CString)
    let path = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
    return String(cString: path)
}

func writeAll(_ fd: Int32, _ text: String) {
    writeAll(fd, Array(text.utf8))
}

func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n > 0 { offset += n } else if errno != EINTR && errno != EAGAIN { return }
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

@Suite("Scanner readers, end to end")
struct ScannerReaderTests {
    @Test("FIFO: the reader creates it (mode 0620), two codes written by separate writers and a half line arrive in order")
    func fifoEndToEnd() async throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/scan"
        let logs = LogLines()
        let collector = Collector(ScannerReader(source: .fifo(path: path), gapTimeout: 0.1, log: logs.log).inputs())
        defer { collector.cancel() }

        var first: Int32 = -1
        #expect(
            await eventually(within: 2) {
                first = open(path, O_WRONLY | O_NONBLOCK); return first >= 0
            }, "the reader opened its FIFO")
        try #require(first >= 0)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO && info.st_mode & 0o777 == 0o620)

        let code1 = cardLikeCode(seed: 1)
        let code2 = cardLikeCode(seed: 2)
        let start = ContinuousClock.now
        writeAll(first, code1 + "\n")
        close(first)
        let second = open(path, O_WRONLY | O_NONBLOCK)
        try #require(second >= 0)
        writeAll(second, code2 + "\r\n")
        writeAll(second, "JY1:HALF")
        try await Task.sleep(for: .milliseconds(500))
        writeAll(second, "JY1:AFTER\n")
        close(second)

        let received = await collector.wait(for: 4, within: 3)
        #expect(received == [.code(code1), .code(code2), .junk(reason: "half a code (no end of line)"), .code("JY1:AFTER")])
        #expect(seconds(since: start) < 3)
        #expect(logs.contains("scanner open: fifo:\(path)"))
    }

    @Test("FIFO: when the consumer stops, the reader thread closes the pipe and ends")
    func cancellation() async throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/scan"
        let logs = LogLines()
        let collector = Collector(ScannerReader(source: .fifo(path: path), log: logs.log).inputs())
        #expect(await eventually(within: 2) { logs.contains("scanner open") })

        let start = ContinuousClock.now
        collector.cancel()
        // The thread notices within one 0.2 s poll (2 s leaves room for a loaded machine; blocking suites run
        // off the cooperative pool, so this check gets its turn).
        #expect(await eventually(within: 2) { logs.contains("scanner stopped: fifo:\(path)") })
        #expect(seconds(since: start) < 2)
        #expect(collector.hasEnded)
        // Nobody reads the FIFO any more: opening it to write fails with ENXIO.
        let writer = open(path, O_WRONLY | O_NONBLOCK)
        let error = errno
        #expect(writer == -1 && error == ENXIO)
        if writer >= 0 { close(writer) }
    }

    @Test("FIFO: a path that is not a FIFO is logged once and retried, and the reader still stops")
    func notAFIFO() async throws {
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/plain-file"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("x".utf8)))
        let logs = LogLines()
        let collector = Collector(ScannerReader(source: .fifo(path: path), log: logs.log).inputs())
        #expect(await eventually(within: 2) { logs.contains("cannot open scanner \(path): it exists and is not a FIFO") })
        collector.cancel()
        #expect(await eventually(within: 2) { logs.contains("scanner stopped") })
        #expect(logs.all.filter { $0.contains("cannot open") }.count == 1)
    }

    @Test("stdin: lines until end of input, the last one without its newline, then the sequence ends")
    func standardInput() async throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var reader = ScannerReader(source: .stdin)
        reader.standardInput = fds[0]
        let collector = Collector(reader.inputs())
        writeAll(fds[1], "JY1:ONE\nJY1:TWO\r\nJY1:THREE")
        close(fds[1])
        #expect(await collector.wait(for: 3, within: 2) == [.code("JY1:ONE"), .code("JY1:TWO"), .code("JY1:THREE")])
        #expect(await eventually(within: 2) { collector.hasEnded })
    }

    @Test("evdev: recorded events through the reader, a code without Enter ended by the gap, unplug and re-plug")
    func evdevReader() async throws {
        // A FIFO stands in for /dev/input/eventN: the reader cannot grab it (logged) but reads it the same way.
        let dir = try temporaryDirectory()
        defer { _ = try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/usb-scanner-event-kbd"
        try #require(mkfifo(path, 0o600) == 0)
        let device = open(path, O_RDWR | O_NONBLOCK)
        try #require(device >= 0)
        let logs = LogLines()
        let collector = Collector(ScannerReader(source: .evdev(path: path), gapTimeout: 0.1, log: logs.log).inputs())
        defer { collector.cancel() }
        #expect(await eventually(within: 2) { logs.contains("scanner open: evdev:\(path)") })
        #expect(logs.contains("cannot grab scanner \(path)"))

        // A non-grabbable stand-in keeps CLOCK_REALTIME timestamps, like an old kernel would.
        var recording = Recording(startingAt: Date().timeIntervalSince1970)
        let code = cardLikeCode(seed: 3)
        recording.type(code)
        recording.enter()
        recording.type("JY1:NOENTER")
        writeAll(device, recording.bytes)
        #expect(await collector.wait(for: 2, within: 2) == [.code(code), .code("JY1:NOENTER")])

        // Unplug: the device goes away and reads end.
        unlink(path)
        close(device)
        #expect(await eventually(within: 2) { logs.contains("scanner unplugged: \(path)") })
        // Plugged in again: the reader finds it within a second or so.
        try #require(mkfifo(path, 0o600) == 0)
        let again = open(path, O_RDWR | O_NONBLOCK)
        try #require(again >= 0)
        defer { close(again) }
        #expect(await eventually(within: 3) { logs.contains("scanner back: \(path)") })
        var later = Recording(startingAt: Date().timeIntervalSince1970)
        later.type("JY1:BACK")
        later.enter()
        writeAll(again, later.bytes)
        #expect(await collector.wait(for: 3, within: 2) == [.code(code), .code("JY1:NOENTER"), .code("JY1:BACK")])
    }

    @Test("serial: a pseudo-terminal set to raw 115200 8N1 delivers CR-ended codes; hang-up mid-code is an unplug and half a code")
    func serialReader() async throws {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        try #require(master >= 0)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        try #require(ioctl(master, 0x4004_5431, &unlock) == 0)  // TIOCSPTLCK
        try #require(ioctl(master, 0x8004_5430, &number) == 0)  // TIOCGPTN
        let path = "/dev/pts/\(number)"
        let logs = LogLines()
        let collector = Collector(ScannerReader(source: .serial(path: path, baud: 115200), gapTimeout: 0, log: logs.log).inputs())
        defer { collector.cancel() }
        #expect(await eventually(within: 2) { logs.contains("scanner open: serial:\(path)@115200") })

        let check = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)
        try #require(check >= 0)
        var settings = termios()
        #expect(tcgetattr(check, &settings) == 0)
        close(check)
        #expect(cfgetispeed(&settings) == speed_t(B115200) && cfgetospeed(&settings) == speed_t(B115200))
        #expect(settings.c_lflag & tcflag_t(ICANON | ECHO) == 0, "raw: no line editing, no echo")
        #expect(settings.c_cflag & tcflag_t(CSIZE) == tcflag_t(CS8) && settings.c_cflag & tcflag_t(PARENB | CSTOPB) == 0, "8N1")
        #expect(settings.c_iflag & tcflag_t(ICRNL) == 0, "CR arrives as CR")

        let code = cardLikeCode(seed: 4)
        writeAll(master, code + "\r")
        writeAll(master, "JY1:LF\n")
        #expect(await collector.wait(for: 2, within: 2) == [.code(code), .code("JY1:LF")])
        writeAll(master, "JY1:CU")  // the cable is pulled in the middle of a code (no gap set: it would wait for ever)
        try await Task.sleep(for: .milliseconds(300))
        close(master)
        #expect(await eventually(within: 2) { logs.contains("scanner unplugged: \(path)") })
        #expect(await collector.wait(for: 3, within: 2) == [.code(code), .code("JY1:LF"), .junk(reason: ScanFilter.halfCode)])
    }
}
