import Foundation

/// An error from PostgreSQL or from talking to it, in plain language.
///
/// `message` never contains the password of the connection URL. `sqlState` is the five-character
/// SQLSTATE code: the server's own code for statement errors (for example `23505` for a unique
/// violation), `08001` when a connection could not be made and `08006` when an open connection was lost.
public struct PGError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, in plain language (primary message, then detail and hint when the server gives them).
    public let message: String
    /// The SQLSTATE code, if known (see the type's documentation).
    public let sqlState: String?

    /// Creates an error with a message and an optional SQLSTATE code.
    public init(message: String, sqlState: String? = nil) {
        self.message = message
        self.sqlState = sqlState
    }

    /// `message`, followed by the SQLSTATE code in brackets when there is one.
    public var description: String {
        if let sqlState { return "\(message) [SQLSTATE \(sqlState)]" }
        return message
    }

    /// True for the SQLSTATE class 08 (connection exception): the connection could not be made or was lost.
    public var isConnectionError: Bool { sqlState?.hasPrefix("08") ?? false }

    /// True for SQLSTATE `23505` (a row with the same unique key already exists).
    public var isUniqueViolation: Bool { sqlState == "23505" }
}

/// SQLSTATE codes this library assigns itself (libpq gives none for client-side failures).
enum SQLState {
    static let unableToConnect = "08001"
    static let connectionFailure = "08006"
}

/// Removes secrets (the password of a connection URL or conninfo string) from text meant for people.
struct Redactor: Sendable {
    private let secrets: [String]

    init(conninfo: String) {
        var found: [String] = []
        if let pw = Redactor.uriPassword(conninfo) { found.append(pw) }
        found.append(contentsOf: Redactor.keywordPasswords(conninfo))
        var all: [String] = []
        for s in found where !s.isEmpty {
            all.append(s)
            if let decoded = Redactor.percentDecoded(s), decoded != s, !decoded.isEmpty { all.append(decoded) }
        }
        // Longest first, so a password that contains another one is removed whole.
        secrets = Array(Set(all)).sorted { $0.count > $1.count }
    }

    func clean(_ text: String) -> String {
        var out = text
        for s in secrets { out = out.replacingOccurrences(of: s, with: "***") }
        return out
    }

    /// The password in the user-info part of `postgres://user:PASSWORD@host/...` (or `postgresql://`).
    private static func uriPassword(_ s: String) -> String? {
        guard let scheme = s.range(of: "://"), s.hasPrefix("postgres") else { return nil }
        let authority = s[scheme.upperBound...].prefix(while: { $0 != "/" && $0 != "?" })
        guard let at = authority.lastIndex(of: "@") else { return nil }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return nil }
        return String(userinfo[userinfo.index(after: colon)...])
    }

    /// `password=secret` or `password='se cret'` in a key=value conninfo string (or a URI query).
    private static func keywordPasswords(_ s: String) -> [String] {
        var out: [String] = []
        var search = s[...]
        while let r = search.range(of: "password") {
            var i = r.upperBound
            while i < search.endIndex, search[i] == " " { i = search.index(after: i) }
            guard i < search.endIndex, search[i] == "=" else { search = search[r.upperBound...]; continue }
            i = search.index(after: i)
            while i < search.endIndex, search[i] == " " { i = search.index(after: i) }
            var value = ""
            if i < search.endIndex, search[i] == "'" {
                i = search.index(after: i)
                while i < search.endIndex, search[i] != "'" {
                    if search[i] == "\\", search.index(after: i) < search.endIndex { i = search.index(after: i) }
                    value.append(search[i]); i = search.index(after: i)
                }
            } else {
                while i < search.endIndex, search[i] != " ", search[i] != "&" {
                    value.append(search[i]); i = search.index(after: i)
                }
            }
            out.append(value)
            search = search[i...]
        }
        return out
    }

    private static func percentDecoded(_ s: String) -> String? {
        var bytes: [UInt8] = []
        var it = Array(s.utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%"), it.count >= 2,
                let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v); it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
