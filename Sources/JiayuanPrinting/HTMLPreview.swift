// An HTML picture of a receipt, for the staff console to show before printing.

import Foundation
import JiayuanDomain
import JiayuanQR

/// Renders a document as a self-contained HTML fragment that looks like the printed receipt.
public enum HTMLPreview {
    /// A `<div class="receipt receipt-80mm">` (or `receipt-58mm`) with inline styles: one
    /// `<div class="line ...">` per printed line, broken exactly where the printer breaks them,
    /// in a monospace font at about one CSS pixel per printer dot (a 576 px or 384 px wide
    /// receipt, lines 30 px apart like the printer's default 1/6 inch spacing); titles and big
    /// text at double size; each QR code an `<img>` with a `data:image/png;base64,` PNG at
    /// 4 pixels per module. All text is HTML-escaped. A QR code that cannot be printed (too
    /// wide for the paper, or not encodable) is shown as a `qr-error` line saying why.
    ///
    /// With `inlineStyles: false` the same markup carries no `style` attributes (for pages whose
    /// Content-Security-Policy refuses them, like the staff console's, which styles the classes instead:
    /// `receipt`, `line`, `bold`, `double`, `align-left|center|right`, `qr`, `feed feed-N`).
    public static func render(_ doc: PrintDocument, paper: PaperWidth, inlineStyles: Bool = true) -> String {
        let html = styled(doc, paper: paper)
        return inlineStyles ? html : withoutStyles(html)
    }

    /// Removes every ` style="…"` (the values written here never hold a quote).
    static func withoutStyles(_ html: String) -> String {
        var out = ""
        out.reserveCapacity(html.utf8.count)
        var rest = Substring(html)
        while let start = rest.range(of: "style=\"") {
            var head = rest[..<start.lowerBound]
            if head.hasSuffix(" ") { head = head.dropLast() }
            out += head
            guard let end = rest[start.upperBound...].firstIndex(of: "\"") else { return out }
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }

    static func styled(_ doc: PrintDocument, paper: PaperWidth) -> String {
        var html = ""
        html.reserveCapacity(4096)
        html += "<div class=\"receipt receipt-\(paper.rawValue)\" data-kind=\"\(escape(doc.kind))\" "
        html += "style=\"box-sizing:content-box;width:\(paper.dots)px;padding:12px;background:#fff;color:#000;"
        html += "font-family:'Noto Sans Mono CJK SC','Sarasa Mono SC','WenQuanYi Zen Hei Mono',monospace;"
        html += "font-size:20px;line-height:30px;white-space:pre\">\n"
        for item in ReceiptLayout.items(for: doc, paper: paper) {
            switch item {
            case .line(let text, let style):
                var classes = "line \(style.role) align-\(cssAlign(style.align))"
                var css = "text-align:\(cssAlign(style.align))"
                if style.bold {
                    classes += " bold"
                    css += ";font-weight:bold"
                }
                if style.double {
                    classes += " double"
                    css += ";font-size:40px;line-height:60px;min-height:60px"
                } else {
                    css += ";min-height:30px"
                }
                html += "<div class=\"\(classes)\" style=\"\(css)\">\(escape(text))</div>\n"
            case .qr(let text):
                html += qrImage(text, paper: paper)
            case .feed(let count):
                html += "<div class=\"feed feed-\(count)\" style=\"height:\(30 * count)px\"></div>\n"
            }
        }
        html += "</div>\n"
        return html
    }

    /// The `<img>` of a QR code, or a line explaining why it cannot be printed.
    static func qrImage(_ text: String, paper: PaperWidth) -> String {
        do {
            let matrix = try ESCPOS.qrMatrix(text, paper: paper)  // the same checks as printing
            let png = matrix.png(scale: ESCPOS.qrDotsPerModule, border: ESCPOS.qrQuietZone)
            let side = (matrix.size + 2 * ESCPOS.qrQuietZone) * ESCPOS.qrDotsPerModule
            return "<div class=\"qr\" style=\"text-align:center;line-height:0;padding:4px 0\">"
                + "<img src=\"data:image/png;base64,\(Data(png).base64EncodedString())\" "
                + "width=\"\(side)\" height=\"\(side)\" alt=\"QR code\" style=\"image-rendering:pixelated\"></div>\n"
        } catch {
            return "<div class=\"line qr-error\" style=\"white-space:normal;color:#b00020;text-align:center\">"
                + "\(escape(String(describing: error)))</div>\n"
        }
    }

    static func cssAlign(_ align: TextAlign) -> String {
        switch align {
        case .left: "left"
        case .center: "center"
        case .right: "right"
        }
    }

    /// `text` with `& < > " '` replaced by character references.
    static func escape(_ text: String) -> String { HTML.escape(text) }
}
