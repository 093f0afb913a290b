import Foundation
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore
import JiayuanTestSupport
import Testing

@Suite("Printing to file: (the embedded default)", .blocking)
struct FilePrintingTests {
    @Test("a day-care check-out prints the fee receipt: times, full day, lunch, ¥26.00, unpaid, and a QR of its number")
    func daycareReceipt() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let (elder, card) = h.member(.elder) { !$0.flags.contains(.lowIncome) }
        _ = try h.checkIn(card, "daycare", at: "2026-11-28 08:00")
        let out = try h.checkIn(card, "daycare", at: "2026-11-28 17:00")
        #expect(out.charge?.amountFen == 2600)
        let jobs = try h.printReceipts(for: out)
        let job = try #require(jobs.first)
        #expect(job.kind == "daycare-receipt")
        let path = h.dir.path + "/prints/" + PrintSpooler.fileName(job)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        #expect([UInt8](bytes) == job.bytes)
        let text = ESCPOSInspector([UInt8](bytes)).textLines.joined(separator: "\n")
        #expect(text.contains("老年人日间照料中心"))
        #expect(text.contains("￥26.00 元"))
        #expect(text.contains("全天 Full day"))
        #expect(text.contains("老饭桌 Yes"))
        #expect(text.contains("未付 Unpaid"))
        #expect(text.contains("08:00") && text.contains("17:00"))
        #expect(text.contains(elder.displayName) && !text.contains(elder.name))
        #expect(try h.decodeQRs(job.bytes) == ["JYR:" + Documents.receiptNumber(seq: out.seq!)])
        #expect(try h.kiosk.database.printJob(job.id)?.state == .printed)
    }

    @Test("a low-income elder's receipt says free")
    func freeReceipt() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let (_, card) = h.member(.elder) { $0.flags.contains(.lowIncome) }
        _ = try h.checkIn(card, "daycare", at: "2026-11-28 08:00")
        let out = try h.checkIn(card, "daycare", at: "2026-11-28 11:00")
        let job = try #require(try h.printReceipts(for: out).first)
        let text = ESCPOSInspector(job.bytes).textLines.joined(separator: "\n")
        #expect(text.contains("免费 — 低保"))
        #expect(text.contains("Free — low income"))
    }

    @Test("the children's pickup slip carries the code as text and QR, and scanning the slip checks the child out")
    func pickupSlip() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let (_, card) = h.member(.child)
        let inside = try h.checkIn(card, "kids", at: "2026-11-28 09:00")
        let code = try #require(inside.pickupCode)
        let jobs = try h.printReceipts(for: inside)
        let slip = try #require(jobs.first { $0.kind == "pickup-slip" })
        #expect(ESCPOSInspector(slip.bytes).textLines.contains { $0.contains(code) })
        let scanned = try #require(try h.decodeQRs(slip.bytes).first)
        #expect(scanned == "JYK:" + code)
        let out = try CheckInService(kiosk: h.kiosk).checkIn(code: scanned, venue: "kids", at: Fixtures.at("2026-11-28 16:00"))
        #expect(out.accepted && out.direction == .out)
    }

    @Test("every document fits the paper and its QR decodes", arguments: ["80mm", "58mm"])
    func documents(paper: String) throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let config = h.kiosk.config
        let (m, card) = h.member(.elder)
        let slip = try h.kiosk.recordSlip(
            .repair, member: m.id, details: ["address": "历下区 3 号楼 2 单元 501", "problem": "水龙头漏水 leaking tap"],
            deadline: Fixtures.at("2026-11-29 08:00"), at: Fixtures.at("2026-11-28 08:00"))
        let docs: [(PrintDocument, String)] = [
            (Documents.memberCard(m, card: card, config: config), card.code),
            (Documents.repairSlip(slip, requester: m, config: config), "JYS:" + slip.number),
            (Documents.testPage(target: "file:x", at: Fixtures.at("2026-11-28 08:00"), config: config), "JYT:print-test"),
        ]
        let width = PaperWidth(rawValue: paper)!
        for (doc, qr) in docs {
            let bytes = try ESCPOS.encode(doc, paper: width)
            let lines = ESCPOSInspector(bytes).textLines
            #expect(lines.allSatisfy { TextLayout.displayWidth($0) <= width.columns }, "\(doc.kind) overflows \(paper)")
            #expect(try h.decodeQRs(bytes) == [qr], "\(doc.kind)")
        }
    }

    @Test("a job left 'submitting' by a crash whose file was written is not written again")
    func restartAfterWrite() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let job = try h.printing.enqueue(Documents.testPage(target: "t", at: Date(), config: h.kiosk.config), number: nil)
        // The crash: the state says 'submitting' and the file is already there.
        try h.kiosk.database.updatePrintJob(job.id, state: .submitting, at: Date(), countAttempt: true)
        let path = h.dir.path + "/prints/" + PrintSpooler.fileName(job)
        try FileManager.default.createDirectory(atPath: h.dir.path + "/prints", withIntermediateDirectories: true)
        try Data("already printed".utf8).write(to: URL(fileURLWithPath: path))
        let report = try h.printing.spoolNow()
        #expect(report.printed == [job.id])
        #expect(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self) == "already printed")
        #expect(try h.kiosk.database.printJob(job.id)?.state == .printed)
        #expect(try h.kiosk.database.printJob(job.id)?.attempts == 1)
    }

    @Test("an unwritable file: target leaves the job queued with the reason, and it prints when fixed")
    func unwritable() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let blocker = h.dir.path + "/blocked"
        try Data().write(to: URL(fileURLWithPath: blocker))  // a file where the directory should be
        let job = try h.printing.enqueue(
            Documents.testPage(target: "t", at: Date(), config: h.kiosk.config), number: nil, printer: "file:blocked")
        _ = try h.printing.spoolNow()
        let waiting = try #require(try h.kiosk.database.printJob(job.id))
        #expect(waiting.state == .queued && waiting.lastError != nil && waiting.attempts == 1)
        #expect(waiting.nextAttemptAt > h.kiosk.clock(), "retried later, not at once")
        try FileManager.default.removeItem(atPath: blocker)
        try h.kiosk.database.updatePrintJob(job.id, state: .queued, at: Date(), nextAttemptAt: Date(timeIntervalSince1970: 0))
        _ = try h.printing.spoolNow()
        #expect(try h.kiosk.database.printJob(job.id)?.state == .printed)
    }

    @Test("a dead printer never blocks a check-in: the answer stands and the receipt waits in the queue")
    func deadPrinter() throws {
        let h = try PrintingHarness(printer: "cups:nowhere", cupsServer: "127.0.0.1:9")
        defer { h.remove() }
        let (_, card) = h.member(.elder) { !$0.flags.contains(.lowIncome) }
        let started = Date()
        let d = try h.checkIn(card, "daycare", at: "2026-11-28 08:30")
        #expect(d.accepted)
        let jobs = try h.printReceipts(for: d)
        #expect(Date().timeIntervalSince(started) < 10)
        let job = try #require(jobs.first)
        let stored = try #require(try h.kiosk.database.printJob(job.id))
        #expect(stored.state == .queued)
        #expect(stored.lastError?.isEmpty == false)
        #expect(try h.kiosk.database.printBacklog() == 1)
        #expect(try h.kiosk.database.verify().ok)
    }

    @Test("queue tickets are numbered per day and restart at 1 each morning")
    func queueNumbers() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let a = try h.kiosk.recordSlip(.queue, member: nil, details: [:], deadline: nil, at: Fixtures.at("2026-11-28 09:00"))
        let b = try h.kiosk.recordSlip(.queue, member: nil, details: [:], deadline: nil, at: Fixtures.at("2026-11-28 23:59"))
        let c = try h.kiosk.recordSlip(.queue, member: nil, details: [:], deadline: nil, at: Fixtures.at("2026-11-29 00:01"))
        #expect([a.number, b.number, c.number] == ["A001", "A002", "A001"])
    }

    @Test("reprint makes a new job with the same bytes")
    func reprint() throws {
        let h = try PrintingHarness()
        defer { h.remove() }
        let job = try h.printing.enqueue(Documents.testPage(target: "t", at: Date(), config: h.kiosk.config), number: "T1")
        _ = try h.printing.spoolNow()
        let again = try h.kiosk.database.reprint(job.id, target: job.target, at: h.kiosk.clock())
        _ = try h.printing.spoolNow()
        #expect(again.id != job.id && again.reprintOf == job.id && again.bytes == job.bytes)
        let files = try FileManager.default.contentsOfDirectory(atPath: h.dir.path + "/prints").filter { $0.hasSuffix(".escpos") }
        #expect(files.count == 2)
    }
}
