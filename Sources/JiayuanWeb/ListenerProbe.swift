import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Asks a listener for `GET /healthz/live` through a real socket, as any client would: the watchdog's
/// proof that the kiosk can still answer a request through its own door (accept, read, route, write),
/// not only that its database answers.
public enum ListenerProbe {
    /// The path probed: a route that touches nothing but the HTTP server itself.
    public static let path = "/healthz/live"

    /// Whether the listener at `address` answered an HTTP request within `timeout` seconds. Blocks the
    /// calling thread for at most `timeout`: run it on a dedicated queue.
    public static func answers(_ address: SocketAddress, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let rc = address.withSockAddr { pointer, length in connect(fd, pointer, socklen_t(length)) }
        if rc != 0 {
            guard errno == EINPROGRESS, wait(fd, Int16(POLLOUT), until: deadline) else { return false }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else { return false }
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0, errno == EAGAIN, wait(fd, Int16(POLLOUT), until: deadline) {
                continue
            } else {
                return false
            }
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while reply.count < 12 {
            guard wait(fd, Int16(POLLIN), until: deadline) else { return false }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 {
                reply += buffer[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                return false
            }
        }
        // Any status line is an answer: the door works (the database has a probe of its own).
        return reply.starts(with: Array("HTTP/1.".utf8))
    }

    private static func wait(_ fd: Int32, _ events: Int16, until deadline: Date) -> Bool {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { return false }
        var p = pollfd(fd: fd, events: events, revents: 0)
        return poll(&p, 1, Int32(max(1, left * 1000))) > 0
    }
}
