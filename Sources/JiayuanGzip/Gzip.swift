// gzip (RFC 1952) compression and decompression on top of the system zlib.
//
// This is the only Swift target that imports `CZlib`; the public API deals in
// `[UInt8]` (and `Data`) only, never in pointers or zlib types.

import CZlib

#if canImport(FoundationEssentials)
    import FoundationEssentials
#elseif canImport(Foundation)
    import Foundation
#endif

/// Why a gzip stream could not be decompressed.
public enum GzipError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The decompressed data would be larger than `limit` bytes (zip-bomb guard).
    /// Decompression stopped as soon as the limit was crossed.
    case tooLarge(limit: Int)
    /// The input is not a complete, undamaged gzip stream; the text says why in plain words.
    case corrupt(String)

    public var description: String {
        switch self {
        case .tooLarge(let limit):
            return "gzip data expands to more than \(limit) bytes"
        case .corrupt(let why):
            return "damaged gzip data: \(why)"
        }
    }
}

/// gzip (RFC 1952) compression and decompression of whole buffers.
public enum Gzip {
    /// gzip (RFC 1952) compression of `data` (deflateInit2 with windowBits 15+16).
    ///
    /// - Parameters:
    ///   - data: the bytes to compress (may be empty).
    ///   - level: zlib compression level 1...9; default 1 (fastest). Values outside
    ///     the range are clamped into it.
    /// - Returns: one complete gzip member (10-byte header, deflate data, CRC-32 and length trailer).
    public static func compress(_ data: [UInt8], level: Int32 = 1) -> [UInt8] {
        data.withUnsafeBytes { compress(raw: $0, level: level) }
    }

    /// Decompresses a gzip stream (one member, or several concatenated members as written
    /// by `cat a.gz b.gz`).
    ///
    /// - Parameters:
    ///   - data: the complete gzip stream.
    ///   - limit: the largest number of decompressed bytes accepted. Output buffers never
    ///     grow beyond `limit` bytes; decompression stops as soon as more output appears.
    /// - Throws: `GzipError.tooLarge(limit:)` when the output would exceed `limit` bytes;
    ///   `GzipError.corrupt(_:)` with a plain-words reason on damaged, truncated or
    ///   non-gzip input, or on trailing bytes after the stream.
    public static func decompress(_ data: [UInt8], limit: Int) throws(GzipError) -> [UInt8] {
        try withBytes(data) { (raw) throws(GzipError) in try decompress(raw: raw, limit: limit) }
    }

    #if canImport(FoundationEssentials) || canImport(Foundation)
        /// `Data` flavour of `compress(_:level:)` for `[UInt8]`.
        public static func compress(_ data: Data, level: Int32 = 1) -> Data {
            Data(data.withUnsafeBytes { compress(raw: $0, level: level) })
        }

        /// `Data` flavour of `decompress(_:limit:)` for `[UInt8]`.
        public static func decompress(_ data: Data, limit: Int) throws(GzipError) -> Data {
            let result: Result<[UInt8], GzipError> = data.withUnsafeBytes { raw in
                do throws(GzipError) { return .success(try decompress(raw: raw, limit: limit)) } catch { return .failure(error) }
            }
            return Data(try result.get())
        }
    #endif

    // MARK: - Implementation

