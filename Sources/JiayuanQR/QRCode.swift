// The only Swift code that touches libqrencode (via the `CQREncode` system module).
// Everything public here is plain Swift values; no C pointers escape this file.

import CQREncode
import Foundation

/// The error-correction level of a QR symbol: how much of the symbol may be damaged
/// and still be read. Higher levels need larger symbols for the same data.
public enum QRErrorCorrection: Sendable, CaseIterable {
    /// Level L: about 7% of the codewords can be restored.
    case low
    /// Level M: about 15% of the codewords can be restored.
    case medium
    /// Level Q: about 25% of the codewords can be restored.
    case quartile
    /// Level H: about 30% of the codewords can be restored.
    case high

    /// The matching libqrencode level.
    fileprivate var cLevel: QRecLevel {
        switch self {
        case .low: QR_ECLEVEL_L
        case .medium: QR_ECLEVEL_M
        case .quartile: QR_ECLEVEL_Q
        case .high: QR_ECLEVEL_H
        }
    }
}

/// Why a text or byte string could not be turned into a QR symbol.
public struct QRCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A short, human-readable explanation, e.g. "the text is too long for a QR code".
    public var message: String

    /// Creates an error with the given explanation.
    public init(message: String) {
        self.message = message
    }

    /// The explanation, as given in `message`.
    public var description: String { message }

    /// The input was empty; a QR code needs at least one character or byte.
    public static let empty = QRCodeError(message: "the text is empty")

    /// The input does not fit in the largest QR symbol (version 40) at the requested
    /// error-correction level.
    public static let tooLong = QRCodeError(message: "the text is too long for a QR code")

    /// libqrencode rejected the input as invalid.
    public static let invalidInput = QRCodeError(message: "the text cannot be encoded as a QR code")

    /// libqrencode could not allocate memory.
    public static let outOfMemory = QRCodeError(message: "out of memory while encoding the QR code")
}

/// A QR symbol: `size` x `size` modules, row-major, true = dark.
///
/// The matrix does not include the quiet zone; `png(scale:border:)` and
/// `rasterBits(scale:border:)` add it when rendering.
public struct QRMatrix: Equatable, Sendable {
    /// The number of modules along one side (21 for version 1, 4 more per version).
    public let size: Int
    /// The QR version, 1 through 40.
    public let version: Int
    /// `size * size` modules, row by row from the top-left; `true` means dark.
    public let modules: [Bool]

    /// Creates a matrix from raw modules. `modules.count` must equal `size * size`.
    init(size: Int, version: Int, modules: [Bool]) {
        precondition(size >= 0 && modules.count == size * size, "QRMatrix: modules.count must be size * size")
        self.size = size
        self.version = version
        self.modules = modules
    }

    /// The module in column `x`, row `y` (both zero-based from the top-left); `true` = dark.
    public subscript(x: Int, y: Int) -> Bool {
        precondition(x >= 0 && x < size && y >= 0 && y < size, "QRMatrix: module (\(x), \(y)) is outside a \(size)x\(size) symbol")
        return modules[y * size + x]
    }

    /// The most input any QR symbol can carry (7089 numeric digits at version 40-L);
    /// anything longer is rejected without calling into libqrencode.
    static let maximumInputBytes = 7089

    /// Encode text. Use QRcode_encodeString with case-sensitive=1, QR_MODE_8 hint, version 0 (auto). libqrencode picks alphanumeric mode automatically for runs of A-Z0-9 $%*+-./: .
    ///
    /// The smallest version that fits is chosen. Other characters (including any
    /// non-ASCII text) are stored as their UTF-8 bytes in 8-bit mode. A text that
    /// contains a NUL character is encoded with `encode(bytes:correction:)` instead,
    /// because libqrencode's string API stops at NUL.
    ///
    /// - Throws: `QRCodeError.empty` for an empty text, `QRCodeError.tooLong` when it
    ///   does not fit in a version-40 symbol at `correction`, or another `QRCodeError`
    ///   if libqrencode fails.
    public static func encode(_ text: String, correction: QRErrorCorrection = .medium) throws -> QRMatrix {
        let utf8 = Array(text.utf8)
        if utf8.isEmpty { throw QRCodeError.empty }
        if utf8.count > maximumInputBytes { throw QRCodeError.tooLong }
        if utf8.contains(0) { return try encode(bytes: utf8, correction: correction) }
        return try LibQREncode.encode { () -> UnsafeMutablePointer<QRcode>? in
            text.withCString { cString in
                QRcode_encodeString(cString, 0, correction.cLevel, QR_MODE_8, 1)
            }
        }
    }

    /// Encode raw bytes (QRcode_encodeData) — used for non-ASCII text later.
    ///
    /// All bytes are stored in 8-bit mode, in the smallest version that fits.
    ///
    /// - Throws: `QRCodeError.empty` for no bytes, `QRCodeError.tooLong` when they do
    ///   not fit in a version-40 symbol at `correction`, or another `QRCodeError` if
    ///   libqrencode fails.
    public static func encode(bytes: [UInt8], correction: QRErrorCorrection = .medium) throws -> QRMatrix {
        if bytes.isEmpty { throw QRCodeError.empty }
        if bytes.count > maximumInputBytes { throw QRCodeError.tooLong }
        return try LibQREncode.encode { () -> UnsafeMutablePointer<QRcode>? in
            bytes.withUnsafeBufferPointer { buffer in
                QRcode_encodeData(Int32(buffer.count), buffer.baseAddress, 0, correction.cLevel)
            }
        }
    }
}

/// Serialised access to libqrencode and conversion of its results into `QRMatrix`.
private enum LibQREncode {
    /// libqrencode is thread-safe when built with pthread, but calls are serialised
    /// anyway so that the library's build options do not matter.
    static let lock = NSLock()

    /// Runs one libqrencode encode call under the lock, maps a NULL result to a
    /// `QRCodeError` using `errno`, copies the symbol out and frees it.
    static func encode(_ call: () -> UnsafeMutablePointer<QRcode>?) throws -> QRMatrix {
        lock.lock()
        defer { lock.unlock() }

        errno = 0
        guard let code = call() else {
            throw error(forErrno: errno)
        }
        defer { QRcode_free(code) }

        let width = Int(code.pointee.width)
        let version = Int(code.pointee.version)
        guard width > 0, let data = code.pointee.data else {
            throw QRCodeError(message: "libqrencode returned an empty symbol")
        }
        // Each byte describes one module; bit 0 set = dark. The other bits describe
        // what kind of module it is (finder, timing, data, ...), which we do not need.
        let buffer = UnsafeBufferPointer(start: data, count: width * width)
        let modules = buffer.map { $0 & 1 == 1 }
        return QRMatrix(size: width, version: version, modules: modules)
    }

    static func error(forErrno code: Int32) -> QRCodeError {
        switch code {
        case ERANGE: QRCodeError.tooLong
        case EINVAL: QRCodeError.invalidInput
        case ENOMEM: QRCodeError.outOfMemory
        default: QRCodeError(message: "libqrencode failed (errno \(code))")
        }
    }
}
