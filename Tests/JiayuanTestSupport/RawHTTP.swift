import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking HTTP/1.1 client over one loopback TCP connection per request, for tests that must choose the
/// source address (127.0.0.2 is "another computer" to the server) or send bytes no library would send.
/// Call it from a thread of its own (`RawHTTP.offPool`), never on Swift's cooperative pool.
public enum RawHTTP {
    /// An answer: status (0 when the connection closed without one), header lines, body.
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The first header of that name (case-insensitive).
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        /// Every `Set-Cookie` line.
        public var setCookies: [String] { headers.filter { $0.0.lowercased() == "set-cookie" }.map(\.1) }
        /// The value a `Set-Cookie` gives `name`, if any.
        public func cookie(_ name: String) -> String? {
            for line in setCookies where line.hasPrefix(name + "=") {
                return String(line.dropFirst(name.count + 1).prefix { $0 != ";" })
            }
            return nil
        }
    }

    /// Sends `request` (complete bytes) to 127.0.0.1:`port` from `source` and reads until the server closes
    /// or `timeout` seconds pass.
    public static func send(_ request: [UInt8], port: Int, source: String = "127.0.0.1", timeout: Double = 30) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure("bind \(source): errno \(errno)") }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure("connect 127.0.0.1:\(port): errno \(errno)") }
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            sent += n
        }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            response += buffer[0..<n]
        }
        return parse(response)
    }

    /// A request with `Connection: close`.
    public static func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + body
    }

    /// Status, headers and body of a raw response (chunked bodies joined).
    static func parse(_ bytes: [UInt8]) -> Reply {
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else { return Reply(status: 0, headers: [], body: bytes) }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        let headers: [(String, String)] = head.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[end.upperBound...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            var out: [UInt8] = []
            var i = 0
            while let lineEnd = body[i...].firstRange(of: [13, 10]) {
                let size =
                    Int(String(decoding: body[i..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
                guard size > 0, lineEnd.upperBound + size <= body.count else { break }
                out += body[lineEnd.upperBound..<(lineEnd.upperBound + size)]
                i = lineEnd.upperBound + size + 2
                guard i < body.count else { break }
            }
            body = out
        }
        return Reply(status: status, headers: headers, body: body)
    }

    /// Runs blocking `work` on a thread of its own and awaits it.
    public static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// A failure to talk to the server at all.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ d: String) { description = d }
    }
}
