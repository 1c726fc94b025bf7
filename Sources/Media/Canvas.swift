/// An RGB image being composed: frames pasted at positions (optionally enlarged by pixel
/// repetition), filled rectangles and text labels. Used for contact sheets and side-by-side videos.
public struct Canvas: Sendable {
    public let width: Int
    public let height: Int
    /// `height × width × 3` packed RGB bytes.
    public private(set) var rgb: [UInt8]

    /// A canvas filled with one colour.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width > 0 && height > 0, "Canvas needs a positive size")
        self.width = width
        self.height = height
        rgb = [UInt8](repeating: 0, count: width * height * 3)
        fillRect(x: 0, y: 0, width: width, height: height, color: fill)
    }

    /// Fills a rectangle, clipped to the canvas.
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, color: (UInt8, UInt8, UInt8)) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            var i = (row * width + x0) * 3
            for _ in x0..<x1 {
                rgb[i] = color.0
                rgb[i + 1] = color.1
                rgb[i + 2] = color.2
                i += 3
            }
        }
    }

    /// Pastes `image` (packed RGB of `imageWidth × imageHeight`) with its top-left corner at (x, y),
    /// each pixel enlarged to `scale × scale` (nearest neighbour); clipped to the canvas.
    public mutating func paste(_ image: [UInt8], width imageWidth: Int, height imageHeight: Int, x: Int, y: Int, scale: Int = 1) {
        precondition(image.count == imageWidth * imageHeight * 3, "paste needs width*height*3 bytes")
        for sy in 0..<imageHeight * scale {
            let cy = y + sy
            guard cy >= 0, cy < height else { continue }
            let srcRow = (sy / scale) * imageWidth
            for sx in 0..<imageWidth * scale {
                let cx = x + sx
                guard cx >= 0, cx < width else { continue }
                let s = (srcRow + sx / scale) * 3, d = (cy * width + cx) * 3
                rgb[d] = image[s]
                rgb[d + 1] = image[s + 1]
                rgb[d + 2] = image[s + 2]
            }
        }
    }

    /// Pastes a frame at (x, y), enlarged by `scale`.
    public mutating func paste(_ frame: Frame, x: Int, y: Int, scale: Int = 1) {
        paste(frame.rgb, width: frame.width, height: frame.height, x: x, y: y, scale: scale)
    }

    /// Width in pixels of `text` drawn at `scale`.
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * (BitmapFont.glyphWidth + 1) - 1) * scale
    }

    /// Height in pixels of a line of text at `scale`.
    public static func textHeight(scale: Int = 1) -> Int { BitmapFont.glyphHeight * scale }

    /// Draws `text` with its top-left corner at (x, y) in the 5×7 font, enlarged by `scale`.
    public mutating func draw(_ text: String, x: Int, y: Int, scale: Int = 1, color: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        var penX = x
        for character in text {
            for (row, bits) in BitmapFont.rows(character).enumerated() {
                for column in 0..<BitmapFont.glyphWidth where bits & (0x10 >> UInt8(column)) != 0 {
                    fillRect(x: penX + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
            penX += (BitmapFont.glyphWidth + 1) * scale
        }
    }

    /// Draws `text` on a dark box, for labels readable over any picture.
    public mutating func label(_ text: String, x: Int, y: Int, scale: Int = 1) {
        fillRect(x: x, y: y, width: Self.textWidth(text, scale: scale) + 2 * scale, height: Self.textHeight(scale: scale) + 2 * scale, color: (0, 0, 0))
        draw(text, x: x + scale, y: y + scale, scale: scale)
    }
}
