import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads one scanner source on a thread of its own and delivers what was scanned as an async sequence.
///
/// Every source is read with `poll()` and `read()` on a dedicated thread, never on Swift's cooperative pool:
/// - **evdev** — opened `O_RDONLY|O_NONBLOCK`, timestamps switched to `CLOCK_MONOTONIC` (`EVIOCSCLOCKID`) where the
///   kernel allows, and grabbed with `EVIOCGRAB` so the scanner's keystrokes reach no console or browser. The bytes
///   go through ``EvdevDecoder``; `poll()` wakes up within a fraction of the gap to end codes without Enter.
/// - **serial** — raw mode (`cfmakeraw`), the configured baud, 8N1, no flow control, lines through ``LineDecoder``.
/// - **fifo** — the named pipe is created (mode 0620) when missing; the reader also holds a writing end of its own
///   open, so writers may come and go without end-of-file. Lines through ``LineDecoder``.
/// - **stdin** — lines from file descriptor 0 until end of input, which ends the sequence (fd 0 is never closed).
///
/// A device that fails (unplugged: `ENODEV`, `EIO`, end of file) is closed and opened again every second until it is
/// back, with one log line each way: `scanner unplugged: PATH` and `scanner back: PATH`.
///
/// When the consumer stops (its task is cancelled or the sequence is dropped) the thread notices within 0.2 s, closes
/// its descriptors, logs `scanner stopped: SOURCE` and ends. Call ``inputs()`` once per source: a second call opens
/// the device a second time (and an evdev device can be grabbed only once).
public struct ScannerReader: Sendable {
    /// The source read.
    public let source: ScannerSource
    /// Seconds between keys (evdev) or bytes (line sources) after which a code without its end is ended (evdev) or
    /// dropped as "half a code" (line sources). Zero or less: only an end of line ends a code.
    public let gapTimeout: Double
    let log: @Sendable (String) -> Void
    /// The descriptor read for ``ScannerSource/stdin``; tests replace it with a pipe.
    var standardInput: Int32 = 0

    /// Creates a reader; nothing is opened until ``inputs()``.
    ///
    /// - Parameters:
    ///   - source: the scanner to read.
    ///   - gapTimeout: see ``gapTimeout``.
    ///   - log: receives one line per device event (opened, unplugged, back, cannot grab, stopped); it is called on
    ///     the reader's thread.
    public init(source: ScannerSource, gapTimeout: Double = 0.1, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.source = source
        self.gapTimeout = gapTimeout
        self.log = log
    }

    /// Starts the reader thread and returns what it reads: codes and junk in the order scanned.
    ///
    /// The sequence ends when stdin reaches its end; device sources never end on their own. It keeps at most the
    /// newest 256 inputs that the consumer has not taken yet.
    public func inputs() -> AsyncStream<ScanInput> {
        let (stream, continuation) = AsyncStream.makeStream(of: ScanInput.self, bufferingPolicy: .bufferingNewest(256))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.raise() }
        let worker = ReaderWorker(
            source: source, gapTimeout: gapTimeout, log: log, output: continuation, stop: stop, standardInput: standardInput)
        let thread = Thread { worker.run() }
        thread.name = "scanner \(source)"
        thread.start()
        return stream
    }
}

/// Set once the consumer is gone; read by the reader thread between polls.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func raise() {
        lock.lock()
        raised = true
        lock.unlock()
    }

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }
}

/// A failure to open or set up a source, in words for the log.
struct ReaderError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    /// The current `errno` in words, after `what` failed.
    static func errno(_ what: String) -> ReaderError {
        ReaderError("\(what): \(errorText(Glibc.errno))")
    }
}

func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// The decoder of one open source.
enum SourceDecoder {
    case evdev(EvdevDecoder)
    case lines(LineDecoder)

    var hasPendingText: Bool {
        switch self {
        case .evdev(let d): d.hasPendingText
        case .lines(let d): d.hasPendingText
        }
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>, now: Double) -> [ScanInput] {
        switch self {
        case .evdev(var d):
            defer { self = .evdev(d) }
            return d.feed(bytes)
        case .lines(var d):
            defer { self = .lines(d) }
            return d.feed(bytes, at: now)
        }
    }

    mutating func flush(now: Double) -> [ScanInput] {
        switch self {
        case .evdev(var d):
            defer { self = .evdev(d) }
            return d.flush(now: now)
        case .lines(var d):
            defer { self = .lines(d) }
            return d.flush(now: now)
        }
    }

