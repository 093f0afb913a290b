import Foundation
import HTTPTypes
import Hummingbird
import JiayuanDomain
import Mustache
import NIOConcurrencyHelpers

/// The console's HTML: mustache templates from `assets/console/templates`, loaded on first use (the kiosk
/// that never opens the console never reads them) and escaped by default.
///
/// swift-mustache's own HTML escaping compares whole Characters, so `"` followed by a combining mark
/// would pass unescaped. Every template is therefore loaded with a content type of ours in front
/// (`{{% CONTENT_TYPE: JIAYUAN_HTML}}`), which escapes Unicode scalars (`HTML.escape`); no template can
/// forget it, because the loader adds it.
public final class ConsoleViews: Sendable {
    /// The folder holding `*.mustache`.
    public let directory: String
    private let library = NIOLockedValueBox<MustacheLibrary?>(nil)

    /// Templates from `directory`.
    public init(directory: String) { self.directory = directory }

    /// The content type name every template starts with.
    static let contentType = "JIAYUAN_HTML"
    private static let registered: Void = MustacheContentTypes.register(ScalarHTML(), named: contentType)

    struct ScalarHTML: MustacheContentType {
        func escapeText(_ text: String) -> String { HTML.escape(text) }
    }

    /// What can go wrong loading templates.
    public enum Problem: Error, CustomStringConvertible {
        /// The folder is missing or a template does not parse.
        case templates(String)
        /// No template of that name.
        case missing(String)

        public var description: String {
            switch self {
            case .templates(let why): "the console's templates cannot be loaded: \(why)"
            case .missing(let name): "the console has no template \(name)"
            }
        }
    }

    /// Loads every template under `directory` with the escaping content type in front.
    static func load(_ directory: String) throws -> MustacheLibrary {
        _ = registered
        guard let names = FileManager.default.enumerator(atPath: directory) else { throw Problem.templates("no folder \(directory)") }
        var templates: [String: MustacheTemplate] = [:]
        for case let path as String in names where path.hasSuffix(".mustache") {
            guard let data = FileManager.default.contents(atPath: directory + "/" + path), let text = String(data: data, encoding: .utf8)
            else {
                throw Problem.templates("cannot read \(path)")
            }
            do {
                templates[String(path.dropLast(".mustache".count))] = try MustacheTemplate(
                    string: "{{% CONTENT_TYPE: \(contentType)}}" + text)
            } catch {
                throw Problem.templates("\(path): \(error)")
            }
        }
        return MustacheLibrary(templates: templates)
    }

    /// The loaded library (read once, kept).
    func templates() throws -> MustacheLibrary {
        try library.withLockedValue { cached in
            if let cached { return cached }
            let loaded = try Self.load(directory)
            cached = loaded
            return loaded
        }
    }

    /// `object` rendered with template `name`.
    public func render(_ object: Any, _ name: String) throws -> String {
        let library = try templates()
        guard let html = library.render(object, withTemplate: name) else { throw Problem.missing(name) }
        return html
    }
}

/// The headers of every console page: no inline script or style anywhere, no framing, no sniffing, no
/// referrer leaving the desk, nothing cached.
enum ConsoleHeaders {
    static let csp = HTTPField.Name("Content-Security-Policy")!
    static let policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    static var html: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", csp: policy,
            HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "no-referrer",
        ]
    }
}
