import Foundation
import Hummingbird
import JiayuanStore
import NIOCore

/// The staff console's request context: who sent the request and, once `SessionMiddleware` has let it
/// through, the signed-in account with its session's CSRF token.
public struct ConsoleContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's address (the sign-in throttle and locks are kept per address).
    public let remoteAddress: SocketAddress?
    /// The signed-in account (set by `SessionMiddleware`).
    public var staff: StaffAccount?
    /// The session's form token (set by `SessionMiddleware`).
    public var csrf: String = ""
    /// The session cookie's value (for log-out).
    public var sessionToken: String?

    /// Creates the context for one request.
    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Console forms are small: a body over 64 KB is refused before it is read.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The address the throttle and the sign-in locks are kept under (`unknown` for a test transport).
    var sourceAddress: String { remoteAddress?.ipAddress ?? "unknown" }

    /// The account, for handlers behind `SessionMiddleware` (which guarantees it).
    var account: StaffAccount {
        get throws {
            guard let staff else { throw ConsoleError.signInRequired }
            return staff
        }
    }
}

/// Why the console refused a request, as cases a caller can switch on; each becomes a page in plain words.
public enum ConsoleError: Error, Equatable, Sendable {
    /// No live session: the browser is sent to the log-in page.
    case signInRequired
    /// A POST without the session's form token.
    case formTokenMissing
    /// A form that could not be read (garbage, wrong encoding, a value of the wrong kind).
    case unreadableForm
    /// A page that is not there (an unknown member id, a job that does not exist).
    case notFound
    /// An admin-only page.
    case adminsOnly
    /// Too many sign-in attempts from one computer.
    case throttled(retryAfter: Int)
}
