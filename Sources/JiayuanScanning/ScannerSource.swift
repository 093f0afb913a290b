/// Where a barcode scanner's input comes from, as written in `jiayuan.toml` (`source = "…"`).
///
/// The text forms are `evdev:/dev/input/by-id/…-event-kbd`, `serial:/dev/ttyACM0` or
/// `serial:/dev/ttyUSB0@115200`, `stdin` and `fifo:/run/jiayuan/scan`. ``description`` writes a source back
/// in that form (a serial source always with its `@baud`), so `ScannerSource(parsing: s.description) == s`.
public enum ScannerSource: Hashable, Sendable {
    /// A USB scanner in keyboard mode, read from its Linux input device and grabbed exclusively.
    case evdev(path: String)
    /// A scanner on a serial line (USB CDC-ACM or a USB-serial adapter), 8N1 at `baud`.
    case serial(path: String, baud: Int)
    /// Lines on the process's standard input (tests, development, a pipe from another program).
    case stdin
    /// Lines written into a named pipe by other programs (the demo, tests, a scanner bridge).
    case fifo(path: String)

    /// The baud rates a serial source may use.
    public static let supportedBaudRates: [Int] = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600]

    /// The text forms, for error messages.
    static let forms = "evdev:/dev/input/by-id/…-event-kbd, serial:/dev/ttyACM0 (or serial:/dev/ttyUSB0@115200), stdin or fifo:PATH"

    /// Reads a source from its configuration text.
    ///
    /// - Parameters:
    ///   - text: the configured source; surrounding white space is ignored and the kind (`evdev`, `serial`,
    ///     `stdin`, `fifo`) may be in any case. Paths are kept as written: a relative FIFO path is resolved by the
    ///     caller (see ``resolved(relativeTo:)``).
    ///   - baud: the speed of a serial source that does not name one with `@BAUD`.
    /// - Throws: ``ScannerSourceError`` with a sentence saying what is wrong and what is accepted.
    public init(parsing text: String, baud: Int = 9600) throws {
        let spec = text.trimmingSpaces()
        if spec.isEmpty {
            throw ScannerSourceError("the scanner source is empty; use \(Self.forms)")
        }
        guard let colon = spec.firstIndex(of: ":") else {
            if spec.lowercased() == "stdin" {
                self = .stdin
                return
            }
            throw ScannerSourceError("unknown scanner source \"\(spec)\"; use \(Self.forms)")
        }
        let kind = spec[..<colon].lowercased()
        let rest = String(spec[spec.index(after: colon)...])
        switch kind {
        case "stdin":
            throw ScannerSourceError("\"\(spec)\": stdin takes no path; write just stdin")
        case "evdev":
            guard !rest.isEmpty else {
                throw ScannerSourceError("\"\(spec)\": evdev needs the input device, e.g. evdev:/dev/input/by-id/usb-…-event-kbd")
            }
            self = .evdev(path: rest)
        case "fifo":
            guard !rest.isEmpty else {
                throw ScannerSourceError("\"\(spec)\": fifo needs the path of the named pipe, e.g. fifo:/run/jiayuan/scan")
            }
            self = .fifo(path: rest)
        case "serial":
            var path = rest
            var speed = baud
            if let at = rest.lastIndex(of: "@") {
                path = String(rest[..<at])
                let digits = rest[rest.index(after: at)...]
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(digits) else {
                    throw ScannerSourceError("\"\(spec)\": the baud rate after @ must be a number, e.g. serial:/dev/ttyUSB0@115200")
                }
                speed = value
            }
            guard !path.isEmpty else {
                throw ScannerSourceError("\"\(spec)\": serial needs the device, e.g. serial:/dev/ttyACM0")
            }
            guard Self.supportedBaudRates.contains(speed) else {
                let rates = Self.supportedBaudRates.map(String.init).joined(separator: ", ")
                throw ScannerSourceError("\"\(spec)\": unsupported baud rate \(speed); use one of \(rates)")
            }
            self = .serial(path: path, baud: speed)
        default:
            throw ScannerSourceError("unknown scanner source \"\(spec)\"; use \(Self.forms)")
        }
    }

    /// The device or pipe path, or nil for ``stdin``.
    public var path: String? {
        switch self {
        case .evdev(let path), .serial(let path, _), .fifo(let path): path
        case .stdin: nil
        }
    }

    /// The same source with a relative path made absolute against `directory` (for example the data
    /// directory, so that the demo's `fifo:scan.fifo` lands beside `jiayuan.sqlite`). Absolute paths and
    /// ``stdin`` are returned unchanged.
    public func resolved(relativeTo directory: String) -> ScannerSource {
        func absolute(_ path: String) -> String {
            if path.hasPrefix("/") { return path }
            return directory.hasSuffix("/") ? directory + path : directory + "/" + path
        }
        switch self {
        case .evdev(let path): return .evdev(path: absolute(path))
        case .serial(let path, let baud): return .serial(path: absolute(path), baud: baud)
        case .fifo(let path): return .fifo(path: absolute(path))
        case .stdin: return .stdin
        }
    }
}

extension ScannerSource: CustomStringConvertible {
    /// The configuration text of this source: `evdev:PATH`, `serial:PATH@BAUD`, `stdin` or `fifo:PATH`.
    public var description: String {
        switch self {
        case .evdev(let path): "evdev:\(path)"
        case .serial(let path, let baud): "serial:\(path)@\(baud)"
        case .stdin: "stdin"
        case .fifo(let path): "fifo:\(path)"
        }
    }
}

/// A scanner source that could not be read from the configuration; ``message`` says why in plain words.
public struct ScannerSourceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// One sentence: what was written, what is wrong, and what would be accepted.
    public let message: String

    /// Creates an error with its message.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

extension String {
    /// The text without leading and trailing spaces, tabs and line ends (no Foundation needed).
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
