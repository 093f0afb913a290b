import Foundation
import JiayuanDomain
import JiayuanTestSupport
import Testing

@testable import JiayuanKiosk

@Suite("doctor: scanners")
struct DoctorScannerTests {
    @Test("scanner sources are read as serve reads them: a serial speed, a kind in capitals, a relative FIFO, a bad source")
    func sources() throws {
        let dir = TemporaryDirectory("doctor-scanner")
        defer { dir.remove() }
        let device = dir.path + "/ttyUSB0"
        FileManager.default.createFile(atPath: device, contents: nil)
        func check(_ source: String) -> DoctorCheck { Doctor.scanner(ScannerConfig(name: "lobby", source: source), dataPath: dir.path) }

        let serial = check("serial:\(device)@115200")
        #expect(serial.verdict == .ok && serial.detail.hasSuffix("plugged in"), "\(serial.detail)")
        #expect(check("EVDEV:\(device)").verdict == .ok)
        let missing = check("evdev:\(dir.path)/gone")
        #expect(missing.verdict == .problem && missing.detail.contains("not plugged in"))
        #expect(check("fifo:scan.fifo").detail.hasSuffix("created when the kiosk starts"))
        #expect(check("stdin").verdict == .ok)
        let bad = check("serial:\(device)@12345")
        #expect(bad.verdict == .problem && bad.detail.contains("unsupported baud rate"))
        #expect(check("usb:\(device)").verdict == .problem)
    }
}