    /// The end of input (stdin): a last line without its line end still counts.
    mutating func finish() -> [ScanInput] {
        switch self {
        case .evdev(var d):
            defer { self = .evdev(d) }
            return d.reset()
        case .lines(var d):
            defer { self = .lines(d) }
            return d.finish()
        }
    }

    /// The source failed: whatever was half-typed is half a code.
    mutating func abandon() -> [ScanInput] {
        switch self {
        case .evdev(var d):
            defer { self = .evdev(d) }
            return d.reset()
        case .lines(var d):
            defer { self = .lines(d) }
            return d.reset()
        }
    }
}

/// One open source: what to poll, what else to close, how to decode, and the clock of the decoder's times.
struct OpenSource {
    var fd: Int32
    var extraDescriptors: [Int32] = []
    var closesDescriptor = true
    var decoder: SourceDecoder
    var clock: clockid_t = CLOCK_MONOTONIC

    func close() {
        if closesDescriptor { _ = Glibc.close(fd) }
        for other in extraDescriptors { _ = Glibc.close(other) }
    }
}

/// How reading an open source ended.
enum SessionEnd {
    case stopped
    case endOfInput
    case failed(errno: Int32)
}

/// The body of a reader thread.
struct ReaderWorker: Sendable {
    let source: ScannerSource
    let gapTimeout: Double
    let log: @Sendable (String) -> Void
    let output: AsyncStream<ScanInput>.Continuation
    let stop: StopFlag
    let standardInput: Int32

    /// Poll timeout while nothing is half-typed: the most the thread takes to notice that its consumer is gone.
    static let idlePollMilliseconds: Int32 = 200
    static let reopenSeconds = 1.0
    static let evioCGrab: UInt = 0x4004_4590  // _IOW('E', 0x90, int)
    static let evioCSClockID: UInt = 0x4004_45A0  // _IOW('E', 0xa0, int)

    func run() {
        switch source {
        case .evdev(let path):
            runReopening(path: path) { try openEvdev(path) }
        case .serial(let path, let baud):
            runReopening(path: path) { try openSerial(path, baud: baud) }
        case .fifo(let path):
            runReopening(path: path) { try openFIFO(path) }
        case .stdin:
            runStandardInput()
        }
        output.finish()
        log("scanner stopped: \(source)")
    }

    // MARK: Loops

    private func runReopening(path: String, open: () throws -> OpenSource) {
        var down = false
        while !stop.isRaised {
            var session: OpenSource
            do {
                session = try open()
            } catch {
                if !down {
                    log("cannot open scanner \(path): \(error); trying again every second")
                    down = true
                }
                pause(Self.reopenSeconds)
                continue
            }
            log(down ? "scanner back: \(path)" : "scanner open: \(source)")
            down = false
            let end = read(&session)
            session.close()
            switch end {
            case .stopped:
                return
            case .endOfInput:
                log("scanner unplugged: \(path)")
            case .failed(let code) where code == ENODEV || code == EIO || code == ENXIO:
                log("scanner unplugged: \(path)")
            case .failed(let code):
                log("scanner \(path) failed (\(errorText(code))); opening it again")
            }
            down = true
            emit(session.decoder.abandon())
            pause(Self.reopenSeconds)
        }
    }

    private func runStandardInput() {
        var session = OpenSource(
            fd: standardInput, closesDescriptor: false, decoder: .lines(LineDecoder(gapTimeout: gapTimeout)))
        switch read(&session) {
        case .stopped:
            break
        case .endOfInput:
            emit(session.decoder.finish())
            log("scanner stdin: end of input")
        case .failed(let code):
            log("scanner stdin failed: \(errorText(code))")
        }
    }

