import Foundation
import JiayuanPrinting
import JiayuanQR
import JiayuanTestSupport
import Testing

@Suite("Printing: layout, GB18030, ESC/POS and the HTML preview", .blocking)
struct ESCPOSTests {
    // MARK: - Fixtures

    /// A card-style payload: "JY1:" + 122 upper-case base32 characters (A-Z, 2-7) = 126 chars.
    static let qrText = Fixtures.cardLikeText

    static let title = "老年人日间照料中心"

    static let paragraph =
        "温馨提示：本收据为日间照料服务的缴费凭证，请妥善保管。Please keep this receipt as proof of payment; "
        + "如需发票，请于三十日内到前台办理 (invoices are issued at the front desk within 30 days)。"

    static let rows: [(String, String)] = [
        ("收据号 No.", "DC-20261128-0042"),
        ("姓名 Name", "王*英"),
        ("入场 In", "08:00"),
        ("离场 Out", "17:30"),
        ("时长 Stay", "全天 Full day"),
        ("午餐 Lunch", "1 份 12.00 元"),
        ("金额 Amount", "26.00 元"),
        ("状态 Status", "已付 Paid"),
    ]

    /// A full day-care fee receipt with its QR code.
    static let receipt = PrintDocument(
        kind: "daycare-receipt",
        blocks: [.title(title), .text("嘉园社区 Jiayuan Community", align: .center), .separator]
            + rows.map { PrintBlock.row(label: $0.0, value: $0.1) }
            + [
                .separator, .text(paragraph), .feed(1),
                .qr(qrText, caption: "扫码查询 Scan to check"),
                .footer("谢谢光临 Thank you"),
            ])

    /// 602 bytes of lower-case ASCII (8-bit mode): a QR code of about 100 modules (over 400 dots),
    /// too wide for 58 mm but not for 80 mm. (ASCII because zbarimg re-encodes non-ASCII 8-bit
    /// QR data it guesses to be Shift-JIS unless given -Sbinary.)
    static let longQRText = String(repeating: "jiayuan-kiosk/", count: 43)

    /// Decodes a PBM raster with zbarimg; fails (not skips) when zbarimg is missing.
    static func zbarDecode(_ pbm: [UInt8]) throws -> String {
        try JiayuanTestSupport.zbarDecode(image: pbm, suffix: "pbm")
    }

    /// Whether `lines` contains `expected` as consecutive elements.
    static func contains(_ lines: [String], run expected: [String]) -> Bool {
        guard !expected.isEmpty, lines.count >= expected.count else { return expected.isEmpty }
        return (0...(lines.count - expected.count)).contains { Array(lines[$0..<($0 + expected.count)]) == expected }
    }

    // MARK: - The receipt, on both paper widths

    @Test("every printed line fits the paper width", arguments: PaperWidth.allCases)
    func linesFit(paper: PaperWidth) throws {
        let inspector = ESCPOSInspector(try ESCPOS.encode(Self.receipt, paper: paper))
        #expect(inspector.errors == [])
        #expect(inspector.lines.count > 15)
        for line in inspector.lines {
            #expect(TextLayout.displayWidth(line.text) <= paper.columns, "\(line.text)")
            #expect(line.columns <= paper.columns, "\(line.text) takes \(line.columns) columns at x\(line.widthMultiplier)")
        }
        let title = try #require(inspector.lines.first)
        #expect(title.bold && title.widthMultiplier == 2 && title.heightMultiplier == 2 && title.align == .center)
    }

    @Test("the GB18030 text decodes to the expected Chinese lines", arguments: PaperWidth.allCases)
    func chineseLines(paper: PaperWidth) throws {
        let lines = ESCPOSInspector(try ESCPOS.encode(Self.receipt, paper: paper)).textLines
        switch paper {
        case .mm80: #expect(lines.contains(Self.title))
        case .mm58: #expect(Self.contains(lines, run: ["老年人日间", "照料中心"]), "\(lines)")
        }
        #expect(lines.contains("嘉园社区 Jiayuan Community"))
        let pad = String(repeating: " ", count: paper.columns - 7 - 5)
        #expect(lines.contains("入场 In" + pad + "08:00"))
        #expect(lines.contains("金额 Amount" + String(repeating: " ", count: paper.columns - 11 - 8) + "26.00 元"))
        #expect(lines.contains(String(repeating: "-", count: paper.columns)))
        #expect(lines.contains("扫码查询 Scan to check"))
        #expect(lines.contains("谢谢光临 Thank you"))
        for (label, value) in Self.rows {
            #expect(lines.contains { $0.hasPrefix(label) && $0.hasSuffix(value) }, "row \(label)")
        }
        // The paragraph is printed as TextLayout wraps it, and nothing of it is lost.
        let wrapped = TextLayout.wrap(Self.paragraph, columns: paper.columns)
        #expect(wrapped.count > 2)
        #expect(Self.contains(lines, run: wrapped))
        #expect(wrapped.joined().filter { $0 != " " } == Self.paragraph.filter { $0 != " " })
        for line in wrapped {
            #expect(!line.hasPrefix(" ") && !line.hasSuffix(" ") && !line.hasPrefix("，") && !line.hasPrefix("。"), "\(line)")
        }
    }

