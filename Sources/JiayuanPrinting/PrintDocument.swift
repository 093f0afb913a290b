// The printable document model shared by the ESC/POS encoder and the HTML preview.

/// The paper roll a receipt printer takes, which fixes the printable width.
public enum PaperWidth: String, Sendable, CaseIterable {
    /// 80 mm paper: 576 dots (72 mm at 203 dpi), 48 columns of Font A.
    case mm80 = "80mm"
    /// 58 mm paper: 384 dots (48 mm at 203 dpi), 32 columns of Font A.
    case mm58 = "58mm"

    /// The printable width in dots (203 dpi): 576 for 80 mm, 384 for 58 mm.
    public var dots: Int {
        switch self {
        case .mm80: 576
        case .mm58: 384
        }
    }

    /// The number of single-width text columns (Font A, 12 x 24 dots): 48 for 80 mm, 32 for 58 mm.
    /// A CJK or full-width character takes two columns (see `TextLayout.displayWidth(_:)`).
    public var columns: Int {
        switch self {
        case .mm80: 48
        case .mm58: 32
        }
    }
}

/// Horizontal alignment of a line of text.
public enum TextAlign: Sendable {
    /// Flush with the left margin.
    case left
    /// Centred between the margins.
    case center
    /// Flush with the right margin.
    case right
}

/// One element of a printed document, laid out top to bottom.
public enum PrintBlock: Hashable, Sendable {
    /// A heading: centred, bold, double width and height, wrapped to half the columns.
    case title(String)
    /// A large centred value such as a queue number or a pickup code: double width and height.
    case big(String)
    /// A paragraph, wrapped to the paper width (explicit newlines are kept).
    case text(String, align: TextAlign = .left, bold: Bool = false)
    /// A label on the left and its value right-aligned on the same line; a value too long for
    /// the line continues, right-aligned, on the following lines.
    case row(label: String, value: String)
    /// A line of `-` across the full width.
    case separator
    /// A centred QR code (4 dots per module, quiet zone of 4 modules) with an optional
    /// centred caption line underneath.
    case qr(String, caption: String?)
    /// A centred closing line in plain (not bold, not enlarged) text.
    case footer(String)
    /// `n` empty lines (clamped to 0...255).
    case feed(Int)
}

/// A document ready to be encoded for a printer or rendered as a preview.
public struct PrintDocument: Hashable, Sendable {
    /// What the document is, e.g. `"checkin"` or `"daycare-receipt"`; used for job names and file names.
    public var kind: String
    /// The content, top to bottom.
    public var blocks: [PrintBlock]

    /// Creates a document of the given kind from its blocks.
    public init(kind: String, blocks: [PrintBlock]) {
        self.kind = kind
        self.blocks = blocks
    }
}
