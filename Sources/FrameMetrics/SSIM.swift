import Foundation

extension ImageMetrics {
    /// Structural similarity of two RGB images (Wang et al. 2004): an 11×11 Gaussian window with
    /// σ = 1.5, K1 = 0.01, K2 = 0.03, peak 255, computed per channel over the window positions that
    /// fit inside the image ("valid"), averaged over positions and then over the three channels.
    public static func ssim(_ a: [UInt8], _ b: [UInt8], width: Int, height: Int) -> Double {
        precondition(a.count == width * height * 3 && b.count == a.count, "ssim needs two RGB images of the given size")
        let radius = min(5, (min(width, height) - 1) / 2)
        let kernel = gaussianKernel(radius: radius, sigma: 1.5)
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        var total = 0.0
        for channel in 0..<3 {
            var x = [Double](repeating: 0, count: width * height), y = x
            for i in 0..<(width * height) {
                x[i] = Double(a[i * 3 + channel])
                y[i] = Double(b[i * 3 + channel])
            }
            let xx = zip(x, x).map(*), yy = zip(y, y).map(*), xy = zip(x, y).map(*)
            let mx = blur(x, width, height, kernel), my = blur(y, width, height, kernel)
            let sxx = blur(xx, width, height, kernel), syy = blur(yy, width, height, kernel), sxy = blur(xy, width, height, kernel)
            var sum = 0.0
            for i in 0..<mx.count {
                let vx = sxx[i] - mx[i] * mx[i], vy = syy[i] - my[i] * my[i], cov = sxy[i] - mx[i] * my[i]
                sum += ((2 * mx[i] * my[i] + c1) * (2 * cov + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2))
            }
            total += sum / Double(mx.count)
        }
        return total / 3
    }

    /// A normalized 1-D Gaussian of `2 * radius + 1` taps.
    static func gaussianKernel(radius: Int, sigma: Double) -> [Double] {
        let taps = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }

    /// Separable "valid" filtering: the result is (width − 2r) × (height − 2r).
    static func blur(_ image: [Double], _ width: Int, _ height: Int, _ kernel: [Double]) -> [Double] {
        let r = kernel.count / 2, outW = width - 2 * r, outH = height - 2 * r
        var rows = [Double](repeating: 0, count: outW * height)
        for y in 0..<height {
            for x in 0..<outW {
                var s = 0.0
                for k in 0..<kernel.count { s += kernel[k] * image[y * width + x + k] }
                rows[y * outW + x] = s
            }
        }
        var out = [Double](repeating: 0, count: outW * outH)
        for y in 0..<outH {
            for x in 0..<outW {
                var s = 0.0
                for k in 0..<kernel.count { s += kernel[k] * rows[(y + k) * outW + x] }
                out[y * outW + x] = s
            }
        }
        return out
    }
}
