import JiayuanScanning

/// What every scanner source may deliver: a code free of control characters and line ends, 1–512 characters long,
/// or junk with one of the shared reasons.
func checkScanInput(_ input: ScanInput) {
    switch input {
    case .code(let text):
        let scalars = text.unicodeScalars
        invariant(!scalars.isEmpty && scalars.count <= ScanFilter.maximumLength, "code of \(scalars.count) characters")
        invariant(
            !scalars.contains { $0.properties.generalCategory == .control }, "code with a control character: \(text.debugDescription)")
    case .junk(let reason):
        let reasons = [
            ScanFilter.controlCharacters, ScanFilter.tooLong, ScanFilter.halfCode, ScanFilter.empty, ScanFilter.invalidUTF8,
            ScanFilter.keysLost,
        ]
        invariant(reasons.contains(reason), "unknown junk reason \(reason.debugDescription)")
    }
}

/// `LineDecoder` (stdin, FIFO and serial scanners).
///
/// Invariants: whatever the reads' sizes, the lines decoded equal those of a plain reference reading of the whole
/// stream (split at `\r\n`, `\r` or `\n`, skip empty lines, over 2052 bytes "too long", else not UTF-8 or
/// `ScanFilter.check`); with reads spaced by less than the gap the result is the same; with any spacing every output is
/// a valid `ScanInput`; nothing is pending after `finish()`.
enum LineFuzz {
    static func run(_ data: [UInt8]) {
        var input = FuzzBytes(data)
        let sizes = input.take(Int(input.byte() % 8))
        let step = Double(input.byte()) / 100
        let stream = input.rest()
        let expected = reference(stream)

        var untimed = LineDecoder(gapTimeout: nil)
        var out: [ScanInput] = []
        for chunk in chunks(stream, sizes: sizes) { out += untimed.feed(chunk, at: 0) }
        out += untimed.finish()
        invariant(out == expected, "chunked decoding \(out) differs from the reference \(expected)")
        invariant(!untimed.hasPendingText, "text pending after finish()")

        var timed = LineDecoder(gapTimeout: 0.1)
        var timedOut: [ScanInput] = []
        var now = 0.0
        for chunk in chunks(stream, sizes: sizes) {
            timedOut += timed.feed(chunk, at: now)
            now += step
        }
        timedOut += timed.flush(now: now)
        timedOut += timed.finish()
        timedOut.forEach(checkScanInput)
        if step < 0.1 { invariant(timedOut == expected, "reads \(step) s apart decode \(timedOut), not \(expected)") }
        invariant(!timed.hasPendingText, "text pending after finish()")
        invariant(timed.reset().isEmpty, "reset after finish() reports half a code")
    }

    /// The lines of a whole stream, decoded the simple way.
    static func reference(_ stream: [UInt8]) -> [ScanInput] {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var i = 0
        while i < stream.count {
            let b = stream[i]
            if b == 0x0A || b == 0x0D {
                lines.append(line)
                line = []
                if b == 0x0D, i + 1 < stream.count, stream[i + 1] == 0x0A { i += 1 }
            } else {
                line.append(b)
            }
            i += 1
        }
        lines.append(line)
        return lines.filter { !$0.isEmpty }.map { line in
            if line.count > 4 * (ScanFilter.maximumLength + 1) { return .junk(reason: ScanFilter.tooLong) }
            guard let text = String(validating: line, as: UTF8.self) else { return .junk(reason: ScanFilter.invalidUTF8) }
            return ScanFilter.check(text)
        }
    }
}

/// `EvdevDecoder` (USB scanners in keyboard mode).
///
/// Two kinds of input, chosen by the first byte: raw `input_event` bytes, or a compact list of key events (4 bytes
/// each: kind, key, value, time step) that reaches the key logic far more often. Invariants: the codes decoded do not
/// depend on how the bytes are split into reads; every output is a valid `ScanInput`; a flush a gap after the last key
/// leaves nothing pending. A third kind types printable ASCII text the way a scanner does (Shift for capitals and
/// symbols, press and release, then Enter): it must decode to exactly that text.
enum EvdevFuzz {
    static func run(_ data: [UInt8]) {
        var input = FuzzBytes(data)
        let mode = input.byte() % 3
        let sizes = input.take(Int(input.byte() % 8))
        let gap: Double? = input.byte() % 2 == 0 ? 0.1 : nil
        switch mode {
        case 0: decodeBoth(input.rest(), sizes: sizes, gap: gap)
        case 1: decodeBoth(compactEvents(input.rest()), sizes: sizes, gap: gap)
        default: typeText(input.rest(), sizes: sizes, gap: gap)
        }
    }

