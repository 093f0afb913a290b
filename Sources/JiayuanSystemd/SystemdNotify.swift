import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's readiness protocol (`sd_notify`) without libsystemd: one datagram to `$NOTIFY_SOCKET` per
/// message. Used by the kiosk (`jiayuan serve`) and the hub (`jiayuan-hub serve`), both `Type=notify`.
public enum SystemdNotify {
    /// `$NOTIFY_SOCKET` from `environment`; nil when unset or empty (not run by systemd).
    public static func socketPath(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Seconds between `WATCHDOG=1` pings: half of `$WATCHDOG_USEC` (30 s when unset), at least half a second.
    public static func watchdogInterval(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        let usec = environment["WATCHDOG_USEC"].flatMap(Double.init) ?? 30_000_000
        return max(0.5, usec / 1_000_000 / 2)
    }

    /// Sends one sd_notify datagram (`READY=1`, `WATCHDOG=1`, `STOPPING=1`, `STATUS=…`, one per line) to
    /// `path`; nothing when `path` is nil. An `@` prefix means the abstract namespace. Never
    /// throws: systemd not listening is not the program's failure.
    public static func send(_ path: String?, _ message: String) {
        guard let path else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        _ = message.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), 0, $0, length) }
            }
        }
    }
}
