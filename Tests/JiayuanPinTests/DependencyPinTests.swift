import Foundation
import JiayuanTestSupport
import Testing

/// Reproducible builds: the appliance's order file and memory budget depend on the exact dependency code,
/// and Package.resolved stays out of the repository, so Package.swift pins every package the build resolves.
@Suite("Dependency pins")
struct DependencyPinTests {
    @Test("every package in the resolved graph is pinned with exact: at the version that was resolved")
    func everyResolvedPackageIsPinnedExactly() throws {
        let root = Run.packageRoot
        let manifest = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        let resolvedData = try #require(
            FileManager.default.contents(atPath: root + "/Package.resolved"), "swift build writes Package.resolved")
        let resolved = try #require(try JSONSerialization.jsonObject(with: resolvedData) as? [String: Any])
        let pins = try #require(resolved["pins"] as? [[String: Any]])
        #expect(pins.count >= 10)
        var exact: [String: String] = [:]
        let pattern = try NSRegularExpression(
            pattern: #"\.package\(url: "https://github\.com/[^/]+/([^"]+?)(?:\.git)?", exact: "([0-9.]+)"\)"#)
        for match in pattern.matches(in: manifest, range: NSRange(manifest.startIndex..., in: manifest)) {
            let name = String(manifest[Range(match.range(at: 1), in: manifest)!]).lowercased()
            exact[name] = String(manifest[Range(match.range(at: 2), in: manifest)!])
        }
        #expect(!manifest.contains("from:"), "no open-ended requirement")
        for pin in pins {
            let identity = try #require(pin["identity"] as? String)
            let version = (pin["state"] as? [String: Any])?["version"] as? String
            #expect(exact[identity] != nil, "\(identity) is resolved but not pinned in Package.swift")
            #expect(
                exact[identity] == version,
                "\(identity): Package.swift says \(exact[identity] ?? "nothing"), resolved \(version ?? "a branch")")
        }
    }
}
