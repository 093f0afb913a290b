/// A small JSON writer that keeps keys in the order written and escapes strings one fixed way
/// (`\"`, `\\`, control characters as `\u00xx`, everything else as UTF-8), so the same values
/// always give the same bytes. Used for the decision object and the canonical event JSON.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var output = ""
    private var needsComma = false

    /// An empty writer.
    public init() {}

    /// Writes a top-level object.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        output += "{"
        var inner = JSONWriter()
        body(&inner)
        output += inner.output + "}"
    }

    private mutating func key(_ k: String) {
        if needsComma { output += "," }
        needsComma = true
        JSONWriter.appendString(k, to: &output)
        output += ":"
    }

    /// `"key":"value"` or `"key":null`.
    public mutating func field(_ k: String, _ v: String?) {
        key(k)
        if let v { JSONWriter.appendString(v, to: &output) } else { output += "null" }
    }

    /// `"key":123` or `"key":null`.
    public mutating func field(_ k: String, _ v: Int64?) {
        key(k)
        output += v.map { String($0) } ?? "null"
    }

    /// `"key":true`.
    public mutating func field(_ k: String, _ v: Bool) {
        key(k)
        output += v ? "true" : "false"
    }

    /// `"key":null`.
    public mutating func null(_ k: String) {
        key(k)
        output += "null"
    }

    /// `"key":{...}`.
    public mutating func object(_ k: String, _ body: (inout JSONWriter) -> Void) {
        key(k)
        object(body)
    }

    /// Appends `s` as a JSON string literal.
    public static func appendString(_ s: String, to out: inout String) {
        // Fast path: nothing to escape.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x22 && $0 != 0x5C && $0 != 0x7F }) {
            out += "\"" + s + "\""
            return
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
