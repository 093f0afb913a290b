// The staff console's form decoding: Hummingbird's URLEncodedFormDecoder into the console's Decodable structs
// (their shapes copied from Sources/JiayuanWeb/Console by console-forms.awk at build time).
//
// Invariants, for every console form: decoding any body never traps and fails only with a DecodingError or a
// URLEncodedFormError (both typed, turned into "unreadable form" by the console); a form decoded successfully, sent
// again the way a browser sends it (application/x-www-form-urlencoded: space as `+`, everything but letters,
// digits and `*-._` percent-encoded as UTF-8), decodes to the same values; any field values (with `&`, `=`, `%`,
// `+`, brackets, non-ASCII and control characters) sent by a browser decode back to exactly themselves.
//
// Input: the body to decode, then after a NUL byte the field values to send (separated by NUL bytes).
import Foundation
import Hummingbird

/// One form to fuzz.
struct FormShape {
    var name: String
    var check: (FormInput) -> Void
}

/// One fuzz input, split.
struct FormInput {
    var body: String
    var values: [String]
}

/// The shape of the sign-in form, checked whatever the console has.
struct LoginFormShape: Codable, Equatable {
    var csrf: String?
    var name: String?
    var pin: String?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let input = FormInput(body: parts[0], values: Array(parts.dropFirst()))
    check(LoginFormShape.self, input)
    for form in consoleForms { form.check(input) }
    return 0
}

func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// The stored fields of a form value, in declaration order.
func fields(_ value: Any) -> [(name: String, value: String?)] {
    Mirror(reflecting: value).children.map { child in
        (child.label ?? "?", child.value as? String ?? (child.value as? String?) ?? nil)
    }
}

/// A form body as a browser sends it.
func browserEncode(_ pairs: [(String, String)]) -> String {
    func encode(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
    return pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
}

func decode<T: Decodable>(_: T.Type, _ body: String) -> Result<T, any Error> {
    Result { try URLEncodedFormDecoder().decode(T.self, from: body) }
}

func check<T: Decodable & Equatable>(_: T.Type, _ input: FormInput) {
    switch decode(T.self, input.body) {
    case .success(let value):
        let sent = fields(value).compactMap { f in f.value.map { (f.name, $0) } }
        let again = decode(T.self, browserEncode(sent))
        invariant(
            (try? again.get()) == value, "\(T.self) \(value) sent again as \(browserEncode(sent).debugDescription) decodes as \(again)")
    case .failure(let error):
        invariant(error is DecodingError || error is URLEncodedFormError, "untyped error \(type(of: error)): \(error)")
    }
    guard !input.values.isEmpty, let empty = try? decode(T.self, "").get() else { return }
    let names = fields(empty).map(\.name)
    let sent = Array(zip(names, input.values))
    let body = browserEncode(sent)
    switch decode(T.self, body) {
    case .success(let value):
        let got = fields(value)
        for (i, f) in got.enumerated() {
            let expected: String? = i < sent.count ? sent[i].1 : nil
            invariant(
                f.value == expected,
                "\(T.self).\(f.name) sent as \(expected.debugDescription) in \(body.debugDescription) decodes as \(f.value.debugDescription)"
            )
        }
    case .failure(let error):
        invariant(false, "a browser's \(T.self) \(body.debugDescription) does not decode: \(error)")
    }
}