    /// Reads until the consumer is gone, the input ends or a read fails.
    private func read(_ session: inout OpenSource) -> SessionEnd {
        var buffer = [UInt8](repeating: 0, count: EvdevDecoder.eventSize * 128)
        let pendingPoll = Int32(max(5, min(Double(Self.idlePollMilliseconds), gapTimeout * 250)))
        while !stop.isRaised {
            var descriptor = pollfd(fd: session.fd, events: Int16(POLLIN), revents: 0)
            let timeout = session.decoder.hasPendingText && gapTimeout > 0 ? pendingPoll : Self.idlePollMilliseconds
            let ready = poll(&descriptor, 1, timeout)
            if ready < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failed(errno: code)
            }
            if stop.isRaised { return .stopped }
            if ready > 0 {
                if descriptor.revents & Int16(POLLNVAL) != 0 { return .failed(errno: EBADF) }
                let count = buffer.withUnsafeMutableBytes { Glibc.read(session.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    emit(session.decoder.feed(buffer[0..<count], now: now(session.clock)))
                } else if count == 0 {
                    return .endOfInput
                } else {
                    let code = errno
                    if code != EAGAIN && code != EWOULDBLOCK && code != EINTR { return .failed(errno: code) }
                }
            }
            emit(session.decoder.flush(now: now(session.clock)))
        }
        return .stopped
    }

    private func emit(_ inputs: [ScanInput]) {
        for input in inputs { output.yield(input) }
    }

    /// Sleeps for `seconds`, or less when the consumer goes away.
    private func pause(_ seconds: Double) {
        let end = now(CLOCK_MONOTONIC) + seconds
        while !stop.isRaised {
            let left = end - now(CLOCK_MONOTONIC)
            if left <= 0 { return }
            _ = poll(nil, 0, Int32(min(left, 0.1) * 1000) + 1)
        }
    }

    private func now(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1_000_000_000
    }

    // MARK: Opening

    private func openEvdev(_ path: String) throws -> OpenSource {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReaderError.errno("open") }
        var clock = CLOCK_MONOTONIC
        if ioctl(fd, Self.evioCSClockID, &clock) != 0 { clock = CLOCK_REALTIME }
        if ioctl(fd, Self.evioCGrab, Int32(1)) != 0 {
            log("cannot grab scanner \(path) for the kiosk alone (\(errorText(errno))): its keys may also reach other programs")
        }
        return OpenSource(fd: fd, decoder: .evdev(EvdevDecoder(gapTimeout: gapTimeout)), clock: clock)
    }

    static let baudRates: [Int: Int32] = [
        1200: B1200, 2400: B2400, 4800: B4800, 9600: B9600, 19200: B19200, 38400: B38400, 57600: B57600,
        115200: B115200, 230400: B230400, 460800: B460800, 921600: B921600,
    ]

    private func openSerial(_ path: String, baud: Int) throws -> OpenSource {
        guard let rate = Self.baudRates[baud] else { throw ReaderError("unsupported baud rate \(baud)") }
        let fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReaderError.errno("open") }
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else {
            let error = ReaderError.errno("not a serial line")
            _ = close(fd)
            throw error
        }
        cfmakeraw(&settings)
        _ = cfsetispeed(&settings, speed_t(rate))
        _ = cfsetospeed(&settings, speed_t(rate))
        settings.c_cflag &= ~tcflag_t(PARENB | CSTOPB | CSIZE)
        settings.c_cflag &= ~tcflag_t(CRTSCTS)
        settings.c_cflag |= tcflag_t(CS8 | CLOCAL | CREAD)
        guard tcsetattr(fd, TCSANOW, &settings) == 0 else {
            let error = ReaderError.errno("cannot set \(baud) baud 8N1")
            _ = close(fd)
            throw error
        }
        _ = tcflush(fd, TCIFLUSH)
        return OpenSource(fd: fd, decoder: .lines(LineDecoder(gapTimeout: gapTimeout)))
    }

    private func openFIFO(_ path: String) throws -> OpenSource {
        var info = stat()
        if stat(path, &info) != 0 {
            guard errno == ENOENT else { throw ReaderError.errno("stat") }
            if mkfifo(path, 0o620) == 0 {
                _ = chmod(path, 0o620)  // whatever the umask
            } else if errno != EEXIST {
                throw ReaderError.errno("cannot create the FIFO")
            }
        } else if info.st_mode & S_IFMT != S_IFIFO {
            throw ReaderError("it exists and is not a FIFO")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReaderError.errno("open") }
        // Our own writer: without it, every writer that closes leaves the pipe at end of file and poll() spinning.
        let writer = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
        guard writer >= 0 else {
            let error = ReaderError.errno("open for writing")
            _ = close(fd)
            throw error
        }
        return OpenSource(fd: fd, extraDescriptors: [writer], decoder: .lines(LineDecoder(gapTimeout: gapTimeout)))
    }
}
