// Rendering a QRMatrix as a PNG image or as packed raster bits for a thermal printer.

extension QRMatrix {
    /// A 1-bit-per-pixel-style grayscale PNG: each module scale x scale pixels, `border` modules of quiet zone (default 4).
    ///
    /// The image is a true 1-bit grayscale PNG (black modules on white), square, with
    /// side `(size + 2 * border) * scale` pixels. It is written without compression
    /// (stored deflate blocks), so it needs no zlib.
    ///
    /// - Parameters:
    ///   - scale: pixels per module side; at least 1.
    ///   - border: quiet-zone width in modules; at least 0. The QR standard asks for 4.
    public func png(scale: Int = 8, border: Int = 4) -> [UInt8] {
        let raster = rasterBits(scale: scale, border: border)
        // In 1-bit grayscale PNG a 1 bit is white; the raster has 1 = black, so invert.
        // The padding bits at the end of each row become 1s, which PNG ignores.
        // Each row is preceded by filter type 0 (None).
        var scanlines = [UInt8]()
        scanlines.reserveCapacity((raster.widthBytes + 1) * raster.height)
        for row in 0..<raster.height {
            scanlines.append(0)
            let start = row * raster.widthBytes
            for byte in raster.data[start..<(start + raster.widthBytes)] {
                scanlines.append(~byte)
            }
        }
        let side = (size + 2 * border) * scale
        return PNGWriter.grayscale1Bit(width: side, height: side, scanlines: scanlines)
    }

    /// Rows of packed bits, MSB first, 1 = black, each module `scale` dots wide/high, with `border` quiet modules: for thermal printer raster images (ESC/POS GS v 0). Returns (widthBytes, height, data).
    ///
    /// The image is `(size + 2 * border) * scale` dots square. Each row occupies
    /// `widthBytes` bytes (the width rounded up to whole bytes; unused low bits of the
    /// last byte are 0, i.e. white), and `data.count == widthBytes * height`.
    ///
    /// - Parameters:
    ///   - scale: dots per module side; at least 1.
    ///   - border: quiet-zone width in modules; at least 0.
    public func rasterBits(scale: Int, border: Int = 4) -> (widthBytes: Int, height: Int, data: [UInt8]) {
        precondition(scale >= 1, "QRMatrix: scale must be at least 1")
        precondition(border >= 0, "QRMatrix: border must not be negative")
        let modulesPerSide = size + 2 * border
        let dots = modulesPerSide * scale
        let widthBytes = (dots + 7) / 8
        var data = [UInt8](repeating: 0, count: widthBytes * dots)

        var line = [UInt8](repeating: 0, count: widthBytes)
        for y in 0..<size {
            // One packed line for module row y, then copied `scale` times.
            for i in line.indices { line[i] = 0 }
            for x in 0..<size where modules[y * size + x] {
                let firstDot = (border + x) * scale
                for dot in firstDot..<(firstDot + scale) {
                    line[dot >> 3] |= 0x80 >> UInt8(dot & 7)
                }
            }
            let firstRow = (border + y) * scale
            for row in firstRow..<(firstRow + scale) {
                data.replaceSubrange((row * widthBytes)..<((row + 1) * widthBytes), with: line)
            }
        }
        return (widthBytes: widthBytes, height: dots, data: data)
    }
}
