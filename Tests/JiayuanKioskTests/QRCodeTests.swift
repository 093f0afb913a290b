import Foundation
import JiayuanTestSupport
import Testing

@testable import JiayuanQR

@Suite("QR codes (libqrencode wrapper, PNG, raster)", .blocking)
struct QRCodeTests {
    // MARK: - Helpers

    /// A card-style payload: "JY1:" + 122 upper-case base32 characters (A-Z, 2-7) = 126 chars.
    static let cardText = Fixtures.cardLikeText

    /// Writes `png` to a unique temp file, runs `zbarimg --quiet --raw` on it and
    /// returns the decoded text with the trailing newline removed. Fails (does not
    /// skip) when zbarimg is not installed.
    static func decodeWithZbar(_ png: [UInt8], extraArguments: [String] = []) throws -> String {
        try zbarDecode(image: png, suffix: "png", extraArguments: extraArguments)
    }

    static func bigEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Splits a PNG into (type, data) chunks, checking every chunk's CRC-32.
    static func chunks(of png: [UInt8]) throws -> [(type: String, data: [UInt8])] {
        var result: [(type: String, data: [UInt8])] = []
        var offset = 8
        while offset < png.count {
            let length = Int(bigEndianUInt32(png, at: offset))
            let typeAndData = Array(png[(offset + 4)..<(offset + 8 + length)])
            let crc = bigEndianUInt32(png, at: offset + 8 + length)
            #expect(CRC32.checksum(typeAndData) == crc, "bad CRC in chunk at offset \(offset)")
            result.append((String(decoding: typeAndData[0..<4], as: UTF8.self), Array(typeAndData[4...])))
            offset += 12 + length
        }
        #expect(offset == png.count)
        return result
    }

    /// Undoes the stored-block zlib stream written by the PNG encoder.
    static func inflateStored(_ zlib: [UInt8]) throws -> [UInt8] {
        #expect(zlib[0] == 0x78 && zlib[1] == 0x01)
        #expect((Int(zlib[0]) << 8 | Int(zlib[1])) % 31 == 0)
        var out: [UInt8] = []
        var offset = 2
        while true {
            let header = zlib[offset]
            #expect(header & 0b110 == 0, "not a stored block")
            let len = Int(zlib[offset + 1]) | Int(zlib[offset + 2]) << 8
            let nlen = Int(zlib[offset + 3]) | Int(zlib[offset + 4]) << 8
            #expect(len ^ nlen == 0xFFFF)
            out += zlib[(offset + 5)..<(offset + 5 + len)]
            offset += 5 + len
            if header & 1 == 1 { break }
        }
        #expect(bigEndianUInt32(zlib, at: offset) == PNGWriter.adler32(out))
        #expect(offset + 4 == zlib.count)
        return out
    }

    // MARK: - Encoding

    @Test func cardStringFitsInVersion6AtMedium() throws {
        let text = Self.cardText
        #expect(text.count == 126)
        let qr = try QRMatrix.encode(text, correction: .medium)
        // 126 alphanumeric characters: version 5-M holds 122, version 6-M holds 154.
        #expect(qr.version <= 6)
        #expect(qr.version == 6)
        #expect(qr.size == 17 + 4 * qr.version)
        #expect(qr.modules.count == qr.size * qr.size)
    }

    @Test func cardStringRoundTripsThroughPNGAndZbar() throws {
        let qr = try QRMatrix.encode(Self.cardText)
        let decoded = try Self.decodeWithZbar(qr.png())
        #expect(decoded == Self.cardText)
    }

    @Test(arguments: QRErrorCorrection.allCases)
    func everyCorrectionLevelDecodes(_ level: QRErrorCorrection) throws {
        let text = "https://example.org/check-in?card=JY1:ABC234&v=1"
        let qr = try QRMatrix.encode(text, correction: level)
        #expect(try Self.decodeWithZbar(qr.png(scale: 4)) == text)
    }

    @Test func higherCorrectionNeedsLargerOrEqualSymbols() throws {
        let sizes = try QRErrorCorrection.allCases.map { try QRMatrix.encode(Self.cardText, correction: $0).version }
        #expect(sizes == sizes.sorted())
        #expect(sizes.first! < sizes.last!)
    }

