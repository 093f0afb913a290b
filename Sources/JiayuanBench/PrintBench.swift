import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanPrinting
import JiayuanProcess

/// `jiayuan bench print`: encoding speed against python-escpos, and CUPS latency against `lp -o raw`.
public enum PrintBench {
    /// The benchmark's document: a full day-care fee receipt with its QR.
    public static func receipt(config: KioskConfig) -> PrintDocument {
        let venue = config.venue("daycare") ?? config.venues[0]
        let zone = config.timeZone
        let checkIn = LocalTime.instant(date: CivilDate(year: 2026, month: 11, day: 28), minute: 8 * 60, in: zone)
        let checkOut = checkIn.addingTimeInterval(9 * 3600)
        let charge = DaycareCharge(kind: .fullDay, lunch: true, amountFen: 2600, free: false, checkedInAt: checkIn, checkedOutAt: checkOut)
        let member = MemberSummary(id: MemberID("M000123")!, displayName: "王*英", group: .elder)
        let decision = Decision(
            outcome: .accepted, direction: .out, member: member, venue: venue.id, seq: 4242, at: checkOut, inside: 12,
            capacity: venue.capacity,
            message: Bilingual(zh: "", en: ""), charge: charge)
        return Documents.daycareReceipt(decision, charge: charge, venue: venue, config: config, paid: false)
    }

    /// Encodes the receipt `count` times; returns seconds and the bytes of one.
    public static func encode(_ doc: PrintDocument, paper: PaperWidth, count: Int) throws -> (seconds: Double, bytes: [UInt8]) {
        var out = try ESCPOS.encode(doc, paper: paper)
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count { out = try ESCPOS.encode(doc, paper: paper) }
        return ((clock.now - start).seconds, out)
    }

    /// The document as JSON blocks for `kiosk/dev/escpos_bench.py`.
    public static func blocksJSON(_ doc: PrintDocument, paper: PaperWidth) -> String {
        var items: [[String: Any]] = []
        for block in doc.blocks {
            switch block {
            case .title(let t): items.append(["type": "title", "text": t])
            case .big(let t): items.append(["type": "big", "text": t])
            case .text(let t, let align, let bold):
                items.append([
                    "type": "text", "text": t, "align": align == .center ? "center" : align == .right ? "right" : "left", "bold": bold,
                ])
            case .row(let l, let v): items.append(["type": "row", "label": l, "value": v])
            case .separator: items.append(["type": "separator"])
            case .qr(let d, let caption): items.append(["type": "qr", "data": d, "caption": caption ?? ""])
            case .footer(let t): items.append(["type": "footer", "text": t])
            case .feed(let n): items.append(["type": "feed", "lines": n])
            }
        }
        let object: [String: Any] = ["columns": paper.columns, "blocks": items]
        return String(decoding: (try? JSONSerialization.data(withJSONObject: object)) ?? Data(), as: UTF8.self)
    }

    /// Runs the Python side with `python` (a venv with python-escpos); returns receipts per second.
    public static func python(_ python: String, script: String, doc: PrintDocument, paper: PaperWidth, count: Int) throws -> Double {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, String(count)]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(blocksJSON(doc, paper: paper).utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
            let result = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let seconds = result["seconds"] as? Double, seconds > 0
        else { throw KioskError("the python-escpos benchmark failed (is python-escpos installed for \(python)?)") }
        return Double(count) / seconds
    }

    /// Median milliseconds from handing `bytes` over until a new file appears in `captureDir`, `runs` times,
    /// through `submit`.
    public static func captureLatency(captureDir: String, runs: Int, submit: () throws -> Void) throws -> Double {
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<runs {
            let before = Set((try? FileManager.default.contentsOfDirectory(atPath: captureDir)) ?? [])
            let start = clock.now
            try submit()
            let deadline = Date().addingTimeInterval(20)
            while Set((try? FileManager.default.contentsOfDirectory(atPath: captureDir)) ?? []).subtracting(before)
                .filter({ !$0.hasPrefix(".") && !$0.hasSuffix(".tmp") }).isEmpty
            {
                guard Date() < deadline else { throw KioskError("nothing arrived in \(captureDir) within 20 s") }
                usleep(500)
            }
            times.append((clock.now - start).seconds * 1000)
        }
        times.sort()
        return times[times.count / 2]
    }
}

/// Loopback helpers for benchmarks and tests.
public enum Loopback {
    /// A TCP port on 127.0.0.1 that was free a moment ago.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
