import Foundation
import Hummingbird
import JiayuanDomain
import NIOCore

/// The request context: per-request data only (dependencies live in the controllers).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who sent the request (the staff console answers loopback only while the kiosk is bound to it).
    public let remoteAddress: SocketAddress?

    /// Creates the context for one request.
    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Dedicated serial queues for blocking work, one per concern, so none of it runs on Swift's cooperative
/// pool and a slow printer or voice synthesis can never hold up a check-in. (Serial queues run on
/// libdispatch's overcommit threads; a shared concurrent queue would be only as wide as the core count.)
enum Lane {
    static let database = DispatchQueue(label: "jiayuan.database")
    static let printing = DispatchQueue(label: "jiayuan.printing")
    static let voice = DispatchQueue(label: "jiayuan.voice")
    /// The staff console: its pages' reads and writes, CUPS status, figures; never ahead of a check-in.
    static let staff = DispatchQueue(label: "jiayuan.staff")
    /// Staff PIN hashing (~0.1–0.3 s each), apart from the console's pages so a log-in storm delays no one
    /// else (and bounded: the sign-in throttle admits 10 attempts a minute per computer).
    static let pin = DispatchQueue(label: "jiayuan.pin")
    /// The watchdog's probe of the kiosk's own door (blocks up to one watchdog interval).
    static let watchdog = DispatchQueue(label: "jiayuan.watchdog")
}

/// Runs blocking `work` on `queue` (the database lane unless said) and awaits its result.
func offload<T: Sendable>(on queue: DispatchQueue = Lane.database, _ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        queue.async { continuation.resume(with: Result { try work() }) }
    }
}

/// A JSON response from text already encoded.
func jsonResponse(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
    Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
}

/// A JSON response from an `Encodable` or a dictionary of plain values.
func jsonResponse(object: Any, status: HTTPResponse.Status = .ok) -> Response {
    jsonResponse(JSONWriter.serialize(object), status: status)
}

/// An error answer: `{"error": "…"}` in plain words.
func errorResponse(_ message: String, status: HTTPResponse.Status) -> Response {
    jsonResponse(object: ["error": message], status: status)
}

extension Decision {
    /// The decision object plus the voice prompt URL, for the screen.
    func json(voice: String?) -> String {
        let base = json
        guard let voice else { return String(base.dropLast()) + ",\"voice\":null}" }
        var quoted = ""
        JSONWriter.appendString(voice, to: &quoted)
        return String(base.dropLast()) + ",\"voice\":\(quoted)}"
    }
}
