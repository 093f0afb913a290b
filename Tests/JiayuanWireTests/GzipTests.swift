import Foundation
import JiayuanDomain
import JiayuanGzip
import JiayuanProcess
import JiayuanTestSupport
import JiayuanWire
import Testing

/// Runs `/bin/gzip` with `arguments`, feeding nothing on stdin; returns stdout and the exit status.
func runGzip(_ arguments: [String]) throws -> (output: [UInt8], status: Int32) {
    let process = ChildProcess()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()  // read before waiting: no pipe deadlock
    process.waitUntilExit()
    return ([UInt8](data), process.terminationStatus)
}

func temporaryFile(_ name: String, _ contents: [UInt8]) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jiayuan-gzip-\(UUID().uuidString)-\(name)")
    try Data(contents).write(to: url)
    return url
}

func decompressError(_ data: [UInt8], limit: Int) -> GzipError? {
    do {
        _ = try Gzip.decompress(data, limit: limit)
        return nil
    } catch {
        return error
    }
}

/// About 1 MB of realistic batch JSON.
func megabyteOfBatchJSON() -> [UInt8] {
    var rng = SeededGenerator(seed: 7)
    var events: [WireEvent] = []
    var prev = Fixtures.hash0
    var seq: Int64 = 1
    while events.count < 3_000 {
        var e = Fixtures.event(seq: seq)
        e.id = String(rng.next(), radix: 16) + "-" + String(rng.next(), radix: 16)
        e.prevHash = prev
        e.hash =
            String(rng.next(), radix: 16) + String(rng.next(), radix: 16) + String(rng.next(), radix: 16) + String(rng.next(), radix: 16)
        e.venue = ["gym", "pool", "活动室"][Int(rng.next() % 3)]
        prev = e.hash
        seq += 1
        events.append(e)
    }
    var json = UploadBatch(kiosk: "K-LOBBY-1", centre: "C-01", events: events).json()
    json = Array(json.prefix(1 << 20))
    return json
}

@Suite("gzip", .blocking)
struct GzipTests {
    @Test("1 MB of batch JSON round-trips and shrinks")
    func roundTripMegabyte() throws {
        let json = megabyteOfBatchJSON()
        #expect(json.count == 1 << 20)
        let packed = Gzip.compress(json)
        #expect(packed.count < json.count / 2)
        #expect(Array(packed.prefix(3)) == [0x1F, 0x8B, 0x08])  // gzip magic + deflate
        #expect(try Gzip.decompress(packed, limit: json.count) == json)
        let best = Gzip.compress(json, level: 9)
        #expect(best.count <= packed.count)
        #expect(try Gzip.decompress(best, limit: 1 << 30) == json)
    }

    @Test("random (incompressible) bytes round-trip")
    func randomBytes() throws {
        var rng = SeededGenerator(seed: 99)
        for size in [0, 1, 2, 100, 65_536, 300_001] {
            let data = (0..<size).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let packed = Gzip.compress(data)
            #expect(packed.count <= data.count + data.count / 1000 + 64)  // stored blocks: 5 bytes per 16 KiB
            #expect(try Gzip.decompress(packed, limit: size) == data)
        }
    }

    @Test("every level 1...9 round-trips; out-of-range levels are clamped")
    func levels() throws {
        let text = bytes(String(repeating: "长者 gym in accepted scan ", count: 2_000))
        for level: Int32 in [-5, 0, 1, 2, 5, 9, 12] {
            #expect(try Gzip.decompress(Gzip.compress(text, level: level), limit: text.count) == text)
        }
    }

    @Test("Data overloads round-trip")
    func dataOverloads() throws {
        let data = Data(bytes(String(repeating: "abc", count: 1000)))
        let packed: Data = Gzip.compress(data)
        #expect(try Gzip.decompress(packed, limit: data.count) == data)
    }

    @Test("limit below the decompressed size throws tooLarge; exactly the size is fine")
    func limit() throws {
        let json = megabyteOfBatchJSON()
        let packed = Gzip.compress(json)
        #expect(decompressError(packed, limit: json.count - 1) == .tooLarge(limit: json.count - 1))
        #expect(decompressError(packed, limit: 1000) == .tooLarge(limit: 1000))
        #expect(decompressError(packed, limit: 0) == .tooLarge(limit: 0))
        #expect(decompressError(packed, limit: json.count) == nil)
        #expect(try Gzip.decompress(Gzip.compress([]), limit: 0) == [])
        #expect(GzipError.tooLarge(limit: 10).description == "gzip data expands to more than 10 bytes")
    }

