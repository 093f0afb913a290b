import Foundation

/// What a browser's tokenizer sees in a page (via Python's html.parser, run off the cooperative pool).
public struct PageStructure: Equatable, Sendable {
    public var elements: [[String]]
    public var text: String

    public static func of(_ html: String) async throws -> PageStructure {
        let result = try await RawHTTP.offPool {
            try Run.program("/usr/bin/python3", [Run.packageRoot + "/Tests/browser/html_structure.py"], stdin: Data(html.utf8))
        }
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
            let elements = object["elements"] as? [[Any]], let text = object["text"] as? String
        else { throw RawHTTP.Failure("html_structure.py failed: \(result.stderr)") }
        return PageStructure(
            elements: elements.map { [($0[0] as? String) ?? "?"] + (($0[1] as? [String]) ?? []) }, text: text)
    }

    /// Every attribute name in the page.
    public var attributes: Set<String> { Set(elements.flatMap { $0.dropFirst() }) }
}
