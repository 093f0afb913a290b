import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

#if canImport(Glibc)
    import Glibc
#endif

/// The bounds one HTTP listener keeps so that no client can stop the kiosk answering (issue 13, item 3):
/// how many connections may be open at once, and how long a client has to send a whole request.
public struct ConnectionLimits: Hashable, Sendable {
    /// Most connections open at once. Over it, the connection that has waited longest for its request is
    /// closed; connections being answered (an event stream, a check-in) are never cut short, and when all are
    /// being answered the newcomer is closed.
    public var maxConnections: Int
    /// Time a client has to send a whole request, head and body, counted from its connection or from the end
    /// of the previous answer (so it also ends idle keep-alive connections).
    public var requestTimeout: Duration
    /// Extra sockets the listener may hold while over-the-cap ones are being closed; at `maxConnections +
    /// closingMargin` it stops accepting until some have closed (so descriptors are never exhausted).
    public var closingMargin: Int

    /// Creates limits.
    public init(maxConnections: Int, requestTimeout: Duration, closingMargin: Int = 16) {
        self.maxConnections = max(1, maxConnections)
        self.requestTimeout = requestTimeout
        self.closingMargin = max(1, closingMargin)
    }

    /// Descriptors kept back for everything that is not a connection: the database and its WAL, the print
    /// spooler and CUPS, scanners, voice, uploads, logs, the watchdog's own probe.
    public static let reservedDescriptors = 96

    /// Limits for one of the kiosk's two doors (the resident door and the staff console): each may use half
    /// of the descriptors left after `reservedDescriptors`, closing margin included; at least 8 connections,
    /// at most 1,024. Under the 1,024 of an unset unit that is 448 connections; under 256, 64.
    public static func door(
        descriptorLimit: Int = DescriptorLimit.current(), requestTimeout: Duration = .seconds(10)
    ) -> ConnectionLimits {
        let share = (descriptorLimit - reservedDescriptors) / 2
        return ConnectionLimits(maxConnections: min(1024, max(8, share - 16)), requestTimeout: requestTimeout, closingMargin: 16)
    }

    /// The accepted-socket bound at which the listener pauses accepting.
    public var acceptBound: Int { maxConnections + closingMargin }

    var requestTimeoutAmount: TimeAmount {
        let c = requestTimeout.components
        return .nanoseconds(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000)
    }
}

/// The process's descriptor limit.
public enum DescriptorLimit {
    /// The soft `RLIMIT_NOFILE` (what `open` and `accept` run into); 1,024 when it cannot be read.
    public static func current() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return limit.rlim_cur > rlim_t(1 << 20) ? 1 << 20 : Int(limit.rlim_cur)
    }
}

/// Keeps one listener within its `ConnectionLimits`: counts its connections, closes the longest-waiting
/// idle one over the cap, and closes a connection whose request is not complete in time. Apply it to a
/// listener with `server` (or `http1Configuration` inside a TLS builder) and `configuration(address:)`, and
/// call `listening(on:)` from `onServerRunning` so the watchdog can probe the door.
public final class ConnectionGuard: @unchecked Sendable {
    /// The limits kept.
    public let limits: ConnectionLimits
    let logger: Logger
    private let lock = NSLock()
    private var entries: [ObjectIdentifier: Entry] = [:]
    private var closing = 0
    private var bound: SocketAddress?
    private var tally = Counters()

    struct Entry {
        let channel: any Channel
        /// When it began waiting for a (complete) request; nil while a request is being answered.
        var waitingSince: NIODeadline?
        /// Chosen to be closed over the cap; no longer counted against it.
        var closing = false
    }

    /// What the guard has done so far (for logs and tests).
    public struct Counters: Sendable, Hashable {
        /// Idle connections closed because the cap was reached.
        public var closedOverCap = 0
        /// Connections closed because their request was not complete in time.
        public var closedSlow = 0
    }

