// ESC/POS for 80 mm and 58 mm thermal receipt printers in Chinese (GB18030) mode.

import JiayuanQR

/// Why a document could not be encoded for a printer.
public enum ESCPOSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A QR code is wider than the paper: at 4 dots per module with a 4-module quiet zone the
    /// symbol of `modules` modules needs `dots` dots, but the paper prints only `paper.dots`.
    case qrTooWide(modules: Int, dots: Int, paper: PaperWidth)
    /// libqrencode could not make a QR code of the text (empty or too long); the message says why.
    case qrEncodingFailed(String)
    /// The C library has no GB18030 converter (iconv's gconv modules are missing).
    case gb18030Unavailable

    /// A sentence for staff and logs.
    public var description: String {
        switch self {
        case .qrTooWide(let modules, let dots, let paper):
            "the QR code is too wide for \(paper.rawValue) paper: \(modules) modules need \(dots) dots "
                + "(\(ESCPOS.qrDotsPerModule) per module and a quiet zone of \(ESCPOS.qrQuietZone)), "
                + "but \(paper.rawValue) paper prints \(paper.dots); shorten the QR text or use wider paper"
        case .qrEncodingFailed(let message):
            "the QR code could not be made: \(message)"
        case .gb18030Unavailable:
            "the C library cannot convert text to GB18030 (iconv gconv modules missing)"
        }
    }
}

/// Encodes documents as ESC/POS commands for an Epson-compatible receipt printer with a
/// GB18030 Chinese font (the usual 80 mm and 58 mm printers sold in China).
///
/// The byte stream is: `ESC @` (initialise), `FS &` (Chinese mode), then each line as GB18030
/// text ended by `LF`, with `ESC a n` for alignment, `ESC E n` for bold and `GS ! n` for double
/// size sent only when they change at the start of a line; each QR code as a centred
/// `GS v 0` raster; finally the styles reset, `ESC d 4` (feed 4 lines) and `GS V 0` (full cut).
public enum ESCPOS {
    /// Printer dots per QR module side.
    public static let qrDotsPerModule = 4
    /// Quiet zone around a QR code, in modules.
    public static let qrQuietZone = 4

    /// The ESC/POS bytes that print `doc` on `paper`.
    ///
    /// - Throws: `ESCPOSError.qrTooWide` when a QR code does not fit across the paper,
    ///   `ESCPOSError.qrEncodingFailed` when its text cannot be encoded, and
    ///   `ESCPOSError.gb18030Unavailable` when iconv has no GB18030 converter.
    public static func encode(_ doc: PrintDocument, paper: PaperWidth) throws -> [UInt8] {
        guard let converter = IconvConverter(from: "UTF-8", to: "GB18030") else {
            throw ESCPOSError.gb18030Unavailable
        }
        let items = ReceiptLayout.items(for: doc, paper: paper)
        var out: [UInt8] = []
        out.reserveCapacity(1024 + 64 * items.count)
        out += [0x1B, 0x40]  // ESC @: initialise
        out += [0x1C, 0x26]  // FS &: Chinese character mode on

        var align = TextAlign.left
        var bold = false
        var double = false

        func setAlign(_ wanted: TextAlign) {
            guard wanted != align else { return }
            let n: UInt8 =
                switch wanted {
                case .left: 0
                case .center: 1
                case .right: 2
                }
            out += [0x1B, 0x61, n]  // ESC a n; effective at the start of a line only
            align = wanted
        }
        func setBold(_ wanted: Bool) {
            guard wanted != bold else { return }
            out += [0x1B, 0x45, wanted ? 1 : 0]  // ESC E n
            bold = wanted
        }
        func setDouble(_ wanted: Bool) {
            guard wanted != double else { return }
            out += [0x1D, 0x21, wanted ? 0x11 : 0x00]  // GS ! n: width and height x2 / x1
            double = wanted
        }

        for item in items {
            switch item {
            case .line(let text, let style):
                setAlign(style.align)
                setBold(style.bold)
                setDouble(style.double)
                converter.appendGB18030(text, to: &out)
                out.append(0x0A)
            case .qr(let text):
                let raster = try qrMatrix(text, paper: paper).rasterBits(scale: qrDotsPerModule, border: qrQuietZone)
                setAlign(.center)
                out += [
                    0x1D, 0x76, 0x30, 0x00,  // GS v 0, normal density
                    UInt8(raster.widthBytes & 0xFF), UInt8(raster.widthBytes >> 8),
                    UInt8(raster.height & 0xFF), UInt8(raster.height >> 8),
                ]
                out += raster.data
            case .feed(let count):
                out.append(contentsOf: repeatElement(0x0A, count: count))
            }
        }

        setDouble(false)
        setBold(false)
        setAlign(.left)
        out += [0x1B, 0x64, 4]  // ESC d 4: feed the last lines past the cutter
        out += [0x1D, 0x56, 0x00]  // GS V 0: full cut
        return out
    }

    /// The QR code for `text`, checked against the paper width.
    static func qrMatrix(_ text: String, paper: PaperWidth) throws -> QRMatrix {
        let matrix: QRMatrix
        do {
            matrix = try QRMatrix.encode(text)
        } catch let error as QRCodeError {
            throw ESCPOSError.qrEncodingFailed(error.message)
        } catch {
            throw ESCPOSError.qrEncodingFailed(String(describing: error))
        }
        let dots = (matrix.size + 2 * qrQuietZone) * qrDotsPerModule
        guard dots <= paper.dots else {
            throw ESCPOSError.qrTooWide(modules: matrix.size, dots: dots, paper: paper)
        }
        return matrix
    }
}
