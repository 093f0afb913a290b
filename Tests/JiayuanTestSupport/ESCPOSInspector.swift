// Reads back an ESC/POS byte stream the way a receipt printer would, for tests.

import Foundation
import JiayuanPrinting
import Testing

/// Parses the ESC/POS commands that `ESCPOS.encode` emits and recovers what would be printed:
/// the text lines (decoded from GB18030, control sequences stripped), their styles, the raster
/// images and whether the job ends with a cut.
///
/// Understood commands: `LF`, `ESC @`, `ESC a n`, `ESC E n`, `ESC d n`, `GS ! n`,
/// `GS v 0 m xL xH yL yH d...`, `GS V m` / `GS V m n`, `FS &`, `FS .`. Anything else, and
/// misuse a printer would not forgive (alignment or a raster in the middle of a line, text
/// left unprinted at a cut, bytes that are not GB18030, non-ASCII text outside Chinese mode),
/// is recorded in `errors`; parsing stops at the first byte it cannot interpret, so a test
/// that checks `errors.isEmpty` fails loudly instead of silently skipping commands.
public struct ESCPOSInspector: Sendable {
    /// One printed line of text.
    public struct Line: Equatable, Sendable {
        /// The text, decoded from GB18030.
        public var text: String
        /// The alignment in force when the line started.
        public var align: TextAlign
        /// Whether any of the text was printed bold.
        public var bold: Bool
        /// The largest character width multiplier used on the line (1 to 8).
        public var widthMultiplier: Int
        /// The largest character height multiplier used on the line (1 to 8).
        public var heightMultiplier: Int
        /// The columns the line takes on paper: each run's `TextLayout.displayWidth` times its width multiplier.
        public var columns: Int
    }

    /// Every printed line, including empty ones (each `LF`, and each line fed by `ESC d n`).
    public private(set) var lines: [Line] = []
    /// The raster images (`GS v 0`), in order; rows are MSB-first, 1 = black.
    public private(set) var rasters: [(widthBytes: Int, height: Int, data: [UInt8])] = []
    /// The alignment in force when each raster was printed.
    public private(set) var rasterAlignments: [TextAlign] = []
    /// What could not be parsed or would misprint, with byte offsets; empty for a good stream.
    public private(set) var errors: [String] = []
    /// Whether the stream contains a paper cut (`GS V`).
    public private(set) var hasCut = false
    /// Whether the stream's last command is a paper cut.
    public private(set) var endsWithCut = false
    /// Whether the stream starts with `ESC @` (initialise printer).
    public let startsWithInit: Bool
    /// How many times `ESC @` occurs.
    public private(set) var initCount = 0
    /// Whether Chinese character mode (`FS &`) was on at the end of the stream.
    public private(set) var chineseModeAtEnd = false

    /// The printed text, one entry per line, control sequences stripped.
    public var textLines: [String] { lines.map(\.text) }

    /// Whether the stream parsed without any error.
    public var isValid: Bool { errors.isEmpty }

    // Parser state.
    private var align = TextAlign.left
    private var bold = false
    private var widthMultiplier = 1
    private var heightMultiplier = 1
    private var chineseMode = false
    private var pending: Line?
    private var run: [UInt8] = []

    /// Parses `bytes`. Never traps; problems are listed in `errors`.
    public init(_ bytes: [UInt8]) {
        startsWithInit = bytes.starts(with: [0x1B, 0x40])
        parse(bytes)
    }

    /// Raster `i` as a binary PBM (P4) image with 32 extra white dots on every side.
    public func pbm(_ i: Int) -> [UInt8] {
        let raster = rasters[i]
        let marginBytes = 4
        let rowBytes = raster.widthBytes + 2 * marginBytes
        let width = rowBytes * 8
        let height = raster.height + 2 * marginBytes * 8
        var out = Array("P4\n\(width) \(height)\n".utf8)
        out.reserveCapacity(out.count + rowBytes * height)
        let blankRow = [UInt8](repeating: 0, count: rowBytes)
        for _ in 0..<(marginBytes * 8) { out += blankRow }
        let margin = [UInt8](repeating: 0, count: marginBytes)
        for row in 0..<raster.height {
            out += margin
            out += raster.data[(row * raster.widthBytes)..<((row + 1) * raster.widthBytes)]
            out += margin
        }
        for _ in 0..<(marginBytes * 8) { out += blankRow }
        return out
    }

    // MARK: - Parsing