    @Test("the QR raster decodes with zbarimg to the exact card text", arguments: PaperWidth.allCases)
    func qrDecodes(paper: PaperWidth) throws {
        let inspector = ESCPOSInspector(try ESCPOS.encode(Self.receipt, paper: paper))
        #expect(inspector.errors == [])
        try #require(inspector.rasters.count == 1)
        let raster = inspector.rasters[0]
        #expect(raster.widthBytes * 8 <= paper.dots)
        #expect(raster.data.count == raster.widthBytes * raster.height)
        #expect(inspector.rasterAlignments == [.center])
        let matrix = try QRMatrix.encode(Self.qrText)
        #expect(raster.height == (matrix.size + 8) * 4)
        #expect(try Self.zbarDecode(inspector.pbm(0)) == Self.qrText)
    }

    @Test("the job starts with ESC @ and Chinese mode, and ends with a feed and a cut", arguments: PaperWidth.allCases)
    func initAndCut(paper: PaperWidth) throws {
        let bytes = try ESCPOS.encode(Self.receipt, paper: paper)
        #expect(Array(bytes.prefix(4)) == [0x1B, 0x40, 0x1C, 0x26])
        #expect(Array(bytes.suffix(6)) == [0x1B, 0x64, 4, 0x1D, 0x56, 0x00])
        let inspector = ESCPOSInspector(bytes)
        #expect(inspector.startsWithInit)
        #expect(inspector.initCount == 1)
        #expect(inspector.hasCut)
        #expect(inspector.endsWithCut)
        #expect(inspector.chineseModeAtEnd)
        #expect(Array(inspector.textLines.suffix(4)) == ["", "", "", ""])
    }

    // MARK: - Text

