import Foundation

/// Image quality figures on 8-bit RGB, as defined in DESIGN.md.
public enum ImageMetrics {
    /// Per-frame PSNR is capped here: identical frames would otherwise score infinity.
    public static let psnrCap = 50.0

    /// Mean squared error between two equally sized byte images.
    public static func mse(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count && !a.isEmpty, "mse needs two images of equal, non-zero size")
        var sum = 0.0
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                for i in 0..<x.count {
                    let d = Double(Int(x[i]) - Int(y[i]))
                    sum += d * d
                }
            }
        }
        return sum / Double(a.count)
    }

    /// PSNR in dB for peak 255 from a mean squared error, capped at `psnrCap`.
    public static func psnr(mse: Double) -> Double {
        mse <= 0 ? psnrCap : min(psnrCap, 10 * log10(255 * 255 / mse))
    }

    /// PSNR in dB of one frame against another, capped at `psnrCap`.
    public static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double { psnr(mse: mse(a, b)) }
}