    static func event(_ seconds: Int64, _ micros: Int64, type: UInt16, code: UInt16, value: Int32) -> [UInt8] {
        withUnsafeBytes(of: seconds.littleEndian, Array.init) + withUnsafeBytes(of: micros.littleEndian, Array.init)
            + withUnsafeBytes(of: type.littleEndian, Array.init) + withUnsafeBytes(of: code.littleEndian, Array.init)
            + withUnsafeBytes(of: value.littleEndian, Array.init)
    }

    /// 4 bytes per event: kind (key, SYN_REPORT, SYN_DROPPED, other), key code (0–127), value (release, press,
    /// repeat, other), time step in ms.
    static func compactEvents(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var ms: Int64 = 1_000_000
        var i = 0
        while i + 4 <= bytes.count {
            let kind = bytes[i] % 4
            let type: UInt16 = [1, 0, 0, 4][Int(kind)]
            let code: UInt16 = kind == 2 ? 3 : UInt16(bytes[i + 1] % 128)
            let value: Int32 = [0, 1, 2, 7][Int(bytes[i + 2] % 4)]
            ms += Int64(bytes[i + 3])
            out += event(ms / 1000, (ms % 1000) * 1000, type: type, code: code, value: value)
            i += 4
        }
        return out
    }

    static func decodeBoth(_ stream: [UInt8], sizes: [UInt8], gap: Double?) {
        var whole = EvdevDecoder(gapTimeout: gap)
        let expected = whole.feed(stream)
        var split = EvdevDecoder(gapTimeout: gap)
        var out: [ScanInput] = []
        for chunk in chunks(stream, sizes: sizes) { out += split.feed(chunk) }
        invariant(out == expected, "split reads decode \(out), one read \(expected)")
        expected.forEach(checkScanInput)
        invariant(whole.hasPendingText == split.hasPendingText, "pending text depends on the reads")
        let later = whole.flush(now: .infinity)
        later.forEach(checkScanInput)
        invariant(!whole.hasPendingText, "text pending after a flush long after the last key")
    }

    /// Key and Shift for each printable ASCII character, from the decoder's own US map.
    static let keys: [UInt8: (code: UInt16, shift: Bool)] = {
        var map: [UInt8: (UInt16, Bool)] = [:]
        for shift in [false, true] {
            for code in UInt16(0)..<128 {
                if let c = EvdevDecoder.character(forKey: code, shift: shift, capsLock: false), let a = c.asciiValue, map[a] == nil {
                    map[a] = (code, shift)
                }
            }
        }
        return map
    }()

    static func typeText(_ bytes: [UInt8], sizes: [UInt8], gap: Double?) {
        let printable = keys.keys.sorted()
        let text = bytes.prefix(530).map { printable[Int($0) % printable.count] }
        var stream: [UInt8] = []
        var ms: Int64 = 5_000_000
        func add(_ code: UInt16, _ value: Int32) {
            ms += 2
            stream += event(ms / 1000, (ms % 1000) * 1000, type: 1, code: code, value: value)
            stream += event(ms / 1000, (ms % 1000) * 1000, type: 0, code: 0, value: 0)
        }
        for a in text {
            let (code, shift) = keys[a]!
            if shift { add(42, 1) }
            add(code, 1)
            add(code, 0)
            if shift { add(42, 0) }
        }
        add(28, 1)
        add(28, 0)
        var decoder = EvdevDecoder(gapTimeout: gap)
        var out: [ScanInput] = []
        // Reads of about a key press each (the long streams of this mode would be slow byte by byte).
        for chunk in chunks(stream, sizes: sizes, scale: 37) { out += decoder.feed(chunk) }
        let typed = String(decoding: text, as: UTF8.self)
        let expected: [ScanInput] = text.isEmpty ? [] : [ScanFilter.check(typed)]
        invariant(out == expected, "typing \(typed.debugDescription) decoded as \(out)")
        invariant(!decoder.hasPendingText, "text pending after Enter")
    }
}