    /// Runs `body` on the bytes of `array`, keeping the typed error.
    @inline(__always)
    private static func withBytes<R>(
        _ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(GzipError) -> R
    ) throws(GzipError) -> R {
        let result: Result<R, GzipError> = array.withUnsafeBytes { raw in
            do throws(GzipError) { return .success(try body(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// zlib counts in `uInt` (32 bits); larger buffers are fed in slices of this size.
    private static let maxChunk = Int(UInt32.max)

    private static func compress(raw input: UnsafeRawBufferPointer, level: Int32) -> [UInt8] {
        let strm = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        strm.initialize(to: z_stream())
        defer {
            strm.deinitialize(count: 1)
            strm.deallocate()
        }
        let clamped = min(max(level, 1), 9)
        let rc = deflateInit2_(
            strm, clamped, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // deflateInit2 only fails on bad parameters (ours are fixed) or out of memory.
        precondition(rc == Z_OK, "zlib deflateInit2 failed with code \(rc)")
        defer { deflateEnd(strm) }

        // deflateBound (called after deflateInit2) includes the gzip header and trailer, so a
        // single output buffer of that size always holds the whole stream.
        let bound = Int(deflateBound(strm, uLong(input.count)))
        let inBase = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let out = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let outBase = buffer.baseAddress!
            var inOffset = 0
            var outOffset = 0
            while true {
                let inChunk = min(input.count - inOffset, maxChunk)
                let outChunk = min(bound - outOffset, maxChunk)
                strm.pointee.next_in = inBase.map { UnsafeMutablePointer(mutating: $0 + inOffset) }
                strm.pointee.avail_in = uInt(inChunk)
                strm.pointee.next_out = outBase + outOffset
                strm.pointee.avail_out = uInt(outChunk)
                let flush = inOffset + inChunk == input.count ? Z_FINISH : Z_NO_FLUSH
                let rc = deflate(strm, flush)
                let consumed = inChunk - Int(strm.pointee.avail_in)
                let written = outChunk - Int(strm.pointee.avail_out)
                inOffset += consumed
                outOffset += written
                if rc == Z_STREAM_END { break }
                precondition(
                    (rc == Z_OK || rc == Z_BUF_ERROR) && (consumed > 0 || written > 0),
                    "zlib deflate made no progress (code \(rc))")
            }
            count = outOffset
        }
        // Do not keep a mostly empty worst-case buffer alive in the caller.
        if out.count < out.capacity / 2 {
            return out.withUnsafeBufferPointer { Array($0) }
        }
        return out
    }

    private static func decompress(raw input: UnsafeRawBufferPointer, limit: Int) throws(GzipError) -> [UInt8] {
        precondition(limit >= 0, "Gzip.decompress: limit must not be negative")
        guard let inBase = input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count > 0 else {
            throw .corrupt("the input is empty, not a gzip stream")
        }
        let strm = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        strm.initialize(to: z_stream())
        defer {
            strm.deinitialize(count: 1)
            strm.deallocate()
        }
        let rc = inflateInit2_(strm, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(rc == Z_OK, "zlib inflateInit2 failed with code \(rc)")
        defer { inflateEnd(strm) }

        // First guess: batch JSON typically shrinks 4-8x. Never beyond the limit.
        let guess = input.count <= Int.max / 8 ? max(input.count * 8, 16 * 1024) : Int.max
        var out = [UInt8](repeating: 0, count: min(limit, guess))
        var produced = 0
        var inOffset = 0
        var probe: UInt8 = 0  // one-byte target used once `limit` bytes have been produced

        while true {
            if produced == out.count && out.count < limit {
                // Grow geometrically, capped at the limit.
                let newCount = out.count <= limit / 2 ? max(out.count * 2, 16 * 1024) : limit
                out.append(contentsOf: repeatElement(0, count: min(newCount, limit) - out.count))
            }
            let inChunk = min(input.count - inOffset, maxChunk)
            strm.pointee.next_in = UnsafeMutablePointer(mutating: inBase + inOffset)
            strm.pointee.avail_in = uInt(inChunk)

            let code: Int32
            let written: Int
            if produced < out.count {
                let outChunk = min(out.count - produced, maxChunk)
                code = out.withUnsafeMutableBufferPointer { buffer in
                    strm.pointee.next_out = buffer.baseAddress! + produced
                    strm.pointee.avail_out = uInt(outChunk)
                    return inflate(strm, Z_NO_FLUSH)
                }
                written = outChunk - Int(strm.pointee.avail_out)
            } else {
                // Exactly `limit` bytes so far: any further byte means the data is too large.
                code = withUnsafeMutablePointer(to: &probe) { p in
                    strm.pointee.next_out = p
                    strm.pointee.avail_out = 1
                    return inflate(strm, Z_NO_FLUSH)
                }
                written = 1 - Int(strm.pointee.avail_out)
                if written > 0 { throw .tooLarge(limit: limit) }
            }
            let consumed = inChunk - Int(strm.pointee.avail_in)
            produced += written
            inOffset += consumed

            switch code {
            case Z_STREAM_END:
                if inOffset == input.count {
                    out.removeSubrange(produced...)
                    return out
                }
                // Another gzip member may follow (RFC 1952 allows concatenation).
                if input.count - inOffset >= 2 && inBase[inOffset] == 0x1F && inBase[inOffset + 1] == 0x8B {
                    let reset = inflateReset(strm)
                    precondition(reset == Z_OK, "zlib inflateReset failed with code \(reset)")
                    continue
                }
                throw .corrupt("unexpected bytes after the end of the gzip stream (at byte \(inOffset))")
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible. With output room left this means the input ran out.
                if inOffset == input.count {
                    throw .corrupt("the stream is truncated (it ends before the gzip trailer)")
                }
                precondition(consumed > 0 || written > 0, "zlib inflate made no progress")
                continue
            case Z_DATA_ERROR:
                throw .corrupt(plainWords(strm.pointee.msg))
            case Z_NEED_DICT:
                throw .corrupt("the stream asks for a preset dictionary, which gzip does not use")
            case Z_MEM_ERROR:
                preconditionFailure("zlib inflate ran out of memory")
            default:
                preconditionFailure("zlib inflate failed with code \(code)")
            }
        }
    }

    /// Rephrases zlib's terse error text.
    private static func plainWords(_ msg: UnsafeMutablePointer<CChar>?) -> String {
        guard let msg else { return "the compressed data is invalid" }
        let text = String(cString: msg)
        switch text {
        case "incorrect header check", "unknown compression method", "unknown header flags set":
            return "not in gzip format (\(text))"
        case "incorrect data check":
            return "CRC-32 checksum mismatch (incorrect data check)"
        case "incorrect length check":
            return "length in the gzip trailer does not match (incorrect length check)"
        default:
            return "invalid compressed data (\(text))"
        }
    }
}
