/// An error for the person at the desk: one line, plain words, no stack trace.
public struct KioskError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
