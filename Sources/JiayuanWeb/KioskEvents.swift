import Foundation
import JiayuanDomain

/// One server-sent event for the screen.
public struct ScreenEvent: Sendable, Equatable {
    /// `scan`, `decision`, `occupancy`, `service` or `invalid`.
    public var name: String
    /// JSON.
    public var data: String

    /// The event in text/event-stream framing (a nameless event is a keep-alive comment).
    public var wireFormat: String { name.isEmpty ? ": keep-alive\n\n" : "event: \(name)\ndata: \(data)\n\n" }

    /// A comment that keeps idle connections (and proxies) open.
    public static let keepAlive = ScreenEvent(name: "", data: "")
}

/// Fans screen events out to every open `/api/stream` connection. At most `maxStreams` are open: a new one
/// over the cap closes the oldest (the screen needs one or two; issue 13 opened 3,000).
public actor KioskEvents {
    private var subscribers: [UUID: AsyncStream<ScreenEvent>.Continuation] = [:]
    private var order: [UUID] = []
    /// Most streams open at once.
    public let maxStreams: Int

    /// An empty broadcaster keeping at most `maxStreams` streams.
    public init(maxStreams: Int = 16) { self.maxStreams = max(1, maxStreams) }

    /// A new subscription; it ends when the returned stream is dropped.
    public func subscribe() -> AsyncStream<ScreenEvent> { subscribeWithID().0 }

    /// Ends one subscription's stream.
    public func end(_ id: UUID) {
        order.removeAll { $0 == id }
        subscribers.removeValue(forKey: id)?.finish()
    }

    /// A new subscription and its id (for `end(_:)`).
    public func subscribeWithID() -> (AsyncStream<ScreenEvent>, UUID) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<ScreenEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        while subscribers.count >= maxStreams, let oldest = order.first { end(oldest) }
        subscribers[id] = continuation
        order.append(id)
        let pinger = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                continuation.yield(.keepAlive)
            }
        }
        continuation.onTermination = { [weak self] _ in
            pinger.cancel()
            Task { await self?.remove(id) }
        }
        return (stream, id)
    }

    private func remove(_ id: UUID) {
        order.removeAll { $0 == id }
        subscribers[id] = nil
    }

    /// Sends an event to every subscriber.
    public func publish(_ event: ScreenEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    /// How many screens are listening.
    public var subscriberCount: Int { subscribers.count }

    /// Ends every stream (on shutdown).
    public func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        order.removeAll()
    }
}