    private mutating func parse(_ bytes: [UInt8]) {
        var i = 0
        let count = bytes.count
        func hex(_ range: Range<Int>) -> String {
            bytes[range.clamped(to: 0..<count)].map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
        }
        while i < count {
            let byte = bytes[i]
            var lastWasCut = false
            switch byte {
            case 0x0A:
                finishLine()
                i += 1
            case 0x1B, 0x1D, 0x1C:
                guard i + 1 < count else {
                    errors.append("offset \(i): truncated command \(hex(i..<count))")
                    return
                }
                let command = bytes[i + 1]
                func argument(_ k: Int) -> UInt8? { i + 1 + k < count ? bytes[i + 1 + k] : nil }
                switch (byte, command) {
                case (0x1B, 0x40):  // ESC @
                    if hasText { errors.append("offset \(i): ESC @ discards unprinted text") }
                    pending = nil
                    run = []
                    align = .left
                    bold = false
                    widthMultiplier = 1
                    heightMultiplier = 1
                    initCount += 1
                    i += 2
                case (0x1B, 0x61):  // ESC a n
                    guard let n = argument(1), let wanted = Self.alignment(n) else {
                        errors.append("offset \(i): bad ESC a \(hex(i..<(i + 3)))")
                        return
                    }
                    if hasText { errors.append("offset \(i): ESC a in the middle of a line is ignored by the printer") }
                    align = wanted
                    i += 3
                case (0x1B, 0x45):  // ESC E n
                    guard let n = argument(1) else {
                        errors.append("offset \(i): truncated ESC E")
                        return
                    }
                    flushRun()
                    bold = n & 1 == 1
                    i += 3
                case (0x1B, 0x64):  // ESC d n
                    guard let n = argument(1) else {
                        errors.append("offset \(i): truncated ESC d")
                        return
                    }
                    if n == 0 {
                        if hasText { finishLine() }
                    } else {
                        for _ in 0..<n { finishLine() }
                    }
                    i += 3
                case (0x1D, 0x21):  // GS ! n
                    guard let n = argument(1) else {
                        errors.append("offset \(i): truncated GS !")
                        return
                    }
                    flushRun()
                    widthMultiplier = Int(n >> 4) + 1
                    heightMultiplier = Int(n & 0x0F) + 1
                    if widthMultiplier > 8 || heightMultiplier > 8 {
                        errors.append("offset \(i): GS ! \(n) is out of range")
                    }
                    i += 3
                case (0x1D, 0x76):  // GS v 0 m xL xH yL yH d1...dk
                    guard i + 8 <= count, bytes[i + 2] == 0x30, [0, 1, 2, 3, 48, 49, 50, 51].contains(bytes[i + 3]) else {
                        errors.append("offset \(i): bad GS v header \(hex(i..<(i + 8)))")
                        return
                    }
                    let widthBytes = Int(bytes[i + 4]) | Int(bytes[i + 5]) << 8
                    let height = Int(bytes[i + 6]) | Int(bytes[i + 7]) << 8
                    let size = widthBytes * height
                    guard widthBytes > 0, height > 0, i + 8 + size <= count else {
                        errors.append("offset \(i): GS v 0 of \(widthBytes) x \(height) bytes does not fit the stream")
                        return
                    }
                    if hasText { errors.append("offset \(i): GS v 0 with unprinted text in the line buffer is ignored") }
                    rasters.append((widthBytes: widthBytes, height: height, data: Array(bytes[(i + 8)..<(i + 8 + size)])))
                    rasterAlignments.append(align)
                    i += 8 + size
                case (0x1D, 0x56):  // GS V m [n]
                    guard let m = argument(1) else {
                        errors.append("offset \(i): truncated GS V")
                        return
                    }
                    if [0, 1, 48, 49].contains(m) {
                        i += 3
                    } else if [65, 66].contains(m), argument(2) != nil {
                        i += 4
                    } else {
                        errors.append("offset \(i): unsupported GS V \(hex(i..<(i + 4)))")
                        return
                    }
                    if hasText { errors.append("offset \(i): text not ended by LF before the cut") }
                    hasCut = true
                    lastWasCut = true
                case (0x1C, 0x26):  // FS &
                    chineseMode = true
                    i += 2
                case (0x1C, 0x2E):  // FS .
                    chineseMode = false
                    i += 2
                default:
                    errors.append("offset \(i): unknown command \(hex(i..<(i + 4)))")
                    return
                }
            case 0x00..<0x20, 0x7F:
                errors.append("offset \(i): unexpected control byte \(hex(i..<(i + 1)))")
                return
            default:
                if byte >= 0x80 && !chineseMode {
                    errors.append("offset \(i): non-ASCII text byte while Chinese mode (FS &) is off")
                    return
                }
                startLineIfNeeded()
                run.append(byte)
                i += 1
            }
            endsWithCut = lastWasCut
        }
        if hasText { errors.append("end of stream: text not ended by LF") }
        chineseModeAtEnd = chineseMode
    }

    private var hasText: Bool { !run.isEmpty || !(pending?.text.isEmpty ?? true) }

    private static func alignment(_ n: UInt8) -> TextAlign? {
        switch n {
        case 0, 48: .left
        case 1, 49: .center
        case 2, 50: .right
        default: nil
        }
    }

    private mutating func startLineIfNeeded() {
        if pending == nil {
            pending = Line(text: "", align: align, bold: false, widthMultiplier: 1, heightMultiplier: 1, columns: 0)
        }
    }

    /// Decodes the current run of text bytes (all in one style) into the pending line.
    private mutating func flushRun() {
        guard !run.isEmpty else { return }
        startLineIfNeeded()
        let text: String
        if let decoded = GB18030.decode(run) {
            text = decoded
        } else {
            errors.append("text bytes are not valid GB18030: \(run.map { String($0, radix: 16) }.joined(separator: " "))")
            text = String(decoding: run, as: UTF8.self)
        }
        pending!.text += text
        pending!.bold = pending!.bold || bold
        pending!.widthMultiplier = max(pending!.widthMultiplier, widthMultiplier)
        pending!.heightMultiplier = max(pending!.heightMultiplier, heightMultiplier)
        pending!.columns += TextLayout.displayWidth(text) * widthMultiplier
        run = []
    }

    private mutating func finishLine() {
        flushRun()
        startLineIfNeeded()
        lines.append(pending!)
        pending = nil
    }

    /// Every raster image decoded with zbarimg, in order (the QR codes a job printed).
    public func qrCodes() throws -> [String] {
        let scratch = TemporaryDirectory("jiayuan-qr")
        defer { scratch.remove() }
        return try rasters.indices.map { i in
            let file = scratch.path + "/raster-\(i).pbm"
            try Data(pbm(i)).write(to: URL(fileURLWithPath: file))
            return try zbarDecode(file)
        }
    }
}
