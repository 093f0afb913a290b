import Foundation
import JiayuanDomain
import JiayuanGzip
import JiayuanWire

/// The hub's upload body reader (`UploadBatch(json:)`), the hand-written JSON parser on raw bytes.
///
/// Invariants: every failure is a `WireError` naming a byte offset inside the body; a batch read successfully is
/// valid JSON to Foundation's own parser with the same values (differential check), encodes (`json()`) to bytes that
/// read back as the same batch and encode to the same bytes again, holds no more events than allowed (one event less
/// allowed is refused), and reads the same from `[UInt8]`, `Data` and raw memory.
enum WireFuzz {
    static func run(_ data: [UInt8]) {
        let batch: UploadBatch
        do throws(WireError) {
            batch = try UploadBatch(json: data)
        } catch {
            let offset = error.message.range(of: "(at byte ", options: .backwards).flatMap { r in
                Int(error.message[r.upperBound...].prefix { $0.isNumber })
            }
            invariant(offset.map { $0 <= data.count } ?? false, "error without a byte offset in the body: \(error.message)")
            invariant((try? UploadBatch(json: Data(data))) == nil, "Data reader accepts what [UInt8] refuses")
            return
        }
        invariant((try? UploadBatch(json: Data(data))) == batch, "Data reader differs")
        invariant(data.withUnsafeBytes { try? UploadBatch(json: $0) } == batch, "raw reader differs")
        compareWithFoundation(data, batch)
        let encoded = batch.json()
        guard let again = try? UploadBatch(json: encoded) else {
            invariant(false, "the encoded batch does not read: \(String(decoding: encoded, as: UTF8.self))")
            return
        }
        invariant(again == batch, "round trip changed the batch")
        invariant(again.json() == encoded, "encoding is not stable")
        if !batch.events.isEmpty {
            invariant((try? UploadBatch(json: data, maxEvents: batch.events.count - 1)) == nil, "more events than allowed")
        }
    }

    static func compareWithFoundation(_ data: [UInt8], _ batch: UploadBatch) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] else {
            invariant(false, "accepted a body Foundation does not read as a JSON object")
            return
        }
        invariant(Set(object.keys) == ["kiosk", "centre", "events"], "keys \(object.keys.sorted())")
        invariant(object["kiosk"] as? String == batch.kiosk && object["centre"] as? String == batch.centre, "kiosk or centre differ")
        guard let events = object["events"] as? [[String: Any]], events.count == batch.events.count else {
            invariant(false, "events differ from Foundation's")
            return
        }
        for (o, e) in zip(events, batch.events) {
            func text(_ k: String) -> String? { o[k] as? String }
            func optional(_ k: String) -> String?? { o[k] is NSNull ? .some(nil) : (o[k] as? String).map { .some($0) } }
            invariant((o["seq"] as? NSNumber)?.int64Value == e.seq, "seq \(e.seq) differs")
            invariant(
                text("id") == e.id && text("at") == e.at && text("venue") == e.venue && text("direction") == e.direction
                    && text("outcome") == e.outcome && text("via") == e.via && text("prev_hash") == e.prevHash
                    && text("hash") == e.hash, "a string field differs from Foundation's in event \(e.seq)")
            invariant(
                optional("member") == e.member && optional("group") == e.group && optional("reason") == e.reason,
                "a nullable field differs in event \(e.seq)")
        }
    }
}

/// gzip bodies (`Gzip.decompress` on the hub, `Gzip.compress` on the kiosk), over the system zlib.
///
/// Invariants: decompression never returns more than its limit and fails only with a `GzipError`; the limit is exact
/// (the same data decompresses with a limit of exactly its size, and is `tooLarge` with one byte less); compressing
/// any bytes at any level decompresses to them again, also as two concatenated members.
enum GzipFuzz {
    static func run(_ data: [UInt8]) {
        var input = FuzzBytes(data)
        let limit = Int(input.byte()) << 12 | Int(input.byte())
        let level = Int32(input.byte() % 12) - 1
        let body = input.rest()
        do throws(GzipError) {
            let out = try Gzip.decompress(body, limit: limit)
            invariant(out.count <= limit, "\(out.count) bytes out with a limit of \(limit)")
            invariant((try? Gzip.decompress(body, limit: out.count)) == out, "not exact at its own size")
            if !out.isEmpty {
                do throws(GzipError) {
                    _ = try Gzip.decompress(body, limit: out.count - 1)
                    invariant(false, "a limit one byte short was not refused")
                } catch {
                    invariant(error == .tooLarge(limit: out.count - 1), "one byte short: \(error)")
                }
            }
        } catch {
            if case .tooLarge(let l) = error { invariant(l == limit, "tooLarge(\(l)) for limit \(limit)") }
        }
        let packed = Gzip.compress(body, level: level)
        invariant((try? Gzip.decompress(packed, limit: body.count)) == body, "compress/decompress lost data")
        let half = body.count / 2
        let two = Gzip.compress(Array(body[..<half]), level: level) + Gzip.compress(Array(body[half...]), level: 9)
        invariant((try? Gzip.decompress(two, limit: body.count)) == body, "two members do not decompress to both")
    }
}
