import Foundation
import JiayuanDomain

/// Where print jobs go: a CUPS queue, or a directory where each job becomes a file (the embedded default).
public enum PrinterTarget: Hashable, Sendable, CustomStringConvertible {
    /// `file:DIR` — each job written atomically as `NNNNNN-<kind>.escpos`.
    case file(directory: String)
    /// `cups:QUEUE` — a raw job to the CUPS queue.
    case cups(queue: String)

    /// Parses `file:DIR` (relative to `base`) or `cups:QUEUE`.
    public init(_ text: String, relativeTo base: String) throws {
        if text.hasPrefix("file:"), text.count > 5 {
            let dir = String(text.dropFirst(5))
            self = .file(directory: dir.hasPrefix("/") ? dir : base + "/" + dir)
        } else if text.hasPrefix("cups:"), text.count > 5 {
            let queue = String(text.dropFirst(5))
            guard queue.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
                throw KioskError("\"\(queue)\" is not a CUPS queue name (letters, digits, - _ .)")
            }
            self = .cups(queue: queue)
        } else {
            throw KioskError("the printer target must look like file:DIR or cups:QUEUE, not \"\(text)\"")
        }
    }

    /// The stored form (`file:` with an absolute directory).
    public var description: String {
        switch self {
        case .file(let dir): "file:" + dir
        case .cups(let queue): "cups:" + queue
        }
    }
}
