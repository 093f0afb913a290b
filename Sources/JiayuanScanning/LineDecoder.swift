/// Splits the bytes of a line source (stdin, a FIFO, a serial scanner) into scanned codes.
///
/// A line ends at `\n`, `\r\n` or a lone `\r` (a `\r\n` split across two reads is still one line end); an empty
/// line yields nothing. Each line must be UTF-8 (else junk, "not UTF-8 text") and passes ``ScanFilter``. A line is
/// held to at most about 4 × ``ScanFilter/maximumLength`` bytes while it arrives, so an endless line costs no memory;
/// it ends up as junk, "longer than 512 characters".
///
/// Text that waits for its line end for ``gapTimeout`` seconds or more is junk, "half a code (no end of line)",
/// noticed when the next bytes arrive or by ``flush(now:)``; whatever arrives after that starts a new line.
/// At end of input (``finish()``) a last line without its line end counts as a line, as `readLine()` does.
/// Times are seconds on any steady clock, the same for every call.
public struct LineDecoder: Sendable {
    /// Seconds a line may wait for its end before it is "half a code"; nil to wait for ever.
    public let gapTimeout: Double?

    private static let byteLimit = 4 * (ScanFilter.maximumLength + 1)
    private var line: [UInt8] = []
    private var overflow = false
    private var afterCR = false
    private var lastByteTime: Double?

    /// Creates a decoder; `gapTimeout` of nil, zero or less means a line waits for its end for ever.
    public init(gapTimeout: Double? = 0.1) {
        if let gap = gapTimeout, gap > 0 {
            self.gapTimeout = gap
        } else {
            self.gapTimeout = nil
        }
    }

    /// Whether part of a line has arrived without its end.
    public var hasPendingText: Bool { !line.isEmpty || overflow }

    /// Decodes the next bytes read, which arrived at `now`, and returns the lines they finished.
    public mutating func feed(_ bytes: some Collection<UInt8>, at now: Double) -> [ScanInput] {
        var out: [ScanInput] = []
        checkPause(at: now, into: &out)
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }  // the \n of \r\n
            }
            switch byte {
            case 0x0A:
                if let input = endLine() { out.append(input) }
            case 0x0D:
                if let input = endLine() { out.append(input) }
                afterCR = true
            default:
                if line.count < Self.byteLimit {
                    line.append(byte)
                } else {
                    overflow = true
                }
            }
        }
        if hasPendingText { lastByteTime = now }
        return out
    }

    /// Drops the line in progress as "half a code" when its last bytes are ``gapTimeout`` seconds or more before `now`.
    public mutating func flush(now: Double) -> [ScanInput] {
        var out: [ScanInput] = []
        checkPause(at: now, into: &out)
        return out
    }

    /// The end of input: a last line without its line end is decoded as a line.
    public mutating func finish() -> [ScanInput] {
        afterCR = false
        if let input = endLine() { return [input] }
        return []
    }

    /// Forgets the line in progress (the source was unplugged or failed) and returns "half a code" if there was one.
    public mutating func reset() -> [ScanInput] {
        let pending = hasPendingText
        self = LineDecoder(gapTimeout: gapTimeout)
        return pending ? [.junk(reason: ScanFilter.halfCode)] : []
    }

    private mutating func checkPause(at now: Double, into out: inout [ScanInput]) {
        guard let gap = gapTimeout, hasPendingText, let last = lastByteTime, now - last >= gap else { return }
        line.removeAll(keepingCapacity: true)
        overflow = false
        afterCR = false
        out.append(.junk(reason: ScanFilter.halfCode))
    }

    private mutating func endLine() -> ScanInput? {
        defer {
            line.removeAll(keepingCapacity: true)
            overflow = false
        }
        if overflow { return .junk(reason: ScanFilter.tooLong) }
        if line.isEmpty { return nil }
        var scalars = String.UnicodeScalarView()
        var bytes = line.makeIterator()
        var utf8 = UTF8()
        while true {
            switch utf8.decode(&bytes) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .emptyInput: return ScanFilter.check(String(scalars))
            case .error: return .junk(reason: ScanFilter.invalidUTF8)
            }
        }
    }
}