    @Test func chineseUTF8BytesRoundTripThroughZbar() throws {
        let text = "嘉源会员卡：张伟，欢迎光临！"
        let qr = try QRMatrix.encode(bytes: Array(text.utf8))
        let png = qr.png()
        // One 8-bit segment of valid UTF-8: zbar's charset guess gets it right as is...
        #expect(try Self.decodeWithZbar(png) == text)
        // ...and with -Sbinary zbar prints the raw bytes, which must be exactly the UTF-8.
        #expect(try Self.decodeWithZbar(png, extraArguments: ["-Sbinary"]) == text)
    }

    @Test func mixedChineseTextThroughStringAPIKeepsExactBytes() throws {
        // libqrencode splits this into 8-bit / alphanumeric / 8-bit segments. The symbol
        // carries no ECI, so zbar guesses a charset per segment, and for a short segment
        // like "会员 " (6 bytes, also valid Shift-JIS) it guesses wrong. -Sbinary turns the
        // guessing off and shows that the bytes in the symbol are exactly the UTF-8 text.
        let text = "会员 JY1:ABCDEF 张伟"
        let qr = try QRMatrix.encode(text)
        #expect(try Self.decodeWithZbar(qr.png(), extraArguments: ["-Sbinary"]) == text)
    }

    @Test func stringAndBytesEncodingsAgreeForPlainBytes() throws {
        // Lower-case text is all 8-bit mode either way, so both APIs give the same symbol.
        let text = "hello, jiayuan"
        #expect(try QRMatrix.encode(text) == QRMatrix.encode(bytes: Array(text.utf8)))
    }

    @Test func textWithNULIsEncodedAsBytes() throws {
        let text = "A\u{0}B"
        #expect(try QRMatrix.encode(text) == QRMatrix.encode(bytes: [0x41, 0x00, 0x42]))
    }

    @Test func emptyInputThrows() {
        #expect(throws: QRCodeError.empty) { try QRMatrix.encode("") }
        #expect(throws: QRCodeError.empty) { try QRMatrix.encode(bytes: []) }
        #expect(QRCodeError.empty.description == "the text is empty")
    }

    @Test func tenThousandCharactersIsTooLong() {
        let text = String(repeating: "A", count: 10_000)
        #expect(throws: QRCodeError.tooLong) { try QRMatrix.encode(text) }
        #expect(throws: QRCodeError.tooLong) { try QRMatrix.encode(bytes: Array(text.utf8)) }
        #expect(QRCodeError.tooLong.description == "the text is too long for a QR code")
    }

