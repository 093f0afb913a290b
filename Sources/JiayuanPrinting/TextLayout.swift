// Column arithmetic for fixed-pitch receipt printers: display width, wrapping and label/value rows.

/// Width-aware text layout for a receipt printer whose columns are one Font A cell (12 x 24 dots).
///
/// A character's width follows Unicode's East Asian Width property (UAX #11) in an East Asian
/// context, which is how a printer in Chinese (GB18030) mode prints it:
/// - 2 columns: Wide and Fullwidth characters (CJK ideographs, kana, hangul, full-width forms
///   such as `￥` and `，`, most emoji) and Ambiguous ones, which GB2312/GBK printers print from
///   the 24 x 24 Chinese font (`·` as in `买买提·艾力`, `—`, `“”`, `①`, `℃`, `é`, Greek, Cyrillic);
/// - 0 columns: combining marks, zero-width format characters, variation selectors, control
///   characters and conjoining hangul vowels and finals;
/// - 1 column: everything else (ASCII, most Latin).
public enum TextLayout {
    /// The number of columns `text` occupies: the sum of the widths of its Unicode scalars.
    ///
    /// For example `displayWidth("入场 In") == 7` and `displayWidth("26.00 元") == 8`.
    public static func displayWidth(_ text: some StringProtocol) -> Int {
        var total = 0
        for scalar in text.unicodeScalars {
            total += width(of: scalar)
        }
        return total
    }

