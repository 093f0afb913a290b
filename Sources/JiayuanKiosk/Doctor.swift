import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanHTTP
import JiayuanPrinting
import JiayuanScanning
import JiayuanStore

#if canImport(Glibc)
    import Glibc
#endif

/// One line of `jiayuan doctor`.
public struct DoctorCheck: Sendable {
    public enum Verdict: String, Sendable { case ok = "OK", warning = "WARN", problem = "FAIL" }
    public var name: String
    public var verdict: Verdict
    public var detail: String
    /// For the printer: its CUPS queue is stopped or refuses jobs (staff can start it again).
    public var stopped = false
    /// For the printer: what is wrong in words, once in each language (for the console's alert).
    public var words: Bilingual?
}

/// Health checks in plain words for front-desk staff.
public enum Doctor {
    /// Runs every check it can; a check that cannot run is itself reported.
    public static func run(_ data: DataDirectory, now: Date = Date()) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let kiosk: Kiosk
        do {
            kiosk = try Kiosk.open(data)
            checks.append(
                DoctorCheck(name: "config", verdict: .ok, detail: "\(data.configPath) is valid (\(kiosk.config.venues.count) venues)"))
        } catch {
            checks.append(DoctorCheck(name: "config", verdict: .problem, detail: KioskError.describe(error)))
            return checks
        }
        do {
            let report = try kiosk.database.verify()
            if report.ok {
                checks.append(
                    DoctorCheck(name: "database", verdict: .ok, detail: "integrity ok, event chain ok (\(report.eventCount) events)"))
            } else if let p = report.chainProblem {
                checks.append(
                    DoctorCheck(
                        name: "database", verdict: .problem, detail: "the event chain is broken at seq \(p.seq): run `jiayuan verify`"))
            } else {
                checks.append(
                    DoctorCheck(
                        name: "database", verdict: .problem,
                        detail: "integrity check failed: \(report.integrityProblems.prefix(3).joined(separator: "; "))"))
            }
        } catch {
            checks.append(DoctorCheck(name: "database", verdict: .problem, detail: KioskError.describe(error)))
        }
        checks.append(disk(data.path))
        if let last = try? kiosk.database.lastEvent(), last.at > now.addingTimeInterval(60) {
            checks.append(
                DoctorCheck(
                    name: "clock", verdict: .problem,
                    detail:
                        "the clock (\(ISOTime.format(now))) is behind the last recorded event (\(ISOTime.format(last.at))): set the time"))
        } else if let back = try? kiosk.database.clockSetBack(), back.count > 0 {
            checks.append(
                DoctorCheck(
                    name: "clock", verdict: .warning,
                    detail:
                        "\(back.count) events are earlier than the one before them (the clock was set back, first at seq \(back.firstSeq)); now \(wallClock(now, kiosk.config.timeZone))"
                ))
        } else {
            checks.append(
                DoctorCheck(name: "clock", verdict: .ok, detail: "\(wallClock(now, kiosk.config.timeZone)) \(kiosk.config.timeZoneName)"))
        }
        checks.append(printer(kiosk))
        for scanner in kiosk.config.scanners { checks.append(Self.scanner(scanner, dataPath: data.path)) }
        checks.append(upload(kiosk, now: now))
        return checks
    }

    /// A configured scanner: its device is there and this user may read it (the source is read the way
    /// `jiayuan serve` reads it).
    static func scanner(_ s: ScannerConfig, dataPath: String) -> DoctorCheck {
        let name = "scanner"
        let label = "\(s.name) (\(s.source)\(s.venue.map { ", bound to \($0)" } ?? ""))"
        let source: ScannerSource
        do {
            source = try ScannerSource(parsing: s.source, baud: s.baud).resolved(relativeTo: dataPath)
        } catch {
            return DoctorCheck(name: name, verdict: .problem, detail: "\(label): \(error)")
        }
        func device(_ path: String, serial: Bool) -> DoctorCheck {
            guard FileManager.default.fileExists(atPath: path) else {
                return DoctorCheck(
                    name: name, verdict: .problem, detail: "\(label): not plugged in (\(path) is missing): check the USB cable")
            }
            guard access(path, serial ? (R_OK | W_OK) : R_OK) == 0 else {
                return DoctorCheck(
                    name: name, verdict: .problem,
                    detail:
                        "\(label): no permission to read \(path) (the kiosk user needs the \(serial ? "dialout" : "jiayuan-scanner") group: add usb_id to this [[scanner]] and run /usr/lib/jiayuan/scanner-rules)"
                )
            }
            return DoctorCheck(name: name, verdict: .ok, detail: "\(label): plugged in")
        }
        switch source {
        case .stdin: return DoctorCheck(name: name, verdict: .ok, detail: label)
        case .fifo(let path):
            return DoctorCheck(
                name: name, verdict: .ok,
                detail: "\(label): \(FileManager.default.fileExists(atPath: path) ? "ready" : "created when the kiosk starts")")
        case .evdev(let path): return device(path, serial: false)
        case .serial(let path, _): return device(path, serial: true)
        }
    }

    /// The upload backlog, the last success, a refused chain, and whether the hub answers.
    static func upload(_ kiosk: Kiosk, now: Date) -> DoctorCheck {
        guard let hub = kiosk.config.upload.hub else {
            return DoctorCheck(name: "upload", verdict: .warning, detail: "no hub configured ([upload] hub): the log stays on this kiosk")
        }
        guard let state = try? kiosk.database.uploadState() else {
            return DoctorCheck(name: "upload", verdict: .problem, detail: "cannot read the upload state")
        }
        let last = state.lastSuccessAt.map { "last success \(ISOTime.format($0))" } ?? "never uploaded"
        if let seq = state.conflictSeq {
            return DoctorCheck(
                name: "upload", verdict: .problem,
                detail:
                    "stopped: the hub refused event \(seq) (\(state.conflictReason ?? "conflict")); \(state.backlog) events waiting, \(last)"
            )
        }
        var reachable = "hub \(hub) answers"
        var verdict: DoctorCheck.Verdict = state.backlog > 5000 ? .warning : .ok
        let client = HTTPClient(timeout: .seconds(5), connectTimeout: .seconds(3), caFile: kiosk.config.upload.caFile)
        do {
            _ = try client.get(hub + "/healthz")
        } catch {
            reachable = "hub \(hub) does not answer (\(error.message))"
            verdict = .warning
        }
        if state.backlog > 0, let ok = state.lastSuccessAt, now.timeIntervalSince(ok) > 86400 { verdict = .problem }
        return DoctorCheck(name: "upload", verdict: verdict, detail: "\(state.backlog) events waiting, \(last); \(reachable)")
    }

    static func disk(_ path: String) -> DoctorCheck {
        guard let free = DataDirectory.freeBytes(path) else {
            return DoctorCheck(name: "disk", verdict: .problem, detail: "cannot read free space of \(path)")
        }
        let mb = Int(free / 1_048_576)
        if mb < 50 {
            return DoctorCheck(name: "disk", verdict: .problem, detail: "only \(mb) MB free: free space now or check-ins will stop")
        }
        if mb < 500 { return DoctorCheck(name: "disk", verdict: .warning, detail: "\(mb) MB free") }
        return DoctorCheck(name: "disk", verdict: .ok, detail: "\(mb) MB free")
    }

    /// The printer: reachable, its CUPS state reasons in plain words, the backlog.
    public static func printer(_ kiosk: Kiosk) -> DoctorCheck {
        let service = PrintService(kiosk: kiosk)
        let backlog = (try? kiosk.database.printBacklog()) ?? 0
        let waiting = backlog == 0 ? "no jobs waiting" : "\(backlog) job(s) waiting (`jiayuan print list`)"
        do {
            switch try service.target() {
            case .file(let dir):
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                guard FileManager.default.isWritableFile(atPath: dir) else {
                    return DoctorCheck(name: "printer", verdict: .problem, detail: "cannot write to \(dir)")
                }
                return DoctorCheck(name: "printer", verdict: backlog == 0 ? .ok : .warning, detail: "file:\(dir), \(waiting)")
            case .cups(let queue):
                let status = try CUPSClient(server: service.cupsServer, timeout: 5).printerStatus(queue: queue)
                let words = status.reasons.map { CUPSClient.explain(reason: $0) }
                let bad =
                    status.state == .stopped || !status.accepting
                    || status.reasons.contains {
                        $0.hasSuffix("-error") || $0.hasPrefix("offline") || $0.hasPrefix("media-empty") || $0 == "paused"
                    }
                var detail = "cups:\(queue) \(status.state.rawValue)"
                if !words.isEmpty { detail += " — " + words.map { "\($0.zh) \($0.en)" }.joined(separator: "; ") }
                if !status.accepting { detail += " — not accepting jobs" }
                detail += ", \(waiting)"
                // For the desk: a stopped queue is said once (not again as "paused"), sentences without their full stops.
                let said = status.state == .stopped ? status.reasons.filter { !$0.hasSuffix("paused") } : status.reasons
                let deskWords = said.map { CUPSClient.explain(reason: $0) }
                var zh: [String] = deskWords.map { $0.zh.trimmingCharacters(in: CharacterSet(charactersIn: "。")) }
                var en: [String] = deskWords.map { $0.en.trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
                if status.state == .stopped {
                    zh.insert("打印队列已停止", at: 0)
                    en.insert("its queue is stopped", at: 0)
                }
                if !status.accepting {
                    zh.append("不接收新任务")
                    en.append("it refuses new jobs")
                }
                if backlog > 0 {
                    zh.append("\(backlog) 张单据在等")
                    en.append("\(backlog) waiting")
                }
                return DoctorCheck(
                    name: "printer", verdict: bad ? .problem : (backlog == 0 ? .ok : .warning), detail: detail,
                    stopped: status.state == .stopped || !status.accepting,
                    words: Bilingual(zh: zh.joined(separator: "，"), en: en.joined(separator: "; ")))
            }
        } catch {
            return DoctorCheck(name: "printer", verdict: .problem, detail: "\(KioskError.describe(error)), \(waiting)")
        }
    }
}
