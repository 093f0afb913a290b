// A minimal PNG encoder: 1-bit grayscale, stored (uncompressed) deflate blocks, no zlib.

/// Builds PNG files from ready-made, filtered scanlines.
enum PNGWriter {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A 1-bit grayscale PNG. `scanlines` holds `height` rows, each a filter byte
    /// followed by `(width + 7) / 8` bytes of pixels (MSB first, 1 = white).
    static func grayscale1Bit(width: Int, height: Int, scanlines: [UInt8]) -> [UInt8] {
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max))
        precondition(scanlines.count == height * (1 + (width + 7) / 8), "PNGWriter: wrong scanline length")
        var png = signature
        var header = [UInt8]()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += [
            1,  // bit depth
            0,  // colour type: grayscale
            0,  // compression method: deflate
            0,  // filter method: adaptive (filter byte per row)
            0,  // interlace: none
        ]
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", zlibStored(scanlines), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// Appends length, type, data and CRC-32 (over type and data).
    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        precondition(typeBytes.count == 4)
        png.appendBigEndian(UInt32(data.count))
        png += typeBytes
        png += data
        var crc = CRC32.initial
        crc = CRC32.update(crc, typeBytes)
        crc = CRC32.update(crc, data)
        png.appendBigEndian(crc ^ 0xFFFF_FFFF)
    }

    /// A zlib stream (RFC 1950) holding `data` in stored deflate blocks (RFC 1951, BTYPE 00).
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        let maxBlock = 65535
        var out: [UInt8] = [0x78, 0x01]  // deflate, 32K window, no dictionary; 0x7801 % 31 == 0
        out.reserveCapacity(data.count + data.count / maxBlock * 5 + 16)
        var offset = 0
        repeat {
            let length = min(maxBlock, data.count - offset)
            let isFinal = offset + length == data.count
            out.append(isFinal ? 0x01 : 0x00)  // BFINAL bit, BTYPE = 00 (stored); rest of byte is padding
            let len = UInt16(length)
            out += [UInt8(len & 0xFF), UInt8(len >> 8)]
            out += [UInt8(~len & 0xFF), UInt8(~len >> 8)]
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        out.appendBigEndian(adler32(data))
        return out
    }

    /// The Adler-32 checksum (RFC 1950) of `data`.
    static func adler32(_ data: [UInt8]) -> UInt32 {
        let modulus: UInt32 = 65521
        var a: UInt32 = 1
        var b: UInt32 = 0
        var index = 0
        while index < data.count {
            // 5552 is the largest n for which the sums cannot overflow 32 bits.
            let end = min(index + 5552, data.count)
            for byte in data[index..<end] {
                a += UInt32(byte)
                b += a
            }
            a %= modulus
            b %= modulus
            index = end
        }
        return (b << 16) | a
    }
}

/// CRC-32 (ISO-HDLC, as used by PNG, zlib's `crc32`, gzip and Ethernet), table-driven.
public enum CRC32 {
    /// The 256-entry lookup table for the reflected polynomial 0xEDB88320.
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 {
            c = (c & 1 == 1) ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1)
        }
        return c
    }

    static let initial: UInt32 = 0xFFFF_FFFF

    /// Feeds `bytes` into a running (pre-inverted) CRC register.
    static func update(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var c = crc
        for byte in bytes {
            c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8)
        }
        return c
    }

    /// The CRC-32 of `bytes`; e.g. `checksum(Array("123456789".utf8)) == 0xCBF43926`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        update(initial, bytes) ^ 0xFFFF_FFFF
    }
}

extension [UInt8] {
    /// Appends `value` as four bytes, most significant first.
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value >> 24))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value))
    }
}
