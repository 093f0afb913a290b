import Foundation

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

    /// Plain values as JSON text: strings, integers of any width, floating-point numbers, booleans, `NSNull`
    /// or nil (null), arrays and `[String: Any]` objects with their keys sorted bytewise, non-ASCII text kept
    /// as it is and `/` not escaped. Anything else is written as the string of its description.
    ///
    /// Foundation's `JSONSerialization` sorts keys through ICU's locale data on Linux, which maps over a
    /// megabyte of ICU into the kiosk on its first health check; this writer needs none of it.
    public static func serialize(_ value: Any) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    private static func append(_ value: Any, to out: inout String) {
        switch value {
        case let s as String: appendString(s, to: &out)
        case let s as Substring: appendString(String(s), to: &out)
        case let b as Bool: out += b ? "true" : "false"
        case let i as any BinaryInteger: out += String(describing: i)
        case let f as Float: append(Double(f), to: &out)
        case let d as Double:
            if !d.isFinite {
                out += "null"
            } else if d == d.rounded(), abs(d) < 1e15 {
                out += String(Int64(d))
            } else {
                out += String(d)
            }
        case is NSNull: out += "null"
        case let a as [Any]:
            out += "["
            for (i, element) in a.enumerated() {
                if i > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case let o as [String: Any]:
            out += "{"
            for (i, key) in o.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if i > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(o[key]!, to: &out)
            }
            out += "}"
        default:
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let wrapped = mirror.children.first?.value { append(wrapped, to: &out) } else { out += "null" }
            } else {
                appendString(String(describing: value), to: &out)
            }
        }
    }
}
