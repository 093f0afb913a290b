/// One thing a scanner delivered: a code to check in with, or junk to log and show as `invalid_code`.
///
/// Debouncing (the same code twice within a few seconds) is not done here: the check-in engine does it.
public enum ScanInput: Hashable, Sendable {
    /// A complete code, without its line end, free of control characters and at most
    /// ``ScanFilter/maximumLength`` characters long.
    case code(String)
    /// Something unusable, with the reason in plain English (one of the ``ScanFilter`` reasons).
    case junk(reason: String)
}

/// The junk rules every scanner source shares.
///
/// A code is junk when it is empty, longer than ``maximumLength`` characters, or contains control
/// characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F; the line end itself is not part of the code).
/// Sources add their own junk: a line without its end (``halfCode``), bytes that are not UTF-8
/// (``invalidUTF8``), key events the kernel dropped (``keysLost``).
public struct ScanFilter: Sendable {
    /// The longest code, in characters (Unicode scalars; a scanner types ASCII, so this is also bytes).
    /// Equal to `CardCode.maximumScanLength` in `JiayuanDomain`.
    public static let maximumLength = 512

    /// Reason: the code contains a control character (Tab, Escape, Backspace, a Ctrl/Alt combination, NUL, …).
    public static let controlCharacters = "control characters"
    /// Reason: the code is longer than ``maximumLength`` characters.
    public static let tooLong = "longer than \(maximumLength) characters"
    /// Reason: text arrived but its end of line did not, within the source's gap.
    public static let halfCode = "half a code (no end of line)"
    /// Reason: the code has no characters at all.
    public static let empty = "empty"
    /// Reason: a line source delivered bytes that are not UTF-8 text.
    public static let invalidUTF8 = "not UTF-8 text"
    /// Reason: the kernel dropped key events (`SYN_DROPPED`) while this code was being typed.
    public static let keysLost = "keys lost (the scanner typed faster than it was read)"

    private init() {}

    /// Classifies a complete code (without its line end): ``ScanInput/code(_:)`` or ``ScanInput/junk(reason:)``.
    ///
    /// Checked in this order: empty, too long, control characters. White space is kept as it is; the
    /// card reader in `JiayuanDomain` trims it.
    public static func check(_ text: String) -> ScanInput {
        var count = 0
        var control = false
        for scalar in text.unicodeScalars {
            count += 1
            if scalar.properties.generalCategory == .control { control = true }
        }
        if count == 0 { return .junk(reason: empty) }
        if count > maximumLength { return .junk(reason: tooLong) }
        if control { return .junk(reason: controlCharacters) }
        return .code(text)
    }
}
