import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a loopback port, driven byte by byte like a hostile client would (a request
/// never finished, a stream never read). Every call blocks at most its own bound; call them through
/// `onThread` from async tests so they never hold up Swift's cooperative pool.
public final class RawSocket: @unchecked Sendable {
    /// The socket's descriptor (-1 once closed).
    public private(set) var fd: Int32

    /// Connects to 127.0.0.1:`port`, waiting at most `timeout` seconds; nil when no connection was made.
    public init?(port: Int, timeout: Double = 5) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS, Self.wait(fd, events: Int16(POLLOUT), timeout: timeout) else {
                Glibc.close(fd)
                fd = -1
                return nil
            }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            guard error == 0 else {
                Glibc.close(fd)
                fd = -1
                return nil
            }
        }
    }

    deinit { close() }

    /// Closes the connection.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Sends `text`; false when the peer is gone.
    @discardableResult
    public func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0, errno == EAGAIN {
                guard Self.wait(fd, events: Int16(POLLOUT), timeout: 5) else { return false }
            } else {
                return false
            }
        }
        return true
    }

    /// Reads until `until` holds for what arrived, the peer closes, or `timeout` seconds pass.
    /// Returns what arrived and whether the peer closed the connection.
    public func read(timeout: Double, until: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        var data = [UInt8]()
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0, Self.wait(fd, events: Int16(POLLIN), timeout: left) else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { return (String(decoding: data, as: UTF8.self), true) }
            if n > 0 { data += buffer[0..<n] }
            if until(String(decoding: data, as: UTF8.self)) { break }
        }
        return (String(decoding: data, as: UTF8.self), false)
    }

    /// Waits until the peer has closed every one of `sockets` (reading and dropping whatever they send),
    /// at most `timeout` seconds. Returns how many are closed.
    public static func waitClosed(_ sockets: [RawSocket], timeout: Double) -> Int {
        var open = Set(sockets.indices)
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !open.isEmpty {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var fds = open.map { pollfd(fd: sockets[$0].fd, events: Int16(POLLIN), revents: 0) }
            let indices = Array(open)
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000))
            if ready <= 0 { continue }
            for (k, p) in fds.enumerated() where p.revents != 0 {
                let n = recv(p.fd, &buffer, buffer.count, 0)
                if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { open.remove(indices[k]) }
            }
        }
        return sockets.count - open.count
    }

    /// Waits for `events` on `fd` at most `timeout` seconds.
    static func wait(_ fd: Int32, events: Int16, timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: events, revents: 0)
        return poll(&p, 1, Int32(max(0, timeout) * 1000)) > 0
    }
}

/// Runs blocking `work` on a thread of its own and awaits its result (sockets, process waits), so async
/// tests never block the cooperative pool.
public func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}