    /// A guard keeping `limits`.
    public init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// The HTTP/1 channel configuration that applies the limits to each connection.
    public var http1Configuration: HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(additionalChannelHandlers: [ConnectionGuardHandler(guard: self)])
    }

    /// The HTTP/1 server builder for `Application(server:)`.
    public var server: HTTPServerBuilder { .http1(configuration: http1Configuration) }

    /// The application configuration for a listener on `address`: it pauses accepting at `limits.acceptBound`.
    public func configuration(address: BindAddress, serverName: String? = nil) -> ApplicationConfiguration {
        ApplicationConfiguration(
            address: address, serverName: serverName,
            availableConnectionsDelegate: MaximumAvailableConnections(limits.acceptBound, logger: logger))
    }

    /// Records the address the listener is bound to (call it from `onServerRunning`).
    public func listening(on channel: any Channel) {
        lock.withLock { bound = channel.localAddress }
    }

    /// Records the address to probe directly (tests).
    func listening(at address: SocketAddress) {
        lock.withLock { bound = address }
    }

    /// The address the listener is bound to, once it listens.
    public var address: SocketAddress? { lock.withLock { bound } }

    /// Connections open now (those being closed over the cap not counted).
    public var openConnections: Int { lock.withLock { entries.count - closing } }

    /// What the guard has done so far.
    public var counters: Counters { lock.withLock { tally } }

    // MARK: Called by each connection's handler (on its event loop)

    func opened(_ channel: any Channel) {
        let victim: (any Channel)? = lock.withLock {
            entries[ObjectIdentifier(channel)] = Entry(channel: channel, waitingSince: .now())
            guard entries.count - closing > limits.maxConnections else { return nil }
            // The longest-waiting idle connection goes (the newcomer itself when all others are being answered).
            guard
                let oldest = entries.filter({ !$0.value.closing && $0.value.waitingSince != nil })
                    .min(by: { $0.value.waitingSince! < $1.value.waitingSince! })
            else { return nil }
            entries[oldest.key]?.closing = true
            closing += 1
            tally.closedOverCap += 1
            return oldest.value.channel
        }
        if let victim {
            logger.debug("connection closed: too many open", metadata: ["http.open": "\(limits.maxConnections)"])
            victim.close(promise: nil)
        }
    }

    func closed(_ channel: any Channel) {
        lock.withLock {
            if let entry = entries.removeValue(forKey: ObjectIdentifier(channel)), entry.closing { closing -= 1 }
        }
    }

    func answering(_ channel: any Channel) {
        lock.withLock { entries[ObjectIdentifier(channel)]?.waitingSince = nil }
    }

    func waiting(_ channel: any Channel) {
        lock.withLock { entries[ObjectIdentifier(channel)]?.waitingSince = .now() }
    }

    func timedOut(_ channel: any Channel) {
        lock.withLock { tally.closedSlow += 1 }
        logger.debug("connection closed: request not complete in time")
    }
}

/// One connection's part of the guard: registers the connection, tells the guard whether it is waiting
/// for a request or being answered, and closes it when a request is not complete by the deadline.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let connections: ConnectionGuard
    private var requestsRead = 0
    private var answersWritten = 0
    private var deadline: Scheduled<Void>?
    private var registered = false

    init(guard connections: ConnectionGuard) { self.connections = connections }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop(context)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop(context) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            requestsRead += 1
            if requestsRead > answersWritten {
                deadline?.cancel()
                deadline = nil
                connections.answering(context.channel)
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            answersWritten += 1
            if requestsRead <= answersWritten {
                connections.waiting(context.channel)
                armDeadline(context)
            }
        }
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        connections.opened(context.channel)
        armDeadline(context)
    }

    private func stop(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if registered {
            registered = false
            connections.closed(context.channel)
        }
    }

    /// The next request must be complete within the limit from now.
    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: connections.limits.requestTimeoutAmount) {
            self.deadline = nil
            guard self.requestsRead <= self.answersWritten, context.channel.isActive else { return }
            self.connections.timedOut(context.channel)
            context.close(promise: nil)
        }
    }
}
