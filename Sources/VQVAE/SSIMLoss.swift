import Foundation
import NN

/// Structural similarity as a differentiable tensor function, matching `ImageMetrics.ssim`:
/// 11×11 Gaussian window (σ = 1.5) applied separably, "valid" positions only, K1 = 0.01,
/// K2 = 0.03, averaged over positions, channels and images.
enum SSIMLoss {
    /// Mean SSIM of two image batches `[B, 3, H, W]` with values in [−1, 1] (a scalar tensor).
    static func ssim(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let channels = a.size(1)
        let radius = min(5, (min(a.size(2), a.size(3)) - 1) / 2)
        let taps = (-radius...radius).map { exp(-Double($0 * $0) / (2 * 1.5 * 1.5)) }
        let total = taps.reduce(0, +)
        let row = taps.map { Float($0 / total) }
        let n = row.count
        let horizontal = try Tensor(Array(repeating: row, count: channels).flatMap { $0 }, shape: [channels, 1, 1, n]).to(a.dtype)
        let vertical = try horizontal.reshape([channels, 1, n, 1])
        func blur(_ x: Tensor) throws -> Tensor {                                   // [B, 3, H−2r, W−2r]
            try F.conv2d(F.conv2d(x, horizontal, groups: channels), vertical, groups: channels)
        }
        // Values in [0, 1], so the constants are K·1.
        let x = try (a + 1) * 0.5
        let y = try (b + 1) * 0.5
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let mx = try blur(x)
        let my = try blur(y)
        let mxx = try mx * mx
        let myy = try my * my
        let mxy = try mx * my
        let vx = try blur(x * x) - mxx
        let vy = try blur(y * y) - myy
        let cov = try blur(x * y) - mxy
        let numerator = try (mxy * 2 + c1) * (cov * 2 + c2)
        let denominator = try (mxx + myy + c1) * (vx + vy + c2)
        return try (numerator / denominator).mean()
    }
}
