import Foundation
import Hummingbird
import HummingbirdTesting
import JiayuanTestSupport
import Logging
import NIOCore
import Testing

@testable import JiayuanWeb

#if canImport(Glibc)
    import Glibc
#endif

/// The caps of issue 13, item 3, on the routes through real loopback sockets, with small limits.
@Suite("Connection limits and the watchdog's probe", .blocking)
struct ConnectionLimitsTests {
    @Test("a new event stream over the cap closes the oldest; at most 16 stay open")
    func streamCap() async {
        let events = KioskEvents()
        var streams: [AsyncStream<ScreenEvent>] = []
        for _ in 0..<40 { streams.append(await events.subscribe()) }
        #expect(await events.subscriberCount == 16)
        // The oldest ended: its iteration finishes at once.
        var oldest = streams[0].makeAsyncIterator()
        #expect(await oldest.next() == nil)
        await events.publish(ScreenEvent(name: "occupancy", data: "{}"))
        var newest = streams[39].makeAsyncIterator()
        #expect(await newest.next()?.name == "occupancy")
    }

    @Test(
        "over the connection cap the longest-waiting idle connection is closed; half-sent requests close after the time limit; the door still answers"
    )
    func connectionCapAndTimeout() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let door = ConnectionGuard(limits: ConnectionLimits(maxConnections: 8, requestTimeout: .seconds(1)), logger: Logger(label: "test"))
        let app = Application(
            router: h.router, server: door.server, configuration: door.configuration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { door.listening(on: $0) })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let slow = await onThread {
                (0..<20).compactMap { i -> RawSocket? in
                    let s = RawSocket(port: port)
                    s?.send(
                        i % 2 == 0
                            ? "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                            : "POST /api/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: 99\r\n\r\n{")
                    return s
                }
            }
            #expect(slow.count == 20)
            let address = try #require(door.address)
            #expect(await onThread { ListenerProbe.answers(address, timeout: 10) }, "the door answers while they hang")
            #expect(door.openConnections <= 8, "\(door.openConnections) open")
            // 30 s only bounds a failure: the limit is 1 s.
            #expect(await onThread { RawSocket.waitClosed(slow, timeout: 30) } == 20)
            #expect(door.counters.closedOverCap >= 12)
            #expect(door.counters.closedSlow >= 1)
            // (The test client's own idle connection was the oldest waiting one: it was closed for the newcomers.)
            #expect(await onThread { ListenerProbe.answers(address, timeout: 10) })
        }
    }

    @Test("the watchdog pings while its door answers and stops when the door is wedged")
    func watchdogProbesTheDoor() async throws {
        let h = try ServerHarness()
        defer { h.remove() }
        let dir = TemporaryDirectory("watchdog")
        defer { dir.remove() }
        let notifyPath = dir.path + "/notify.sock"
        let notify = ServeProcessTests.notifySocket(notifyPath)
        defer { close(notify) }
        let environment = ["NOTIFY_SOCKET": notifyPath, "WATCHDOG_USEC": "1000000"]

        // A wedged door: a socket that listens (connections complete in the kernel) but never accepts or answers.
        let wedged = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(wedged) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(wedged, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(wedged, 64)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(wedged, $0, &length) }
        }
        let wedgedDoor = ConnectionGuard(limits: .door(), logger: Logger(label: "test"))
        wedgedDoor.listening(at: try SocketAddress(ipAddress: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port))))

        @Sendable func pings(_ door: ConnectionGuard) async throws -> Int {
            _ = await onThread { ServeProcessTests.receiveAll(notify) }
            let watchdog = WatchdogService(
                kiosk: h.kiosk, coordinator: h.coordinator, logger: Logger(label: "test"), door: door, environment: environment)
            let task = Task { try await watchdog.loop() }
            try await Task.sleep(for: .seconds(3))
            task.cancel()
            _ = try? await task.value
            return await onThread { ServeProcessTests.receiveAll(notify) }.filter { $0.contains("WATCHDOG=1") }.count
        }
        let wedgedPings = try await pings(wedgedDoor)
        #expect(wedgedPings == 0, "a wedged door stops the pings, though the database answers")

        let door = ConnectionGuard(limits: .door(), logger: Logger(label: "test"))
        let app = Application(
            router: h.router, server: door.server, configuration: door.configuration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { door.listening(on: $0) })
        try await app.test(.live) { _ in
            let livePings = try await pings(door)
            #expect(livePings > 0, "a door that answers keeps them going")
        }
    }

    @Test("each door gets half the descriptors left after the reserve")
    func doorLimits() {
        #expect(ConnectionLimits.door(descriptorLimit: 1024).maxConnections == 448)
        #expect(ConnectionLimits.door(descriptorLimit: 256).maxConnections == 64)
        #expect(ConnectionLimits.door(descriptorLimit: 256).acceptBound * 2 + ConnectionLimits.reservedDescriptors <= 256)
        #expect(ConnectionLimits.door(descriptorLimit: 64).maxConnections == 8)
        #expect(ConnectionLimits.door(descriptorLimit: 1 << 20).maxConnections == 1024)
    }
}
