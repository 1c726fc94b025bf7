extension ImageMetrics {
    /// Mean absolute difference between neighbouring pixels' luma (BT.601 weights), horizontal and
    /// vertical differences summed: how much edge detail an RGB image holds. A blurred copy of an
    /// image scores lower than the image; `sharpness` compares two.
    public static func gradientEnergy(_ image: [UInt8], width: Int, height: Int) -> Double {
        precondition(image.count == width * height * 3 && width > 1 && height > 1,
                     "gradientEnergy needs a \(width)x\(height) RGB image of at least 2x2 pixels")
        var luma = [Double](repeating: 0, count: width * height)
        for i in 0..<luma.count {
            luma[i] = 0.299 * Double(image[3 * i]) + 0.587 * Double(image[3 * i + 1]) + 0.114 * Double(image[3 * i + 2])
        }
        var sum = 0.0
        for y in 0..<height {
            for x in 0..<width {
                let v = luma[y * width + x]
                if x + 1 < width { sum += abs(luma[y * width + x + 1] - v) }
                if y + 1 < height { sum += abs(luma[(y + 1) * width + x] - v) }
            }
        }
        return sum / Double(width * height)
    }
}
