#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a CUPS scheduler (cupsd) listens: a host and TCP port, or a Unix domain socket.
///
/// The host is a name (`localhost`), an IPv4 or IPv6 address (`127.0.0.1`, `::1`, without brackets), or
/// the path of a domain socket (`/run/cups/cups.sock`); for a socket the port is not used.
public struct CUPSServer: Sendable, Hashable, CustomStringConvertible {
    /// The IPP port CUPS uses when none is given.
    public static let defaultPort = 631

    /// Host name, IP address, or a domain-socket path starting with "/".
    public var host: String
    /// TCP port (ignored for a domain socket).
    public var port: Int

    /// Creates a server address; `host` may be a domain-socket path starting with "/".
    public init(host: String, port: Int = CUPSServer.defaultPort) {
        self.host = host
        self.port = port
    }

    /// Whether this is a Unix domain socket rather than a TCP address.
    public var isDomainSocket: Bool { host.hasPrefix("/") }

    /// The address the way people write it: `127.0.0.1:8631`, `[::1]:631`, or the socket path.
    public var description: String {
        if isDomainSocket { return host }
        if host.contains(":") { return "[\(host)]:\(port)" }
        return "\(host):\(port)"
    }

    /// Parses a server the way `CUPS_SERVER` and `client.conf` write it: `127.0.0.1:8631`, `localhost`
    /// (port 631), `[::1]:8631`, `::1`, or a socket path such as `/run/cups/cups.sock`. A trailing
    /// `/version=1.1` (a CUPS client option) is ignored. Returns nil for an empty string, a bad port, or
    /// a host with blanks in it.
    public static func parse(_ text: String) -> CUPSServer? {
        let s = text.trimmingBlanks()
        if s.isEmpty { return nil }
        if s.hasPrefix("/") {
            return s.contains(where: { $0.isNewline || $0 == "\0" }) ? nil : CUPSServer(host: s)
        }
        // "host:port/version=1.1": the part after a slash is a client option, not part of the address.
        var address = Substring(s)
        if let slash = address.firstIndex(of: "/") { address = address[..<slash] }
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]") else { return nil }
            let host = String(address[address.index(after: address.startIndex)..<close])
            let rest = address[address.index(after: close)...]
            if rest.isEmpty { return validHost(host).map { CUPSServer(host: $0) } }
            guard rest.hasPrefix(":"), let port = parsePort(rest.dropFirst()) else { return nil }
            return validHost(host).map { CUPSServer(host: $0, port: port) }
        }
        let colons = address.filter { $0 == ":" }.count
        if colons == 1, let colon = address.firstIndex(of: ":") {
            guard let port = parsePort(address[address.index(after: colon)...]) else { return nil }
            return validHost(String(address[..<colon])).map { CUPSServer(host: $0, port: port) }
        }
        // No colon, or a bare IPv6 address such as ::1.
        return validHost(String(address)).map { CUPSServer(host: $0) }
    }

    /// The server named by the `CUPS_SERVER` environment variable, or nil when it is unset or unusable.
    public static func fromEnvironment() -> CUPSServer? {
        guard let value = getenv("CUPS_SERVER") else { return nil }
        return parse(String(cString: value))
    }

    private static func parsePort(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(text), (1...65_535).contains(port)
        else { return nil }
        return port
    }

    private static func validHost(_ host: String) -> String? {
        if host.isEmpty || host.contains(where: { $0.isWhitespace || $0 == "\0" || $0 == "/" }) { return nil }
        return host
    }
}

extension String {
    func trimmingBlanks() -> String {
        var s = Substring(self)
        while let first = s.first, first.isWhitespace { s = s.dropFirst() }
        while let last = s.last, last.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