    @Test("a zip bomb stops at the limit")
    func zipBomb() throws {
        let zeros = [UInt8](repeating: 0, count: 64 << 20)  // 64 MiB of zeros → ~64 KB compressed
        let bomb = Gzip.compress(zeros, level: 9)
        #expect(bomb.count < 200_000)
        #expect(decompressError(bomb, limit: 1 << 20) == .tooLarge(limit: 1 << 20))
    }

    @Test("corrupted gzip data throws corrupt")
    func corrupted() throws {
        let json = megabyteOfBatchJSON()
        let packed = Gzip.compress(json)
        // Flip bits at spread-out positions: header, deflate data, CRC, length.
        for position in [0, 1, 2, 3, 100, packed.count / 2, packed.count - 8, packed.count - 1] {
            var bad = packed
            bad[position] ^= 0x55
            guard case .corrupt(let why)? = decompressError(bad, limit: 1 << 22) else {
                Issue.record("flip at \(position) not reported as corrupt")
                continue
            }
            #expect(!why.isEmpty)
        }
        var crc = packed
        crc[crc.count - 6] ^= 1
        #expect(decompressError(crc, limit: 1 << 22) == .corrupt("CRC-32 checksum mismatch (incorrect data check)"))
        #expect(decompressError(bytes("hello, not gzip"), limit: 100) == .corrupt("not in gzip format (incorrect header check)"))
        #expect(decompressError([], limit: 100) == .corrupt("the input is empty, not a gzip stream"))
        #expect(decompressError(packed + [0, 1, 2], limit: 1 << 22)?.description.contains("unexpected bytes after the end") == true)
    }

    @Test("truncated gzip data throws corrupt at every cut")
    func truncated() throws {
        let small = Gzip.compress(bytes("{\"kiosk\":\"K-LOBBY-1\",\"centre\":\"C-01\",\"events\":[]}"))
        for n in 0..<small.count {
            let error = decompressError(Array(small[..<n]), limit: 1 << 20)
            guard case .corrupt? = error else {
                Issue.record("cut at \(n) gave \(String(describing: error))")
                continue
            }
        }
        let big = Gzip.compress(megabyteOfBatchJSON())
        for n in stride(from: 1, to: big.count, by: 997) {
            guard case .corrupt? = decompressError(Array(big[..<n]), limit: 1 << 22) else {
                Issue.record("cut at \(n) of the 1 MB stream not reported as corrupt")
                continue
            }
        }
        #expect(
            decompressError(Array(big.dropLast()), limit: 1 << 22) == .corrupt("the stream is truncated (it ends before the gzip trailer)"))
    }

    @Test("concatenated gzip members decompress to the concatenation")
    func concatenatedMembers() throws {
        let a = bytes("first member 一 "), b = bytes("second member 二")
        #expect(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), limit: 1000) == a + b)
    }

    @Test("a stream written by the system gzip command decompresses")
    func systemGzipInterop() throws {
        let json = megabyteOfBatchJSON()
        let file = try temporaryFile("batch.json", json)
        defer { try? FileManager.default.removeItem(at: file) }
        for flag in ["-1", "-6", "-9"] {
            let (packed, status) = try runGzip([flag, "-c", "-n", file.path])
            #expect(status == 0)
            #expect(try Gzip.decompress(packed, limit: json.count) == json)
        }
        // With a file name in the header (FNAME flag) as gzip writes by default.
        let (named, status) = try runGzip(["-c", file.path])
        #expect(status == 0 && named[3] & 0x08 != 0)
        #expect(try Gzip.decompress(named, limit: json.count) == json)
    }

    @Test("a stream written by Gzip.compress is accepted by the system gzip command")
    func systemGunzipInterop() throws {
        let json = megabyteOfBatchJSON()
        let file = try temporaryFile("batch.json.gz", Gzip.compress(json))
        defer { try? FileManager.default.removeItem(at: file) }
        let (plain, status) = try runGzip(["-d", "-c", file.path])
        #expect(status == 0)
        #expect(plain == json)
    }

    @Test("a compressed upload body parses after decompression")
    func compressedUpload() throws {
        var rng = SeededGenerator(seed: 3)
        let batch = Fixtures.randomBatch(&rng, maxEvents: 50)
        let wire = Gzip.compress(batch.json())
        #expect(try UploadBatch(json: Gzip.decompress(wire, limit: 8 << 20)) == batch)
    }
}
