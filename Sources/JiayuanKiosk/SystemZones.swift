import Foundation
import JiayuanDomain

extension ZoneResolver {
    /// Zones from the system's compiled rules (`$TZDIR`, else `/usr/share/zoneinfo`, Debian's tzdata): a zone
    /// that has kept one offset without daylight saving becomes a fixed-offset zone, so the kiosk never loads
    /// ICU's zone tables (see `ZoneResolver`).
    public static let system = ZoneResolver(rules: { name in
        let directory = ProcessInfo.processInfo.environment["TZDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/share/zoneinfo"
        return FileManager.default.contents(atPath: directory + "/" + name).map { [UInt8]($0) }
    })
}
