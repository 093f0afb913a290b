import Foundation
import JiayuanCUPS
import JiayuanDomain
import JiayuanKiosk
import JiayuanPrinting
import JiayuanStore
import JiayuanTestSupport
import Testing

/// A demo kiosk in a temporary directory with a fixed clock, for printing tests.
struct PrintingHarness {
    let dir = TemporaryDirectory("printing")
    let kiosk: Kiosk
    let demo: [(Member, IssuedCard)]
    /// The kiosk's clock; tests move it on.
    let clock: Clock

    init(printer: String? = nil, cupsServer: String? = nil, at now: Date = Fixtures.at("2026-11-28 08:00")) throws {
        var data = DataDirectory(path: dir.path)
        data.demoPINRounds = 1000
        var rng = SeededRandom(seed: 5)
        demo = try data.initialize(kioskID: "print-test", demo: true, now: now, rng: &rng).demoMembers
        if printer != nil || cupsServer != nil {
            let text = demoConfig(
                try String(contentsOfFile: data.configPath, encoding: .utf8), printerTarget: printer, cupsServer: cupsServer)
            try text.write(toFile: data.configPath, atomically: true, encoding: .utf8)
        }
        let clock = Clock(now)
        self.clock = clock
        kiosk = try Kiosk.open(data, clock: { clock.now })
    }

    final class Clock: @unchecked Sendable {
        var now: Date
        init(_ now: Date) { self.now = now }
    }

    var printing: PrintService { PrintService(kiosk: kiosk) }

    func member(_ group: MemberGroup, where predicate: (Member) -> Bool = { _ in true }) -> (Member, IssuedCard) {
        demo.first { $0.0.group == group && predicate($0.0) }!
    }

    /// A check-in with the venue's receipts queued in the same transaction (as the kiosk does).
    func checkIn(_ card: IssuedCard, _ venue: String, at local: String, guardianCode: String? = nil) throws -> Decision {
        try CheckInService(kiosk: kiosk).checkIn(
            code: card.code, venue: venue, at: Fixtures.at(local), guardianCode: guardianCode, receipts: CheckInService.Receipts())
    }

    /// The decision's receipts after one spooler pass.
    func printReceipts(for d: Decision) throws -> [PrintJob] {
        _ = try printing.spoolNow()
        return try kiosk.database.printJobs(documentNumber: Documents.receiptNumber(seq: try #require(d.seq)))
    }

    /// The QR codes in an ESC/POS job, decoded with zbarimg from the raster images.
    func decodeQRs(_ bytes: [UInt8]) throws -> [String] { try ESCPOSInspector(bytes).qrCodes() }

    func remove() { dir.remove() }
}