    @Test func libqrencodeRangeErrorMapsToTooLong() throws {
        // 8-bit mode at version 40-M holds 2331 bytes: the limit comes from libqrencode (ERANGE),
        // not from the wrapper's own length guard.
        let fits = try QRMatrix.encode(String(repeating: "a", count: 2331), correction: .medium)
        #expect(fits.version == 40)
        #expect(throws: QRCodeError.tooLong) {
            try QRMatrix.encode(String(repeating: "a", count: 2332), correction: .medium)
        }
        #expect(throws: QRCodeError.tooLong) {
            try QRMatrix.encode(bytes: [UInt8](repeating: 0xE5, count: 2954), correction: .low)
        }
    }

    @Test func concurrentEncodingIsSafeAndDeterministic() async throws {
        let expected = try QRMatrix.encode(Self.cardText)
        let results = try await withThrowingTaskGroup(of: QRMatrix.self) { group in
            for _ in 0..<32 {
                group.addTask { try QRMatrix.encode(Self.cardText) }
            }
            return try await group.reduce(into: [QRMatrix]()) { $0.append($1) }
        }
        #expect(results.count == 32)
        #expect(results.allSatisfy { $0 == expected })
    }

    @Test func finderPatternsAreInTheCorners() throws {
        let qr = try QRMatrix.encode("JY1:TEST")
        for (ox, oy) in [(0, 0), (qr.size - 7, 0), (0, qr.size - 7)] {
            for i in 0..<7 {
                #expect(qr[ox + i, oy] && qr[ox + i, oy + 6] && qr[ox, oy + i] && qr[ox + 6, oy + i])
            }
            #expect(!qr[ox + 1, oy + 1] && qr[ox + 3, oy + 3])
        }
    }

    // MARK: - PNG

    @Test func pngHasSignatureHeaderAndValidChunks() throws {
        let qr = try QRMatrix.encode(Self.cardText)
        let scale = 8, border = 4
        let png = qr.png(scale: scale, border: border)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[12..<16]) == Array("IHDR".utf8))
        let side = (qr.size + 2 * border) * scale
        #expect(Self.bigEndianUInt32(png, at: 16) == UInt32(side))
        #expect(Self.bigEndianUInt32(png, at: 20) == UInt32(side))

        let chunks = try Self.chunks(of: png)
        #expect(chunks.map(\.type) == ["IHDR", "IDAT", "IEND"])
        #expect(Array(chunks[0].data[8...]) == [1, 0, 0, 0, 0])  // 1-bit grayscale, no interlace
        #expect(chunks[2].data.isEmpty)

        // The pixels decode back to the matrix.
        let raw = try Self.inflateStored(chunks[1].data)
        let rowBytes = (side + 7) / 8
        #expect(raw.count == side * (rowBytes + 1))
        for py in 0..<side {
            #expect(raw[py * (rowBytes + 1)] == 0, "filter byte must be 0")
        }
        func pixelIsWhite(_ px: Int, _ py: Int) -> Bool {
            raw[py * (rowBytes + 1) + 1 + px / 8] & (0x80 >> UInt8(px % 8)) != 0
        }
        for y in 0..<(qr.size + 2 * border) {
            for x in 0..<(qr.size + 2 * border) {
                let inside = (border..<(border + qr.size)).contains(x) && (border..<(border + qr.size)).contains(y)
                let dark = inside && qr[x - border, y - border]
                // Sample a pixel in the middle of the module.
                #expect(pixelIsWhite(x * scale + scale / 2, y * scale + scale / 2) == !dark)
            }
        }
    }

    @Test func largePNGUsesSeveralStoredBlocks() throws {
        // 2331 bytes -> version 40 (177 modules): (177+8)*20 = 3700 px, ~1.7 MB of scanlines.
        let qr = try QRMatrix.encode(String(repeating: "a", count: 2331))
        let png = qr.png(scale: 20)
        let chunks = try Self.chunks(of: png)
        let raw = try Self.inflateStored(chunks[1].data)
        #expect(raw.count > 65535 * 2)
        #expect(try Self.decodeWithZbar(qr.png(scale: 3)) == String(repeating: "a", count: 2331))
    }

    @Test func crc32MatchesKnownCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("IEND".utf8)) == 0xAE42_6082)
        #expect(PNGWriter.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
    }

    // MARK: - Raster bits

    @Test(arguments: [(1, 4), (3, 4), (8, 2), (5, 0)])
    func rasterBitsDimensionsAndFinderPattern(scale: Int, border: Int) throws {
        let qr = try QRMatrix.encode(Self.cardText)
        let raster = qr.rasterBits(scale: scale, border: border)
        let dots = (qr.size + 2 * border) * scale
        #expect(raster.height == dots)
        #expect(raster.widthBytes == (dots + 7) / 8)
        #expect(raster.data.count == raster.widthBytes * raster.height)

        func bit(_ x: Int, _ y: Int) -> Bool {
            raster.data[y * raster.widthBytes + x / 8] & (0x80 >> UInt8(x % 8)) != 0
        }
        // The top-left finder pattern's first dark module (module 0,0) starts at dot (border*scale, border*scale).
        #expect(qr[0, 0])
        let origin = border * scale
        #expect(bit(origin, origin))
        #expect(bit(origin + scale - 1, origin + scale - 1))
        if border > 0 {
            #expect(!bit(origin - 1, origin))
            #expect(!bit(origin, origin - 1))
            #expect(raster.data[0..<raster.widthBytes].allSatisfy { $0 == 0 }, "quiet zone must be white")
        }
        // Every dot matches its module; padding bits are white.
        for y in 0..<dots {
            for x in 0..<(raster.widthBytes * 8) {
                let mx = x / scale - border, my = y / scale - border
                let dark = x < dots && (0..<qr.size).contains(mx) && (0..<qr.size).contains(my) && qr[mx, my]
                if bit(x, y) != dark {
                    Issue.record("dot (\(x), \(y)) should be \(dark ? "black" : "white")")
                    return
                }
            }
        }
    }
}
