import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanSync
import JiayuanWire
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// `jiayuan upload`: send the attendance log to the district hub.
struct Upload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send the attendance log to the district hub (until nothing is left; --once: one pass, exit 1 if anything is left).")
    @OptionGroup var data: DataOption
    @Flag(help: "One pass without retrying; exit 1 when anything is left unsent.") var once = false
    @Option(help: "The hub's address (default: [upload] hub in jiayuan.toml).") var hub: String?
    @Option(help: "Read this kiosk's token from FILE (default: $JIAYUAN_UPLOAD_TOKEN, else [upload] token in jiayuan.toml).")
    var tokenFile: String?
    /// Gone: a token on the command line shows in `ps`. Kept only to say so (exit 64).
    @Option(help: .hidden) var token: String?
    @Flag(help: "Start uploading again after a refused chain (once the district has checked the log).") var clearConflict = false

    func validate() throws {
        if token != nil {
            throw ValidationError(
                "--token is gone: a token on the command line shows in ps; use [upload] token in jiayuan.toml, --token-file FILE or JIAYUAN_UPLOAD_TOKEN"
            )
        }
    }

    func run() async throws {
        let kiosk = try data.open()
        if clearConflict {
            try kiosk.database.clearUploadConflict(at: Date())
            print("upload conflict cleared; uploads start again")
        }
        let token = try UploadSettings.token(file: tokenFile, environment: ProcessInfo.processInfo.environment)
        let uploader = Uploader(kiosk: kiosk, settings: try UploadSettings(config: kiosk.config.upload, hub: hub, token: token))
        let bar = Progress(total: try kiosk.database.uploadState().backlog)
        let runner = UploadRunner(uploader: uploader, maxRetryWait: min(60, uploader.settings.retryMax))
        let outcome = try await runner.run(.drain(retry: !once)) { progress in
            switch progress {
            case .sent(let count, _): bar.show(sent: Int64(count))
            case .rewound(let expected): bar.note("the hub asked for the log again from seq \(expected)")
            case .stopped: break
            case .failed(let message, let wait):
                let left = (try? kiosk.database.uploadState().backlog) ?? 0
                bar.note(String(format: "%@; trying again in %.0f s (%lld left)", message, wait, left))
            case .busy(let wait):
                bar.note(String(format: "the hub is busy; trying again in %.0f s", wait))
            }
        }
        bar.finish()
        switch outcome {
        case .drained(let sent):
            let state = try kiosk.database.uploadState()
            print("uploaded \(sent) events; the hub holds everything through seq \(state.acknowledgedThrough)")
        case .conflict(let seq, let reason?):
            throw conflictExit("the hub refused event \(seq): \(reason)")
        case .conflict(let seq, nil):
            let why = (try? kiosk.database.uploadState().conflictReason) ?? nil
            throw conflictExit("uploads are stopped: the hub refused event \(seq)\(why.map { ": \($0)" } ?? "")")
        case .refused(let message), .failed(let message):
            throw KioskError("\(try kiosk.database.uploadState().backlog) events left unsent: \(message)")
        }
    }
}

private func conflictExit(_ line: String) -> ExitCode {
    FileHandle.standardError.write(Data("jiayuan: \(line)\n".utf8))
    FileHandle.standardError.write(
        Data("  Nothing was deleted. Ask the district office to check this kiosk's log, then run: jiayuan upload --clear-conflict\n".utf8))
    return ExitCode(1)
}

/// A progress bar on a terminal (stderr), plain lines otherwise. Called from the upload loop only.
final class Progress: @unchecked Sendable {
    let total: Int64
    let terminal = isatty(2) == 1
    private var drawn = false
    private var done: Int64 = 0

    init(total: Int64) { self.total = total }

    func show(sent: Int64) {
        done += sent
        guard terminal, total > 0 else { return }
        let width = 30
        let filled = Int(Double(min(done, total)) / Double(total) * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r上传 uploading \(bar) \(done)/\(total) events".utf8))
        drawn = true
    }

    func note(_ line: String) {
        finish()
        FileHandle.standardError.write(Data("jiayuan: \(line)\n".utf8))
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
        drawn = false
    }
}