    /// The number of columns one Unicode scalar occupies: 0, 1 or 2 (see the type's description).
    public static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 ? 1 : 0 }
        if v < 0xA0 { return 0 }  // DEL and C1 controls
        if v >= 0x4E00 && v <= 0x9FFF { return 2 }  // CJK Unified Ideographs, the common case
        if v >= 0x1160 && v <= 0x11FF || v >= 0xD7B0 && v <= 0xD7FF { return 0 }  // hangul V and T jamo
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return 0
        default: break
        }
        return isEastAsianWide(v) ? 2 : 1
    }

    /// The number of columns one character (grapheme cluster) occupies.
    static func width(of character: Character) -> Int {
        if let ascii = character.asciiValue { return ascii >= 0x20 && ascii < 0x7F ? 1 : 0 }
        var total = 0
        for scalar in character.unicodeScalars {
            total += width(of: scalar)
        }
        return total
    }

    /// Whether `v` (not ASCII) is East Asian Wide, Fullwidth or Ambiguous.
    static func isEastAsianWide(_ v: UInt32) -> Bool {
        // Binary search for the last range whose lower bound is <= v.
        var low = 0
        var high = wideRanges.count / 2
        while low < high {
            let mid = (low + high) / 2
            if wideRanges[mid * 2] <= v { low = mid + 1 } else { high = mid }
        }
        return low > 0 && v <= wideRanges[(low - 1) * 2 + 1]
    }

    /// Splits `text` into lines of at most `columns` columns.
    ///
    /// - Explicit newlines (`\n`, `\r\n` and the other Unicode line breaks) are kept, so
    ///   `"a\n\nb"` gives `["a", "", "b"]`.
    /// - Latin text breaks at spaces; the spaces at a break are dropped, and wrapped lines do
    ///   not start or end with a space. Spaces at the start of a paragraph are kept.
    /// - A line may break between two characters when either is wide (CJK), except before
    ///   closing punctuation such as `，。）》！？` or after opening punctuation such as `（《“`.
    /// - A word longer than a whole line is broken where the line is full.
    /// - A character (grapheme cluster) is never split. Only a single character wider than
    ///   `columns` (a CJK character when `columns` is 1, or a long emoji ZWJ sequence, which
    ///   counts the width of each of its emoji) makes a line longer than `columns`.
    public static func wrap(_ text: String, columns: Int) -> [String] {
        let columns = max(columns, 1)
        if fitsOnOneLine(text, columns: columns) { return [text] }
        var lines: [String] = []
        for paragraph in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            wrapParagraph(paragraph, columns: columns, into: &lines)
        }
        return lines
    }

    /// Wraps `text` into the same number of lines as `wrap(_:columns:)` does, but with the
    /// lines as even as possible, e.g. a title of 9 CJK characters on 8 columns becomes
    /// 5 + 4 characters rather than 8 + 1.
    public static func balancedWrap(_ text: String, columns: Int) -> [String] {
        let greedy = wrap(text, columns: columns)
        guard greedy.count > 1, !text.contains(where: \.isNewline) else { return greedy }
        // The narrowest width that still needs no more lines than the greedy wrap.
        var low = 1
        var high = max(columns, 1)
        var best = greedy
        while low < high {
            let mid = (low + high) / 2
            let candidate = wrap(text, columns: mid)
            if candidate.count <= greedy.count && candidate.allSatisfy({ displayWidth($0) <= mid }) {
                best = candidate
                high = mid
            } else {
                low = mid + 1
            }
        }
        return best
    }

    /// Lays out a label and its value in `columns` columns: the label on the left, the value
    /// right-aligned, so that every line holding (part of) the value ends exactly at `columns`.
    ///
    /// When the value does not fit beside the label it is wrapped (into lines as even as
    /// possible, see `balancedWrap(_:columns:)`): if at least half the line is left beside the
    /// (last line of the) label, the value is wrapped to that space and each of its lines is
    /// right-aligned under the first; otherwise the label takes its own line(s) and the value
    /// follows, wrapped to the full width and right-aligned. At least one space separates label
    /// and value. An empty value leaves just the label (wrapped); an empty label, just the value.
    public static func row(label: String, value valueText: String, columns: Int) -> [String] {
        let columns = max(columns, 1)
        let labelLines = label.isEmpty ? [] : wrap(label, columns: columns)
        if valueText.isEmpty { return labelLines.isEmpty ? [""] : labelLines }
        guard let lastLabel = labelLines.last else {
            return wrap(valueText, columns: columns).map { rightAligned($0, columns: columns) }
        }
        let lastLabelWidth = displayWidth(lastLabel)
        let room = columns - lastLabelWidth - 1
        var lines = Array(labelLines.dropLast())
        if room >= 1 && !valueText.contains(where: \.isNewline) && displayWidth(valueText) <= room {
            lines.append(lastLabel + padding(columns - lastLabelWidth - displayWidth(valueText)) + valueText)
            return lines
        }
        if room >= columns / 2 {
            let valueLines = balancedWrap(valueText, columns: room)
            let first = valueLines[0]
            lines.append(lastLabel + padding(columns - lastLabelWidth - displayWidth(first)) + first)
            for more in valueLines.dropFirst() {
                lines.append(rightAligned(more, columns: columns))
            }
            return lines
        }
        lines.append(lastLabel)
        for more in balancedWrap(valueText, columns: columns) {
            lines.append(rightAligned(more, columns: columns))
        }
        return lines
    }

    // MARK: - Internals

    static func padding(_ count: Int) -> String {
        count > 0 ? String(repeating: " ", count: count) : ""
    }

    static func rightAligned(_ line: String, columns: Int) -> String {
        padding(columns - displayWidth(line)) + line
    }

    /// Whether `text` has no line break, does not end with a space and fits in `columns`, so
    /// that wrapping leaves it as it is.
    static func fitsOnOneLine(_ text: String, columns: Int) -> Bool {
        var total = 0
        var last: Unicode.Scalar = "x"
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return false
            default: break
            }
            total += width(of: scalar)
            if total > columns { return false }
            last = scalar
        }
        return last != " "
    }

    /// One character (grapheme cluster) of a paragraph being wrapped.
    struct Unit {
        /// Where the character starts in the paragraph.
        var start: String.Index
        var width: Int
        var first: Unicode.Scalar
        var last: Unicode.Scalar
        /// Exactly U+0020 (a space followed by a combining mark is not a space).
        var isSpace: Bool
    }

    /// The characters of `paragraph`. When every scalar is one that never joins a neighbour into
    /// a grapheme cluster (ASCII, Latin, CJK, kana, full-width forms, common symbols: the usual
    /// receipt text) the scalars are the characters, found without grapheme breaking.
    static func units(of paragraph: Substring) -> [Unit] {
        var units: [Unit] = []
        units.reserveCapacity(paragraph.utf8.count)
        let scalars = paragraph.unicodeScalars
        if scalars.allSatisfy(isStandalone) {
            var index = scalars.startIndex
            while index < scalars.endIndex {
                let scalar = scalars[index]
                units.append(Unit(start: index, width: width(of: scalar), first: scalar, last: scalar, isSpace: scalar == " "))
                index = scalars.index(after: index)
            }
        } else {
            var index = paragraph.startIndex
            for character in paragraph {
                let scalars = character.unicodeScalars
                units.append(
                    Unit(
                        start: index, width: width(of: character), first: scalars.first!, last: scalars.last!,
                        isSpace: character == " "))
                // O(1) on native strings, and it does not look for the grapheme boundary again.
                index = paragraph.utf8.index(index, offsetBy: character.utf8.count)
            }
        }
        return units
    }

    /// Whether `scalar` is always a grapheme cluster of its own (Grapheme_Cluster_Break=Other and
    /// not followed by anything that extends it, since the whole paragraph is checked).
    static func isStandalone(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0xA0...0x2FF,  // ASCII, Latin-1, Latin Extended, IPA, spacing modifiers
            0x2010...0x2027, 0x2030...0x205E,  // general punctuation: dashes, quotes, dots, per mille
            0x2100...0x27BF,  // letterlike, number forms, arrows, maths, box drawing, shapes, symbols
            0x3000...0x3029, 0x3030...0x303F,  // CJK symbols and punctuation (without the tone marks)
            0x3041...0x3096, 0x309B...0x30FF,  // kana (without the combining voicing marks)
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,  // CJK ideographs
            0xFF01...0xFF9D, 0xFFE0...0xFFEE,  // full-width and half-width forms
            0x20000...0x3FFFD:  // CJK ideographs, planes 2 and 3
            true
        default:
            false
        }
    }

    /// Greedy first-fit wrapping of one paragraph (no newlines inside), appending to `lines`.
    static func wrapParagraph(_ paragraph: Substring, columns: Int, into lines: inout [String]) {
        let units = units(of: paragraph)
        let count = units.count
        func position(_ i: Int) -> String.Index { i < count ? units[i].start : paragraph.endIndex }
        let linesBefore = lines.count
        func emit(_ from: Int, _ to: Int) {
            var to = to
            while to > from && units[to - 1].isSpace { to -= 1 }
            if to > from { lines.append(String(paragraph[position(from)..<position(to)])) }
        }

        var lineStart = 0
        var width = 0
        // The last place the current line may end, and where the next line would then start.
        var breakEnd = -1
        var breakResume = 0
        var i = 0
        while i < count {
            let unit = units[i]
            if unit.isSpace {
                if i > lineStart {
                    breakEnd = i
                    var resume = i + 1
                    while resume < count && units[resume].isSpace { resume += 1 }
                    breakResume = resume
                }
            } else if i > lineStart && breakAllowed(between: units[i - 1], and: unit) {
                breakEnd = i
                breakResume = i
            }
            if width + unit.width > columns && i > lineStart {
                if breakEnd > lineStart {
                    emit(lineStart, breakEnd)
                    lineStart = breakResume
                    if lineStart > i {
                        // Broke at a run of spaces: go on after it.
                        i = lineStart
                        width = 0
                    } else {
                        width = 0
                        for k in lineStart..<i { width += units[k].width }
                    }
                } else {
                    // No break opportunity: break the word where the line is full.
                    lines.append(String(paragraph[position(lineStart)..<position(i)]))
                    lineStart = i
                    width = 0
                }
                breakEnd = -1
                continue
            }
            width += unit.width
            i += 1
        }
        emit(lineStart, count)
        if lines.count == linesBefore { lines.append("") }  // an empty or all-space paragraph
    }

    /// Whether a line may break between two adjacent non-space characters: when either is wide,
    /// unless the right one is closing punctuation or the left one opening punctuation.
    static func breakAllowed(between left: Unit, and right: Unit) -> Bool {
        guard left.width >= 2 || right.width >= 2 else { return false }
        return !noBreakBefore.contains(right.first) && !noBreakAfter.contains(left.last)
    }

    /// Closing punctuation that must not start a line (kinsoku).
    static let noBreakBefore: Set<Unicode.Scalar> = Set("，。、．：；！？）》」』】〕〉〗｝］’”…‥・ー々〜～%),.:;!?]}".unicodeScalars)

    /// Opening punctuation that must not end a line.
    static let noBreakAfter: Set<Unicode.Scalar> = Set("（《「『【〔〈〖｛［‘“([{".unicodeScalars)

    /// Sorted, non-overlapping inclusive ranges `[lo0, hi0, lo1, hi1, ...]` of non-ASCII scalars
    /// that are East Asian Wide, Fullwidth or Ambiguous (Unicode 14, unassigned code points merged
    /// into neighbouring ranges, plus the CJK ideograph blocks and planes 2 and 3 in full).
    /// Generated from Python's `unicodedata.east_asian_width`.
    static let wideRanges: [UInt32] = [
        0xA1, 0xA1, 0xA4, 0xA4, 0xA7, 0xA8, 0xAA, 0xAA, 0xAD, 0xAE, 0xB0, 0xB4,
        0xB6, 0xBA, 0xBC, 0xBF, 0xC6, 0xC6, 0xD0, 0xD0, 0xD7, 0xD8, 0xDE, 0xE1,
        0xE6, 0xE6, 0xE8, 0xEA, 0xEC, 0xED, 0xF0, 0xF0, 0xF2, 0xF3, 0xF7, 0xFA,
        0xFC, 0xFC, 0xFE, 0xFE, 0x101, 0x101, 0x111, 0x111, 0x113, 0x113, 0x11B, 0x11B,
        0x126, 0x127, 0x12B, 0x12B, 0x131, 0x133, 0x138, 0x138, 0x13F, 0x142, 0x144, 0x144,
        0x148, 0x14B, 0x14D, 0x14D, 0x152, 0x153, 0x166, 0x167, 0x16B, 0x16B, 0x1CE, 0x1CE,
        0x1D0, 0x1D0, 0x1D2, 0x1D2, 0x1D4, 0x1D4, 0x1D6, 0x1D6, 0x1D8, 0x1D8, 0x1DA, 0x1DA,
        0x1DC, 0x1DC, 0x251, 0x251, 0x261, 0x261, 0x2C4, 0x2C4, 0x2C7, 0x2C7, 0x2C9, 0x2CB,
        0x2CD, 0x2CD, 0x2D0, 0x2D0, 0x2D8, 0x2DB, 0x2DD, 0x2DD, 0x2DF, 0x2DF, 0x300, 0x36F,
        0x391, 0x3A9, 0x3B1, 0x3C1, 0x3C3, 0x3C9, 0x401, 0x401, 0x410, 0x44F, 0x451, 0x451,
        0x1100, 0x115F, 0x2010, 0x2010, 0x2013, 0x2016, 0x2018, 0x2019, 0x201C, 0x201D, 0x2020, 0x2022,
        0x2024, 0x2027, 0x2030, 0x2030, 0x2032, 0x2033, 0x2035, 0x2035, 0x203B, 0x203B, 0x203E, 0x203E,
        0x2074, 0x2074, 0x207F, 0x207F, 0x2081, 0x2084, 0x20AC, 0x20AC, 0x2103, 0x2103, 0x2105, 0x2105,
        0x2109, 0x2109, 0x2113, 0x2113, 0x2116, 0x2116, 0x2121, 0x2122, 0x2126, 0x2126, 0x212B, 0x212B,
        0x2153, 0x2154, 0x215B, 0x215E, 0x2160, 0x216B, 0x2170, 0x2179, 0x2189, 0x2189, 0x2190, 0x2199,
        0x21B8, 0x21B9, 0x21D2, 0x21D2, 0x21D4, 0x21D4, 0x21E7, 0x21E7, 0x2200, 0x2200, 0x2202, 0x2203,
        0x2207, 0x2208, 0x220B, 0x220B, 0x220F, 0x220F, 0x2211, 0x2211, 0x2215, 0x2215, 0x221A, 0x221A,
        0x221D, 0x2220, 0x2223, 0x2223, 0x2225, 0x2225, 0x2227, 0x222C, 0x222E, 0x222E, 0x2234, 0x2237,
        0x223C, 0x223D, 0x2248, 0x2248, 0x224C, 0x224C, 0x2252, 0x2252, 0x2260, 0x2261, 0x2264, 0x2267,
        0x226A, 0x226B, 0x226E, 0x226F, 0x2282, 0x2283, 0x2286, 0x2287, 0x2295, 0x2295, 0x2299, 0x2299,
        0x22A5, 0x22A5, 0x22BF, 0x22BF, 0x2312, 0x2312, 0x231A, 0x231B, 0x2329, 0x232A, 0x23E9, 0x23EC,
        0x23F0, 0x23F0, 0x23F3, 0x23F3, 0x2460, 0x24E9, 0x24EB, 0x254B, 0x2550, 0x2573, 0x2580, 0x258F,
        0x2592, 0x2595, 0x25A0, 0x25A1, 0x25A3, 0x25A9, 0x25B2, 0x25B3, 0x25B6, 0x25B7, 0x25BC, 0x25BD,
        0x25C0, 0x25C1, 0x25C6, 0x25C8, 0x25CB, 0x25CB, 0x25CE, 0x25D1, 0x25E2, 0x25E5, 0x25EF, 0x25EF,
        0x25FD, 0x25FE, 0x2605, 0x2606, 0x2609, 0x2609, 0x260E, 0x260F, 0x2614, 0x2615, 0x261C, 0x261C,
        0x261E, 0x261E, 0x2640, 0x2640, 0x2642, 0x2642, 0x2648, 0x2653, 0x2660, 0x2661, 0x2663, 0x2665,
        0x2667, 0x266A, 0x266C, 0x266D, 0x266F, 0x266F, 0x267F, 0x267F, 0x2693, 0x2693, 0x269E, 0x269F,
        0x26A1, 0x26A1, 0x26AA, 0x26AB, 0x26BD, 0x26BF, 0x26C4, 0x26E1, 0x26E3, 0x26E3, 0x26E8, 0x26FF,
        0x2705, 0x2705, 0x270A, 0x270B, 0x2728, 0x2728, 0x273D, 0x273D, 0x274C, 0x274C, 0x274E, 0x274E,
        0x2753, 0x2755, 0x2757, 0x2757, 0x2776, 0x277F, 0x2795, 0x2797, 0x27B0, 0x27B0, 0x27BF, 0x27BF,
        0x2B1B, 0x2B1C, 0x2B50, 0x2B50, 0x2B55, 0x2B59, 0x2E80, 0x303E, 0x3041, 0x4DBF, 0x4E00, 0xA4C6,
        0xA960, 0xA97C, 0xAC00, 0xD7A3, 0xE000, 0xFAFF, 0xFE00, 0xFE19, 0xFE30, 0xFE6B, 0xFF01, 0xFF60,
        0xFFE0, 0xFFE6, 0xFFFD, 0xFFFD, 0x16FE0, 0x1B2FB, 0x1F004, 0x1F004, 0x1F0CF, 0x1F0CF, 0x1F100, 0x1F10A,
        0x1F110, 0x1F12D, 0x1F130, 0x1F169, 0x1F170, 0x1F1AC, 0x1F200, 0x1F320, 0x1F32D, 0x1F335, 0x1F337, 0x1F37C,
        0x1F37E, 0x1F393, 0x1F3A0, 0x1F3CA, 0x1F3CF, 0x1F3D3, 0x1F3E0, 0x1F3F0, 0x1F3F4, 0x1F3F4, 0x1F3F8, 0x1F43E,
        0x1F440, 0x1F440, 0x1F442, 0x1F4FC, 0x1F4FF, 0x1F53D, 0x1F54B, 0x1F54E, 0x1F550, 0x1F567, 0x1F57A, 0x1F57A,
        0x1F595, 0x1F596, 0x1F5A4, 0x1F5A4, 0x1F5FB, 0x1F64F, 0x1F680, 0x1F6C5, 0x1F6CC, 0x1F6CC, 0x1F6D0, 0x1F6D2,
        0x1F6D5, 0x1F6DF, 0x1F6EB, 0x1F6EC, 0x1F6F4, 0x1F6FC, 0x1F7E0, 0x1F7F0, 0x1F90C, 0x1F93A, 0x1F93C, 0x1F945,
        0x1F947, 0x1F9FF, 0x1FA70, 0x1FAF6, 0x20000, 0x3FFFD, 0xE0100, 0x10FFFD,
    ]
}
