import CCUPS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The libcups plumbing behind CUPSClient: connections, IPP requests, response parsing and error mapping.
// No libcups pointer or type leaves this module; the public API is plain Swift values.

/// What a failed request was about, for the wording of the error.
enum Subject {
    case queue(String)
    case job(Int)
}

/// An IPP request under construction; `perform` hands it to libcups, which frees it.
struct IPPRequest {
    let ipp: OpaquePointer

    init(_ operation: ipp_op_t) {
        ipp = ippNewRequest(operation)  // adds attributes-charset and attributes-natural-language
    }

    func add(uri name: String, _ value: String) {
        ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_URI, name, nil, value)
    }

    func add(keyword name: String, _ value: String) {
        ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, name, nil, value)
    }

    func add(keywords name: String, _ values: [String]) {
        let copies = values.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer<CChar>($0) }
        pointers.withUnsafeBufferPointer { buffer in
            _ = ippAddStrings(ipp, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, name, Int32(buffer.count), nil, buffer.baseAddress)
        }
    }

    func addUser() {
        ippAddString(ipp, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nil, cupsUser())
    }
}

extension CUPSClient {
    /// Opens a connection to the server, runs `body` with it, and closes it.
    func withConnection<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        let milliseconds = Int32(max(1, min(timeout * 1000, Double(Int32.max))))
        guard
            let http = httpConnect2(
                server.host, Int32(server.port), nil, AF_UNSPEC,
                HTTP_ENCRYPTION_IF_REQUESTED, 1, milliseconds, nil)
        else {
            // libcups's own text here is often a stale errno ("Bad file descriptor"); find the real cause.
            let reason = connectFailureReason()
            throw CUPSError(
                kind: .unreachable, message: "cannot reach the print server at \(server) (\(reason))",
                ippStatus: Int(cupsLastError().rawValue), detail: String(cString: cupsLastErrorString()))
        }
        defer { httpClose(http) }
        httpSetTimeout(http, timeout, nil, nil)
        return try body(http)
    }

    /// Why a connection to the server fails, in words: tries one plain connection itself (bounded to
    /// two seconds) because libcups does not keep the connect error.
    func connectFailureReason() -> String {
        func words(_ code: Int32) -> String {
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        if server.isDomainSocket {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let path = Array(server.host.utf8)
            guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return "the socket path is too long" }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                buffer.copyBytes(from: path)
            }
            let fd = socket(AF_UNIX, socketStream, 0)
            guard fd >= 0 else { return words(errno) }
            defer { close(fd) }
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            if result != 0 {
                return errno == ENOENT ? "there is no socket \(server.host)" : words(errno)
            }
            return "it accepted a connection but did not answer"
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketStream
        var list: UnsafeMutablePointer<addrinfo>?
        let lookup = getaddrinfo(server.host, String(server.port), &hints, &list)
        guard lookup == 0, let first = list else {
            return "unknown host \"\(server.host)\": " + String(cString: gai_strerror(lookup))
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, socketStream, 0)
        guard fd >= 0 else { return words(errno) }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 {
            return "it accepted a connection but did not answer"
        }
        guard errno == EINPROGRESS else { return words(errno) }
        var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = poll(&poller, 1, Int32(min(timeout, 2) * 1000))
        if ready == 0 { return "no answer within \(Int(min(timeout, 2))) seconds" }
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        return code != 0 ? words(code) : "it accepted a connection but did not answer"
    }

    /// Sends `request` and returns the response (which the caller must `ippDelete`), or throws the
    /// mapped error.
    func perform(_ http: OpaquePointer, _ request: IPPRequest, resource: String, about subject: Subject) throws -> OpaquePointer {
        let response = cupsDoRequest(http, request.ipp, resource)
        if let response, isSuccess(cupsLastError()) { return response }
        if let response {
            ippDelete(response)
        } else if cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND {
            // An HTTP 404 rather than an IPP answer: whatever listens there is not a CUPS scheduler.
            throw CUPSError(
                kind: .server, message: "the server at \(server) is not a CUPS print server (it answered \"Not Found\")",
                ippStatus: Int(IPP_STATUS_ERROR_NOT_FOUND.rawValue), detail: String(cString: cupsLastErrorString()))
        }
        throw lastError(http, about: subject)
    }

    func printerStatus(_ http: OpaquePointer, queue: String) throws -> CUPSPrinterStatus {
        let request = IPPRequest(IPP_OP_GET_PRINTER_ATTRIBUTES)
        request.add(uri: "printer-uri", try printerURI(queue))
        request.addUser()
        request.add(
            keywords: "requested-attributes",
            ["printer-state", "printer-state-reasons", "printer-state-message", "printer-is-accepting-jobs"])
        let response = try perform(http, request, resource: "/", about: .queue(queue))
        defer { ippDelete(response) }
        let state: CUPSPrinterStatus.State =
            switch integer(response, "printer-state") {
            case 4: .processing
            case 5: .stopped
            default: .idle
            }
        var accepting = true
        if let attribute = ippFindAttribute(response, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN) {
            accepting = ippGetBoolean(attribute, 0) != 0
        }
        return CUPSPrinterStatus(
            state: state,
            reasons: strings(response, "printer-state-reasons").filter { $0 != "none" },
            message: string(response, "printer-state-message").flatMap { $0.isEmpty ? nil : $0 },
            accepting: accepting)
    }

    /// IPP Create-Job on the queue; returns the new job's id.
    func createJob(_ http: OpaquePointer, queue: String, title: String) throws -> Int32 {
        let request = IPPRequest(IPP_OP_CREATE_JOB)
        request.add(uri: "printer-uri", try printerURI(queue))
        request.addUser()
        ippAddString(request.ipp, IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nil, title)
        let response = try perform(http, request, resource: "/printers/\(queue)", about: .queue(queue))
        defer { ippDelete(response) }
        guard let id = integer(response, "job-id"), id > 0, id <= Int(Int32.max) else {
            throw CUPSError(kind: .server, message: "the print server at \(server) created no job on \"\(queue)\"")
        }
        return Int32(id)
    }

    /// Best effort: cancel a job whose document could not be sent, on a fresh connection (the old one
    /// may be broken mid-request).
    func cancelQuietly(queue: String, jobID: Int32) {
        _ = try? withConnection { http in
            _ = cupsCancelJob2(http, queue, jobID, 0)
        }
    }

    /// The `printer-uri` for a queue on the connected server.
    func printerURI(_ queue: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(HTTP_MAX_URI))
        let status = httpAssembleURI(
            HTTP_URI_CODING_ALL, &buffer, Int32(buffer.count), "ipp", nil, "localhost", 0,
            "/printers/\(queue)")
        guard status.rawValue >= HTTP_URI_STATUS_OK.rawValue else {
            throw CUPSError(kind: .invalidRequest, message: "\"\(queue)\" is not a valid printer queue name")
        }
        let length = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Maps libcups's last error (this thread's `cupsLastError()`) to a plain-words ``CUPSError``.
    func lastError(_ http: OpaquePointer?, about subject: Subject, action: String? = nil) -> CUPSError {
        let status = cupsLastError()
        let detail = String(cString: cupsLastErrorString())
        let code = Int(status.rawValue)
        let connectionError = http.map { httpError($0) } ?? 0
        let what: String
        switch subject {
        case .queue(let name): what = "the printer queue \"\(name)\""
        case .job(let id): what = "print job \(id)"
        }
        if connectionError == ETIMEDOUT || status == IPP_STATUS_ERROR_TIMEOUT {
            return CUPSError(
                kind: .unreachable,
                message: "the print server at \(server) did not answer within \(Int(timeout.rounded(.up))) seconds",
                ippStatus: code, detail: detail)
        }
        switch status {
        case IPP_STATUS_ERROR_NOT_FOUND:
            switch subject {
            case .queue(let name):
                return CUPSError(
                    kind: .queueNotFound, message: "the printer queue \"\(name)\" does not exist",
                    ippStatus: code, detail: detail)
            case .job(let id):
                return CUPSError(
                    kind: .jobNotFound, message: "print job \(id) does not exist on the print server at \(server)",
                    ippStatus: code, detail: detail)
            }
        case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
            return CUPSError(kind: .notAccepting, message: "\(what) is not accepting jobs", ippStatus: code, detail: detail)
        case IPP_STATUS_ERROR_FORBIDDEN, IPP_STATUS_ERROR_NOT_AUTHORIZED, IPP_STATUS_ERROR_NOT_AUTHENTICATED,
            IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED:
            return CUPSError(
                kind: .notAllowed, message: "the print server at \(server) refused access to \(what) (\(detail))",
                ippStatus: code, detail: detail)
        case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
            return CUPSError(
                kind: .unreachable, message: "lost the connection to the print server at \(server) (\(detail))",
                ippStatus: code, detail: detail)
        default:
            if connectionError != 0 {
                let reason = String(cString: strerror(connectionError))
                return CUPSError(
                    kind: .unreachable, message: "lost the connection to the print server at \(server) (\(reason))",
                    ippStatus: code, detail: detail)
            }
            let doing = action.map { " while \($0)" } ?? ""
            return CUPSError(
                kind: .server, message: "the print server at \(server) reported an error for \(what)\(doing): \(detail)",
                ippStatus: code, detail: detail)
        }
    }

    /// Queue names CUPS accepts: 1–127 bytes, no blanks, control characters, "/", "\", "?", "'", "\"" or "#".
    static func validate(queue: String) throws {
        let forbidden: Set<UInt8> = [
            UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "?"), UInt8(ascii: "'"),
            UInt8(ascii: "\""), UInt8(ascii: "#"),
        ]
        let bytes = Array(queue.utf8)
        guard !bytes.isEmpty, bytes.count <= 127, !bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F || forbidden.contains($0) }) else {
            throw CUPSError(kind: .invalidRequest, message: "\"\(queue)\" is not a valid printer queue name")
        }
    }
}

#if os(Linux)
    let socketStream = Int32(SOCK_STREAM.rawValue)
#else
    let socketStream = SOCK_STREAM
#endif

func isSuccess(_ status: ipp_status_t) -> Bool {
    status.rawValue < IPP_STATUS_REDIRECTION_OTHER_SITE.rawValue
}

func integer(_ response: OpaquePointer, _ name: String) -> Int? {
    guard let attribute = ippFindAttribute(response, name, IPP_TAG_ZERO), ippGetCount(attribute) > 0 else { return nil }
    return Int(ippGetInteger(attribute, 0))
}

func string(_ response: OpaquePointer, _ name: String) -> String? {
    guard let attribute = ippFindAttribute(response, name, IPP_TAG_ZERO), ippGetCount(attribute) > 0,
        let value = ippGetString(attribute, 0, nil)
    else { return nil }
    return String(cString: value)
}

func strings(_ response: OpaquePointer, _ name: String) -> [String] {
    guard let attribute = ippFindAttribute(response, name, IPP_TAG_ZERO) else { return [] }
    return (0..<ippGetCount(attribute)).compactMap { index in
        ippGetString(attribute, index, nil).map { String(cString: $0) }
    }
}
