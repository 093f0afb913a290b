import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore
import JiayuanTestSupport
import Testing

/// Through the private cupsd that kiosk/test.sh starts; its `capture` queue's backend writes each job to a file.
@Suite("Printing through a real cupsd", .blocking)
struct CUPSPrintingTests {
    /// Spools until `job` is printed (or the time is up) and returns the captured bytes. The limits only
    /// matter when something is wrong (a job prints in well under a second).
    func printThrough(_ h: PrintingHarness, _ cups: PrivateCUPS, job: PrintJob, timeout: Double = 20) async throws -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            _ = try h.printing.spoolNow()
            if let current = try h.kiosk.database.printJob(job.id), current.state == .printed, let id = current.cupsJobID {
                return try await cups.waitForCapture(job: id, timeout: 10)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test("every document prints through cupsd: the captured bytes are exactly what was sent and its QR decodes")
    func documents() async throws {
        let cups = try PrivateCUPS.ownQueue("docs")
        try cups.setFailure(nil)
        let h = try PrintingHarness(printer: "cups:" + cups.queue, cupsServer: cups.server)
        defer { h.remove() }
        let config = h.kiosk.config
        let (elder, elderCard) = h.member(.elder) { !$0.flags.contains(.lowIncome) }
        _ = try h.checkIn(elderCard, "daycare", at: "2026-11-28 08:00")
        let out = try h.checkIn(elderCard, "daycare", at: "2026-11-28 17:00")
        let (_, childCard) = h.member(.child)
        let kid = try h.checkIn(childCard, "kids", at: "2026-11-28 09:00")
        let repair = try h.kiosk.recordSlip(
            .repair, member: elder.id, details: ["address": "3 号楼 501", "problem": "灯不亮"], deadline: Fixtures.at("2026-11-29 08:00"),
            at: Fixtures.at("2026-11-28 08:00"))
        let meal = try h.kiosk.recordSlip(
            .meal, member: elder.id, details: ["delivery": "yes", "address": "3 号楼 501"], deadline: nil, at: Date())
        let queue = try h.kiosk.recordSlip(.queue, member: nil, details: ["service": "社保"], deadline: nil, at: Date())
        let receipt = try Documents.checkinReceipt(out, venue: h.kiosk.venue("daycare"), config: config)
        let cases: [(PrintDocument, String?, String)] = [
            (
                Documents.daycareReceipt(out, charge: out.charge!, venue: try h.kiosk.venue("daycare"), config: config, paid: false),
                "JYR:" + Documents.receiptNumber(seq: out.seq!), "￥26.00 元"
            ),
            (
                Documents.pickupSlip(kid, code: kid.pickupCode!, venue: try h.kiosk.venue("kids"), config: config),
                "JYK:" + kid.pickupCode!, kid.pickupCode!
            ),
            (Documents.memberCard(elder, card: elderCard, config: config), elderCard.code, elder.name),
            (Documents.repairSlip(repair, requester: elder, config: config), "JYS:" + repair.number, "灯不亮"),
            (Documents.mealSlip(meal, member: elder, config: config), "JYS:" + meal.number, "送餐单"),
            (Documents.queueTicket(queue, config: config), "JYS:" + queue.day.description + ":" + queue.number, "A001"),
            (Documents.testPage(target: "cups:capture", at: Date(), config: config), "JYT:print-test", "打印机测试页"),
            (receipt, nil, "签退凭条"),
        ]
        for (doc, qr, words) in cases {
            let job = try h.printing.enqueue(doc, number: nil)
            let captured = try #require(try await printThrough(h, cups, job: job), "\(doc.kind) never arrived")
            #expect(captured == job.bytes, "\(doc.kind): captured bytes differ")
            #expect(ESCPOSInspector(captured).textLines.contains { $0.contains(words) }, "\(doc.kind): \(words) not printed")
            #expect(try h.decodeQRs(captured) == (qr.map { [$0] } ?? []), "\(doc.kind)")
        }
    }

    @Test("an offline printer keeps the job waiting with the reason; it prints exactly once when back")
    func offlineThenBack() async throws {
        let cups = try PrivateCUPS.ownQueue("offline")
        let h = try PrintingHarness(printer: "cups:" + cups.queue, cupsServer: cups.server)
        defer {
            try? cups.setFailure(nil)
            h.remove()
        }
        // Like a USB printer that is switched off: the backend waits for it, CUPS reports offline.
        try cups.setFailure("offline-wait")
        let job = try h.printing.enqueue(Documents.testPage(target: "cups", at: Date(), config: h.kiosk.config), number: nil)
        _ = try h.printing.spoolNow()
        let sent = try #require(try h.kiosk.database.printJob(job.id))
        let cupsID = try #require(sent.cupsJobID)
        try await Task.sleep(for: .seconds(1))
        _ = try h.printing.spoolNow()
        let waiting = try #require(try h.kiosk.database.printJob(job.id))
        #expect(waiting.state == .submitted, "still with CUPS, not printed")
        #expect(!FileManager.default.fileExists(atPath: cups.captured(job: cupsID)))
        let status = try await CUPSClient(server: CUPSServer.parse(cups.server)!).printerStatus(queue: cups.queue)
        #expect(status.reasons.contains { $0.contains("offline") }, "reasons: \(status.reasons)")
        #expect(waiting.lastError?.lowercased().contains("offline") == true, "staff see why: \(waiting.lastError ?? "")")
        try cups.setFailure(nil)
        let captured = try #require(try await printThrough(h, cups, job: job))
        #expect(captured == job.bytes)
        #expect(cups.capturedFiles().filter { $0 == "job-\(cupsID).bin" }.count == 1)
        #expect(try h.kiosk.database.printJob(job.id)?.state == .printed)
    }

    @Test("a spooler restart mid-queue loses nothing and prints nothing twice")
    func restartMidQueue() async throws {
        let cups = try PrivateCUPS.ownQueue("restart")
        try cups.setFailure(nil)
        let h = try PrintingHarness(printer: "cups:" + cups.queue, cupsServer: cups.server)
        defer { h.remove() }
        let before = Set(cups.capturedFiles())
        var jobs: [PrintJob] = []
        for i in 0..<5 {
            jobs.append(
                try h.printing.enqueue(Documents.testPage(target: "restart \(i)", at: Date(), config: h.kiosk.config), number: "T\(i)"))
        }
        // The crash: job 3 was handed to CUPS (its CUPS id recorded after Create-Job) but the spooler died before
        // recording that CUPS took the document; job 4 was created in CUPS but the document never came.
        let client = CUPSClient(server: CUPSServer.parse(cups.server)!)
        try h.kiosk.database.updatePrintJob(jobs[2].id, state: .submitting, at: Date(), countAttempt: true)
        let manual = try await client.submitRaw(queue: cups.queue, title: jobs[2].title, data: jobs[2].bytes)
        try h.kiosk.database.updatePrintJob(jobs[2].id, state: .submitting, at: Date(), cupsJobID: manual)
        // Job 4: a Create-Job whose document never came (the spooler died mid-hand-over).
        struct Crash: Error {}
        var empty = 0
        do {
            _ = try client.submitRaw(queue: cups.queue, title: jobs[3].title, data: jobs[3].bytes) { id in
                empty = id
                throw Crash()
            }
        } catch is Crash {}
        try h.kiosk.database.updatePrintJob(jobs[3].id, state: .submitting, at: Date(), countAttempt: true, cupsJobID: empty)
        // A fresh spooler (as after a restart) picks everything up.
        for job in jobs { _ = try await printThrough(h, cups, job: job) }
        let states = try jobs.map { try h.kiosk.database.printJob($0.id)!.state }
        #expect(states.allSatisfy { $0 == .printed })
        let new = Set(cups.capturedFiles()).subtracting(before)
        let detail = try jobs.map { j -> String in
            let now = try h.kiosk.database.printJob(j.id)!
            return "job \(j.id) cups \(now.cupsJobID ?? -1) tries \(now.attempts) \(now.state.rawValue) \(now.lastError ?? "")"
        }
        #expect(new.count == 5, "each job printed once: \(new.sorted()) \(detail)")
        let capturedBytes = Set(try new.map { try [UInt8](Data(contentsOf: URL(fileURLWithPath: cups.captureDir + "/" + $0))) })
        #expect(capturedBytes == Set(jobs.map(\.bytes)))
    }

    @Test("paper out stops a stop-printer queue; once paper is back the spooler starts it again and each waiting job prints once")
    func stoppedQueueRecovers() async throws {
        let cups = try PrivateCUPS.ownQueue("recover")
        // CUPS's default error policy, as on a queue made without one: a failed job stops the whole printer.
        let policy = try Run.program("/usr/sbin/lpadmin", ["-h", cups.server, "-p", cups.queue, "-o", "printer-error-policy=stop-printer"])
        try #require(policy.status == 0, "lpadmin: \(policy.stderr)")
        let h = try PrintingHarness(printer: "cups:" + cups.queue, cupsServer: cups.server)
        defer {
            try? cups.setFailure(nil)
            _ = try? Run.program("/usr/sbin/cupsenable", ["-h", cups.server, cups.queue])
            h.remove()
        }
        let client = CUPSClient(server: CUPSServer.parse(cups.server)!)
        let before = Set(cups.capturedFiles())
        try cups.setFailure("media-empty")
        var jobs: [PrintJob] = []
        for i in 0..<3 {
            jobs.append(
                try h.printing.enqueue(Documents.testPage(target: "paper \(i)", at: Date(), config: h.kiosk.config), number: "P\(i)"))
        }
        // The first job fails for want of paper: CUPS stops the queue; every job waits.
        var stopped = false
        for _ in 0..<600 where !stopped {
            _ = try h.printing.spoolNow()
            stopped = try await client.printerStatus(queue: cups.queue).state == .stopped
            if !stopped { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(stopped, "the stop-printer policy stopped the queue")
        // While the paper is still out, a try to start it again ends stopped again; nothing is printed.
        h.clock.now += PrinterRecovery.interval + 1
        let tried = try h.printing.spoolNow()
        #expect(tried.resumed == [cups.queue], "the spooler started the stopped queue again: \(tried)")
        var stoppedAgain = false
        for _ in 0..<600 where !stoppedAgain {
            stoppedAgain = try await client.printerStatus(queue: cups.queue).state == .stopped
            if !stoppedAgain { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(stoppedAgain, "still out of paper: CUPS stopped it again")
        #expect(Set(cups.capturedFiles()).subtracting(before).isEmpty, "nothing printed without paper")
        #expect(try h.printing.spoolNow().resumed.isEmpty, "not tried again before the interval")
        // Paper back: no one runs cupsenable; the spooler's next try starts the queue and every job prints once.
        try cups.setFailure(nil)
        h.clock.now += PrinterRecovery.interval + 1
        for job in jobs {
            let captured = try #require(try await printThrough(h, cups, job: job), "job \(job.id) printed after the paper came back")
            #expect(captured == job.bytes)
        }
        let new = Set(cups.capturedFiles()).subtracting(before)
        #expect(new.count == jobs.count, "each waiting job printed exactly once: \(new.sorted())")
        #expect(try await client.printerStatus(queue: cups.queue).state != .stopped)
    }
}
