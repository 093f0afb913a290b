import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs with `posix_spawn`, not Foundation's `Process`: on Linux (Swift 6.3.1) `Process.run()`
/// reads `/proc/self/fd` with a 256-byte over-read of each directory entry and crashes now and then
/// (SIGSEGV in memcpy) in a process with many open descriptors — a kiosk or a hub with its sockets and
/// databases (swift-corelibs-foundation PR #5472). It is also tens of milliseconds faster per start.
/// The child gets only the descriptors given to it: every channel made here is close-on-exec.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

public enum Spawn {
    /// Why a program could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let code: Int32
        public var description: String { "cannot run \(path): \(String(cString: strerror(code)))" }
    }

    /// What a finished program left: its exit status (128 + signal when a signal ended it) and its output.
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// Starts `path` with `arguments`, stdout and stderr discarded; returns its process id.
    public static func start(_ path: String, _ arguments: [String]) throws -> pid_t {
        try spawn(path, arguments, environment: nil) { actions in
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
    }

    /// Runs `path` with `arguments`, output discarded, and waits for it; returns the exit status.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String]) throws -> Int32 {
        status(waitingFor: try start(path, arguments))
    }

    /// Runs `path` with `arguments` and `environment` (nil: this process's), feeds it `stdin` and waits,
    /// reading stdout and stderr to their ends meanwhile (so a chatty child never blocks on a full pipe).
    public static func capture(_ path: String, _ arguments: [String], environment: [String: String]?, stdin: Data?) throws -> Result {
        let input = try pipe(), output = try pipe(), errors = try pipe()
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, environment: environment) { actions in
                posix_spawn_file_actions_adddup2(&actions, input.read, 0)
                posix_spawn_file_actions_adddup2(&actions, output.write, 1)
                posix_spawn_file_actions_adddup2(&actions, errors.write, 2)
            }
        } catch {
            for fd in [input.read, input.write, output.read, output.write, errors.read, errors.write] { close(fd) }
            throw error
        }
        close(input.read)
        close(output.write)
        close(errors.write)
        // The child may exit without reading its input: a write to a closed pipe must not kill this process.
        signal(SIGPIPE, SIG_IGN)
        let feeder = Thread {
            if let stdin { stdin.withUnsafeBytes { writeAll(input.write, $0) } }
            close(input.write)
        }
        feeder.start()
        let group = DispatchGroup()
        nonisolated(unsafe) var err = Data()
        group.enter()
        Thread {
            err = readAll(errors.read)
            group.leave()
        }.start()
        let out = readAll(output.read)
        group.wait()
        close(output.read)
        close(errors.read)
        return Result(status: status(waitingFor: pid), stdout: out, stderr: err)
    }

    /// Waits for `pid` to end; its exit status, or 128 + the signal that ended it.
    public static func status(waitingFor pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }

    static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String]?, files: (inout posix_spawn_file_actions_t) -> Void
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        files(&actions)
        // Like Foundation's Process: the child keeps only 0, 1 and 2 (glibc ≥ 2.34; Glibc's Swift module does not
        // declare it, so it is bound by its C name).
        _ = addCloseFrom(&actions, 3)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        // The child starts with no signal blocked and every signal at its default (a thread of this process may
        // block or ignore some — SIGTERM must still stop the child), as Foundation's Process does.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc =
            if let envp {
                posix_spawn(&pid, path, &actions, &attributes, argv, envp)
            } else {
                posix_spawn(&pid, path, &actions, &attributes, argv, environ)
            }
        guard rc == 0 else { throw Failure(path: path, code: rc) }
        return pid
    }

    /// A one-way channel made close-on-exec atomically (a socket pair: Glibc's Swift module has no `pipe2`), so
    /// a program another thread starts at the same moment never inherits it and holds its end open.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw Failure(path: "socketpair", code: errno)
        }
        shutdown(fds[0], Int32(SHUT_WR))
        shutdown(fds[1], Int32(SHUT_RD))
        return (fds[0], fds[1])
    }

    static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                data.append(contentsOf: buffer[0..<n])
            } else if n == 0 || errno != EINTR {
                return data
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 {
                offset += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}

/// The part of Foundation's `Process` the tests and benches use, on `Spawn` (see there why): a program started
/// with `run()`, its standard streams given as `FileHandle`s or `Pipe`s, ended with `terminate()`.
public final class ChildProcess: @unchecked Sendable {
    public var executableURL: URL?
    public var arguments: [String]?
    /// Nil: this process's environment.
    public var environment: [String: String]?
    /// A `FileHandle` or a `Pipe` (its reading end for input, writing end for output); nil: /dev/null.
    public var standardInput: Any?
    public var standardOutput: Any?
    public var standardError: Any?

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var exit: Int32?

    /// A process not started yet.
    public init() {}

    /// The child's process id (0 before `run()`).
    public var processIdentifier: Int32 { lock.withLock { pid } }

    /// Starts the program.
    public func run() throws {
        guard let path = executableURL?.path else { throw Spawn.Failure(path: "", code: ENOENT) }
        func fd(_ stream: Any?, input: Bool) -> Int32? {
            switch stream {
            case let h as FileHandle: h.fileDescriptor
            case let p as Pipe: input ? p.fileHandleForReading.fileDescriptor : p.fileHandleForWriting.fileDescriptor
            default: nil
            }
        }
        let streams = [fd(standardInput, input: true), fd(standardOutput, input: false), fd(standardError, input: false)]
        let started = try Spawn.spawn(path, arguments ?? [], environment: environment) { actions in
            for (target, source) in streams.enumerated() {
                if let source {
                    posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
                } else {
                    posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
                }
            }
        }
        lock.withLock { pid = started }
        // The child has its copies; a pipe's other end must close here for its reader to see the end.
        if let p = standardInput as? Pipe { try? p.fileHandleForReading.close() }
        for case let p as Pipe in [standardOutput, standardError] { try? p.fileHandleForWriting.close() }
    }

    /// Whether it still runs (reaps it when it has ended).
    public var isRunning: Bool { reap(blocking: false) == nil }

    /// Waits until it has ended.
    public func waitUntilExit() { _ = reap(blocking: true) }

    /// The exit status, or the signal that ended it (as Foundation gives it).
    public var terminationStatus: Int32 { reap(blocking: false) ?? 0 }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends SIGINT.
    public func interrupt() { signal(SIGINT) }

    private func signal(_ number: Int32) {
        lock.withLock { if pid > 0 && exit == nil { _ = kill(pid, number) } }
    }

    private func reap(blocking: Bool) -> Int32? {
        if let done = lock.withLock({ exit }) { return done }
        let child = lock.withLock { pid }
        guard child > 0 else { return nil }
        var status: Int32 = 0
        var r: pid_t
        repeat { r = waitpid(child, &status, blocking ? 0 : WNOHANG) } while r == -1 && errno == EINTR
        return lock.withLock {
            if let done = exit { return done }
            guard r == child else { return nil }
            let signal = status & 0x7F
            exit = signal == 0 ? (status >> 8) & 0xFF : signal
            return exit
        }
    }
}
