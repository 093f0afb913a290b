import CCurl
import Foundation

/// An HTTP answer.
public struct HTTPReply: Sendable {
    /// The status code (200, 409, …).
    public var status: Int
    /// Response headers, names in lower case (the last value wins).
    public var headers: [String: String]
    /// The response body.
    public var body: [UInt8]

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request got no answer, in plain words. Never contains request headers (so never a token).
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// No connection could be made (refused, unreachable, name not found, TLS failed).
        case connect
        /// The request or the answer took longer than allowed.
        case timeout
        /// The connection broke while sending or receiving (reset, closed early).
        case transfer
        /// The server's certificate could not be verified (unknown authority, wrong name, expired).
        case untrusted
    }

    public var kind: Kind
    /// libcurl's explanation.
    public var message: String
    public var description: String { message }
}

/// A small blocking HTTP/1.1 client over libcurl (HTTP and HTTPS), keeping its connection alive between
/// requests. One request at a time (calls are serialised by a lock); run it off the cooperative pool.
public final class HTTPClient: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let lock = NSLock()
    /// Whole-request time limit.
    public let timeout: Duration
    /// Time limit for making the connection.
    public let connectTimeout: Duration
    /// Largest answer accepted; a bigger one is cut off and reported (a misbehaving server cannot exhaust
    /// the kiosk's memory).
    public let maxResponseBytes: Int
    /// A PEM file of certificate authorities to verify HTTPS servers against (libcurl's `CAINFO`); nil: the system's.
    public let caFile: String?

    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Creates a client with its own connection cache.
    public init(
        timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(10), maxResponseBytes: Int = 4 << 20, caFile: String? = nil
    ) {
        _ = Self.globalInit
        guard let h = curl_easy_init() else { fatalError("libcurl could not allocate a handle (out of memory)") }
        handle = h
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
        self.caFile = caFile
    }

    deinit { curl_easy_cleanup(handle) }

    /// `POST url` with `body`; returns whatever status the server answered.
    public func post(_ url: String, headers: [(String, String)], body: [UInt8]) throws(HTTPClientError) -> HTTPReply {
        try perform(url: url, method: "POST", headers: headers, body: body)
    }

    /// `GET url`.
    public func get(_ url: String, headers: [(String, String)] = []) throws(HTTPClientError) -> HTTPReply {
        try perform(url: url, method: "GET", headers: headers, body: nil)
    }

    private final class Sink {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
        var limit = 0
        var tooLarge = false
    }

    private func perform(url: String, method: String, headers: [(String, String)], body: [UInt8]?) throws(HTTPClientError) -> HTTPReply {
        lock.lock()
        defer { lock.unlock() }
        let h = handle
        curl_easy_reset(h)
        let sink = Sink()
        sink.limit = maxResponseBytes
        var list: UnsafeMutablePointer<curl_slist>?
        // No "Expect: 100-continue" round trip before the body.
        for line in headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let code: CURLcode = url.withCString { urlPointer in
            errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
                let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
                _ = jiayuan_curl_set_pointer(h, CURLOPT_URL, urlPointer)
                _ = jiayuan_curl_set_pointer(h, CURLOPT_ERRORBUFFER, errorPointer.baseAddress)
                _ = jiayuan_curl_set_long(h, CURLOPT_NOSIGNAL, 1)
                _ = jiayuan_curl_set_long(h, CURLOPT_TCP_NODELAY, 1)
                _ = jiayuan_curl_set_long(h, CURLOPT_TIMEOUT_MS, Int(timeout.milliseconds))
                _ = jiayuan_curl_set_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout.milliseconds))
                _ = jiayuan_curl_set_long(h, CURLOPT_FOLLOWLOCATION, 0)
                // libcurl copies string options: the pointer need not outlive the call.
                if let caFile { _ = caFile.withCString { jiayuan_curl_set_pointer(h, CURLOPT_CAINFO, $0) } }
                _ = jiayuan_curl_set_pointer(h, CURLOPT_HTTPHEADER, list.map { UnsafeRawPointer($0) })
                _ = jiayuan_curl_set_write_function(
                    h, CURLOPT_WRITEFUNCTION,
                    { data, size, count, user in
                        let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                        let n = size * count
                        if sink.body.count + n > sink.limit {
                            sink.tooLarge = true
                            return 0  // libcurl stops the transfer
                        }
                        if n > 0, let data { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n)) }
                        return n
                    })
                _ = jiayuan_curl_set_pointer(h, CURLOPT_WRITEDATA, sinkPointer)
                _ = jiayuan_curl_set_write_function(
                    h, CURLOPT_HEADERFUNCTION,
                    { data, size, count, user in
                        let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                        let n = size * count
                        guard n > 0, let data else { return n }
                        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
                        if line.hasPrefix("HTTP/") { sink.headers = [:] }  // a new response (after a redirect or 100)
                        if let colon = line.firstIndex(of: ":") {
                            let name = line[..<colon].lowercased()
                            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                            sink.headers[name] = value
                        }
                        return n
                    })
                _ = jiayuan_curl_set_pointer(h, CURLOPT_HEADERDATA, sinkPointer)
                guard let body else {
                    _ = jiayuan_curl_set_long(h, CURLOPT_HTTPGET, 1)
                    return curl_easy_perform(h)
                }
                return body.withUnsafeBytes { bytes in
                    _ = jiayuan_curl_set_long(h, CURLOPT_POST, 1)
                    _ = jiayuan_curl_set_offset(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    _ = jiayuan_curl_set_pointer(h, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                    if method != "POST" { _ = method.withCString { jiayuan_curl_set_pointer(h, CURLOPT_CUSTOMREQUEST, $0) } }
                    return curl_easy_perform(h)
                }
            }
        }
        if sink.tooLarge {
            throw HTTPClientError(kind: .transfer, message: "the answer was larger than \(maxResponseBytes) bytes and was cut off")
        }
        guard code == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            let kind: HTTPClientError.Kind
            switch code {
            case CURLE_OPERATION_TIMEDOUT: kind = .timeout
            case CURLE_PEER_FAILED_VERIFICATION: kind = .untrusted
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR,
                CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_SSL_CACERT_BADFILE:
                kind = .connect
            default: kind = .transfer
            }
            throw HTTPClientError(kind: kind, message: message)
        }
        var status = 0
        _ = jiayuan_curl_get_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPReply(status: status, headers: sink.headers, body: sink.body)
    }
}

extension Duration {
    /// Whole milliseconds (at least 1).
    var milliseconds: Int64 {
        let (s, atto) = components
        return max(1, s * 1000 + atto / 1_000_000_000_000_000)
    }
}
