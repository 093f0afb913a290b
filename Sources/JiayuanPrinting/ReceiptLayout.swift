// The shared first stage of both renderers: a PrintDocument as wrapped lines, QR codes and feeds.

/// The style of one laid-out line.
struct LineStyle: Equatable {
    var align: TextAlign
    var bold: Bool
    /// Double width and height (GS ! 0x11).
    var double: Bool
    /// Which block produced the line, for the preview's CSS classes.
    var role: String

    static let plain = LineStyle(align: .left, bold: false, double: false, role: "text")
}

/// One printable item after layout.
enum LayoutItem {
    /// A line of text that already fits the paper (in the columns of its size).
    case line(String, LineStyle)
    /// A centred QR code of this text.
    case qr(String)
    /// `count` empty lines.
    case feed(Int)
}

/// Turns blocks into items for a paper width. All text is cleaned of control characters first,
/// so nothing from a member's name can reach the printer as a command.
enum ReceiptLayout {
    static func items(for document: PrintDocument, paper: PaperWidth) -> [LayoutItem] {
        let columns = paper.columns
        var items: [LayoutItem] = []
        items.reserveCapacity(document.blocks.count * 2)

        func add(_ lines: [String], _ style: LineStyle) {
            for line in lines { items.append(.line(line, style)) }
        }

        for block in document.blocks {
            switch block {
            case .title(let text):
                add(
                    TextLayout.balancedWrap(clean(text), columns: columns / 2),
                    LineStyle(align: .center, bold: true, double: true, role: "title"))
            case .big(let text):
                add(
                    TextLayout.balancedWrap(clean(text), columns: columns / 2),
                    LineStyle(align: .center, bold: false, double: true, role: "big"))
            case .text(let text, let align, let bold):
                add(
                    TextLayout.wrap(clean(text), columns: columns),
                    LineStyle(align: align, bold: bold, double: false, role: "text"))
            case .row(let label, let value):
                add(
                    TextLayout.row(label: clean(label), value: clean(value), columns: columns),
                    LineStyle(align: .left, bold: false, double: false, role: "row"))
            case .separator:
                add(
                    [String(repeating: "-", count: columns)],
                    LineStyle(align: .left, bold: false, double: false, role: "separator"))
            case .qr(let text, let caption):
                items.append(.qr(text))
                if let caption {
                    add(
                        TextLayout.wrap(clean(caption), columns: columns),
                        LineStyle(align: .center, bold: false, double: false, role: "caption"))
                }
            case .footer(let text):
                add(
                    TextLayout.wrap(clean(text), columns: columns),
                    LineStyle(align: .center, bold: false, double: false, role: "footer"))
            case .feed(let count):
                let count = min(max(count, 0), 255)
                if count > 0 { items.append(.feed(count)) }
            }
        }
        return items
    }

    /// `text` with tabs as spaces, every line break as `\n`, and other control characters
    /// (C0, DEL, C1) as `?`. Returns `text` itself when there is nothing to change.
    static func clean(_ text: String) -> String {
        var dirty = false
        for byte in text.utf8 where byte < 0x20 && byte != 0x0A || byte == 0x7F || byte == 0xC2 {
            dirty = true
            break
        }
        guard dirty else { return text }
        var result = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            let v = scalar.value
            defer { previousWasCR = v == 0x0D }
            switch v {
            case 0x0A:
                if !previousWasCR { result.append("\n") }
            case 0x0D, 0x0B, 0x0C, 0x85:
                result.append("\n")
            case 0x09:
                result.append(" ")
            case 0x00..<0x20, 0x7F..<0xA0:
                result.append("?")
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }
}
