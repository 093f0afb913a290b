/// One fuzz target: a parser fed from outside, with the invariants it must keep for any input.
struct FuzzTarget: Sendable {
    /// The name used by kiosk/fuzz.sh, `JIAYUAN_FUZZ_TARGET` and the corpus folder Tests/Fuzz/<name>/.
    var name: String
    /// Runs one input; an invariant that does not hold traps (libFuzzer reports it as a crash).
    var run: @Sendable ([UInt8]) -> Void

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "scan", run: ScanFuzz.run),
        FuzzTarget(name: "line", run: LineFuzz.run),
        FuzzTarget(name: "evdev", run: EvdevFuzz.run),
        FuzzTarget(name: "toml", run: TOMLFuzz.run),
        FuzzTarget(name: "config", run: ConfigFuzz.run),
        FuzzTarget(name: "csv", run: CSVFuzz.run),
        FuzzTarget(name: "wire", run: WireFuzz.run),
        FuzzTarget(name: "gzip", run: GzipFuzz.run),
    ]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Traps with `message` when `condition` is false: a broken invariant is a finding, like a crash.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line)
{
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Reads a fuzz input piece by piece: small numbers to steer the harness, then the rest as data.
struct FuzzBytes {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 once the input is used up.
    mutating func byte() -> UInt8 {
        guard let b = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return b
    }

    /// Up to `count` next bytes.
    mutating func take(_ count: Int) -> [UInt8] {
        let out = Array(bytes.prefix(count))
        bytes = bytes.dropFirst(out.count)
        return out
    }

    /// Everything left.
    mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }

    var isEmpty: Bool { bytes.isEmpty }
}

/// Splits `bytes` into chunks whose sizes come from `sizes` (cycled, times `scale`; 0 counts as 1), as a device's
/// reads might.
func chunks(_ bytes: [UInt8], sizes: [UInt8], scale: Int = 1) -> [[UInt8]] {
    guard !sizes.isEmpty else { return [bytes] }
    var out: [[UInt8]] = []
    var i = 0
    var k = 0
    while i < bytes.count {
        let n = max(1, Int(sizes[k % sizes.count]) * scale)
        out.append(Array(bytes[i..<min(bytes.count, i + n)]))
        i += n
        k += 1
    }
    return out
}