    @Test("GB18030 round-trips names, full-width signs and a four-byte character")
    func gb18030RoundTrip() throws {
        let text = "王秀英 ￥ 〇 𠀀"
        let bytes = GB18030.encode(text)
        #expect(
            bytes == [0xCD, 0xF5, 0xD0, 0xE3, 0xD3, 0xA2, 0x20, 0xA3, 0xA4, 0x20, 0xA9, 0x96, 0x20, 0x95, 0x32, 0x82, 0x36])
        #expect(GB18030.decode(bytes) == text)
        #expect(GB18030.encode("JY1:ABC") == Array("JY1:ABC".utf8))
        #expect(GB18030.decode([0x81]) == nil)  // a truncated two-byte character
        #expect(GB18030.decode([0xFF, 0x41]) == nil)
        #expect(GB18030.isAvailable)
    }

    @Test("display width counts CJK, full-width and East Asian ambiguous characters as two columns")
    func displayWidths() {
        #expect(TextLayout.displayWidth("Amount 26.00") == 12)
        #expect(TextLayout.displayWidth("老年人") == 6)
        #expect(TextLayout.displayWidth("入场 In") == 7)
        #expect(TextLayout.displayWidth("￥，（）") == 8)
        #expect(TextLayout.displayWidth("买买提·艾力") == 12)
        #expect(TextLayout.displayWidth("e\u{301}") == 1)
        #expect(TextLayout.displayWidth("𠀀") == 2)
        #expect(TextLayout.displayWidth("\u{200B}") == 0)
    }

    @Test("wrapping mixed CJK and Latin text breaks at spaces and between CJK characters")
    func wrapping() {
        #expect(TextLayout.wrap("老年人日间照料中心欢迎您", columns: 10) == ["老年人日间", "照料中心欢", "迎您"])
        #expect(TextLayout.wrap("请出示 QR code 扫码入场", columns: 10) == ["请出示 QR", "code 扫码", "入场"])
        #expect(TextLayout.wrap("Please keep this receipt", columns: 10) == ["Please", "keep this", "receipt"])
        #expect(TextLayout.wrap("ABCDEFGHIJKLMNOP", columns: 6) == ["ABCDEF", "GHIJKL", "MNOP"])
        #expect(TextLayout.wrap("第一行\n\nsecond line", columns: 20) == ["第一行", "", "second line"])
        #expect(TextLayout.wrap("你好，世界", columns: 4) == ["你", "好，", "世界"])  // no line starts with "，"
        #expect(TextLayout.wrap("", columns: 10) == [""])
        #expect(TextLayout.wrap("   ", columns: 10) == [""])
        #expect(TextLayout.wrap("      indented", columns: 4) == ["inde", "nted"])
        #expect(TextLayout.wrap("  indented", columns: 20) == ["  indented"])
        // Characters are never split: combining sequences, flags and emoji ZWJ sequences stay whole.
        let decomposed = "e\u{301}e\u{301}e\u{301}"
        #expect(TextLayout.wrap(decomposed, columns: 2) == ["e\u{301}e\u{301}", "e\u{301}"])
        #expect(TextLayout.wrap("🇨🇳🇨🇳", columns: 2) == ["🇨🇳", "🇨🇳"])
        let family = "👨‍👩‍👧"
        #expect(TextLayout.wrap(family + family, columns: 6) == [family, family])
        for columns in 2...20 {
            for line in TextLayout.wrap(Self.paragraph, columns: columns) {
                #expect(TextLayout.displayWidth(line) <= columns)
            }
        }
    }

    @Test("wrapping random texts keeps every character, in order, and never exceeds the width")
    func wrappingRandomTexts() {
        let pieces = [
            "老", "年", "人", "，", "。", "（", "）", "“", "”", "·", "—", "￥", "𠀀", "a", "b", "Z", "1", ".", ",", "(", ")",
            " ", " ", " ", "e\u{301}", "👨‍👩‍👧", "🇨🇳", "\n", "word", "receipt", "é", "ア", "ﾞ", "\u{200B}",
        ]
        var state: UInt32 = 0x9E37_79B9
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return Int(state % UInt32(pieces.count))
        }
        for round in 0..<400 {
            var text = ""
            for _ in 0..<(round % 60) { text += pieces[next()] }
            for columns in [2, 3, 7, 16, 32] {
                let lines = TextLayout.wrap(text, columns: columns)
                #expect(lines.count >= text.filter(\.isNewline).count + 1)
                for line in lines {
                    // Only a single character wider than the line (the 6-column family emoji) may overflow.
                    #expect(
                        TextLayout.displayWidth(line) <= columns || line.count == 1,
                        "\(text.debugDescription) at \(columns): \(line.debugDescription)")
                    #expect(!line.contains { $0.isNewline })
                }
                // Only spaces may be dropped, and characters are never split.
                let kept = lines.joined().filter { $0 != " " }
                let original = text.filter { $0 != " " && !$0.isNewline }
                #expect(Array(kept) == Array(original), "\(text.debugDescription) at \(columns)")
            }
        }
    }

    @Test("row() puts the value flush right and wraps a long value under itself")
    func rows() {
        #expect(
            TextLayout.row(label: "金额 Amount", value: "26.00 元", columns: 32)
                == ["金额 Amount" + String(repeating: " ", count: 13) + "26.00 元"])
        #expect(TextLayout.row(label: "入场 In", value: "08:00", columns: 48) == ["入场 In" + String(repeating: " ", count: 36) + "08:00"])

        let address = "朝阳区望京街道花园小区3号楼2单元501室"
        let lines = TextLayout.row(label: "地址 Address", value: address, columns: 32)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("地址 Address "))
        #expect(lines.allSatisfy { TextLayout.displayWidth($0) == 32 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("             ") })
        #expect(lines.map { $0.replacingOccurrences(of: "地址 Address", with: "") }.joined().filter { $0 != " " } == address)

        let longLabel = String(repeating: "长", count: 20)
        #expect(
            TextLayout.row(label: longLabel, value: "1.00 元", columns: 32)
                == [String(repeating: "长", count: 16), "长长长长" + String(repeating: " ", count: 17) + "1.00 元"])
        #expect(TextLayout.row(label: "备注 Note", value: "", columns: 32) == ["备注 Note"])
    }

    @Test("control characters in member data are printed as text, never as printer commands")
    func controlCharactersAreNeutralised() throws {
        let doc = PrintDocument(kind: "test", blocks: [.row(label: "姓名\u{1B}@", value: "王\u{1D}V\u{0}"), .text("a\tb\r\nc")])
        let bytes = try ESCPOS.encode(doc, paper: .mm58)
        let inspector = ESCPOSInspector(bytes)
        #expect(inspector.errors == [])
        #expect(inspector.initCount == 1)
        #expect(inspector.textLines.contains { $0.hasPrefix("姓名?@") && $0.hasSuffix("王?V?") })
        #expect(Self.contains(inspector.textLines, run: ["a b", "c"]))
        #expect(bytes.filter { $0 == 0x1D }.count == 1)  // only the cut
    }

    // MARK: - Errors and the inspector

    @Test("a QR code too big for 58 mm paper throws a clear error, and fits on 80 mm")
    func qrTooWide() throws {
        let text = Self.longQRText
        let doc = PrintDocument(kind: "test", blocks: [.qr(text, caption: nil)])
        #expect(throws: ESCPOSError.self) { _ = try ESCPOS.encode(doc, paper: .mm58) }
        do {
            _ = try ESCPOS.encode(doc, paper: .mm58)
        } catch let error as ESCPOSError {
            guard case .qrTooWide(_, let dots, .mm58) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(dots > 384)
            #expect(error.description.contains("58mm"))
        }
        let wide = ESCPOSInspector(try ESCPOS.encode(doc, paper: .mm80))
        #expect(wide.errors == [])
        #expect(try Self.zbarDecode(wide.pbm(0)) == text)
        #expect(throws: ESCPOSError.qrEncodingFailed(QRCodeError.empty.message)) {
            _ = try ESCPOS.encode(PrintDocument(kind: "test", blocks: [.qr("", caption: nil)]), paper: .mm80)
        }
    }

    @Test("the inspector reports unknown commands and misplaced ones instead of skipping them")
    func inspectorIsStrict() {
        let unknown = ESCPOSInspector([0x1B, 0x40, 0x41, 0x0A, 0x1B, 0x74, 0x00, 0x42, 0x0A])
        #expect(!unknown.isValid)
        #expect(unknown.textLines == ["A"])
        #expect(!ESCPOSInspector([0x1B, 0x40, 0x41, 0x1B, 0x61, 0x01, 0x0A]).isValid)  // ESC a mid-line
        #expect(!ESCPOSInspector([0x1B, 0x40, 0xCD, 0xF5, 0x0A]).isValid)  // GB18030 without FS &
        #expect(!ESCPOSInspector([0x1B, 0x40, 0x1C, 0x26, 0xCD, 0x0A]).isValid)  // truncated character
        #expect(!ESCPOSInspector([0x1B, 0x40, 0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x02, 0x00, 0xFF]).isValid)  // short raster
        let noCut = ESCPOSInspector([0x1B, 0x40, 0x41, 0x0A])
        #expect(noCut.isValid && !noCut.hasCut && noCut.startsWithInit)
        #expect(!ESCPOSInspector([0x41, 0x0A]).startsWithInit)
    }

    // MARK: - HTML preview

    @Test("the HTML preview escapes text and embeds the QR code as a PNG")
    func htmlPreview() throws {
        let doc = PrintDocument(
            kind: "checkin\"><b>",
            blocks: [
                .title("欢迎 <b>"), .row(label: "姓名 Name", value: "<script>alert(1)</script>"),
                .text("Tom & \"Jerry\" <img src=x>"),
                .qr(Self.qrText, caption: "<i>caption</i>"),
            ])
        let html = HTMLPreview.render(doc, paper: .mm80)
        #expect(html.hasPrefix("<div class=\"receipt receipt-80mm\""))
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<img src=x>"))
        #expect(!html.contains("<i>") && !html.contains("<b>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("Tom &amp; &quot;Jerry&quot; &lt;img src=x&gt;"))
        #expect(html.contains("data-kind=\"checkin&quot;&gt;&lt;b&gt;\""))
        #expect(html.contains("class=\"line title align-center bold double\""))
        let bare = HTMLPreview.render(doc, paper: .mm80, inlineStyles: false)
        #expect(
            !bare.contains("style=") && bare.contains("class=\"line title align-center bold double\"")
                && bare.contains(">欢迎 &lt;b&gt;</div>"))
        #expect(html.contains(">欢迎 &lt;b&gt;</div>"))

        let marker = "data:image/png;base64,"
        let start = try #require(html.range(of: marker)).upperBound
        let base64 = html[start...].prefix { $0 != "\"" }
        let png = try #require(Data(base64Encoded: String(base64)))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(HTMLPreview.render(doc, paper: .mm58).hasPrefix("<div class=\"receipt receipt-58mm\""))

        let tooWide = PrintDocument(kind: "t", blocks: [.qr(Self.longQRText, caption: nil)])
        let tooWideHTML = HTMLPreview.render(tooWide, paper: .mm58)
        #expect(tooWideHTML.contains("qr-error") && !tooWideHTML.contains("data:image"))
    }
}
