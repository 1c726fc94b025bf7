import FrameMetrics
import XCTest

final class FrameMetricsTests: XCTestCase {
    private func image(_ w: Int, _ h: Int, _ f: (Int, Int, Int) -> Int) -> [UInt8] {
        var out = [UInt8]()
        for y in 0..<h { for x in 0..<w { for c in 0..<3 { out.append(UInt8(max(0, min(255, f(x, y, c))))) } } }
        return out
    }

    func testPSNRIsCappedAndMatchesTheFormula() {
        let a = [UInt8](repeating: 100, count: 300)
        XCTAssertEqual(ImageMetrics.psnr(a, a), 50)
        var b = a
        b[0] = 110  // MSE = 100 / 300: 52.9 dB uncapped, so capped to 50
        XCTAssertEqual(ImageMetrics.psnr(a, b), 50)
        b[1] = 140; b[2] = 140  // MSE = 3300 / 300 = 11
        XCTAssertEqual(ImageMetrics.psnr(a, b), 10 * log10(255.0 * 255.0 / 11), accuracy: 1e-9)
        let c = [UInt8](repeating: 110, count: 300)  // MSE 100 → 28.13 dB
        XCTAssertEqual(ImageMetrics.psnr(a, c), 28.1308, accuracy: 1e-3)
    }

    func testSSIMOfIdenticalImagesIsOneAndDropsWithNoise() {
        let a = image(32, 32) { x, y, c in (x * 7 + y * 3 + c * 40) % 256 }
        XCTAssertEqual(ImageMetrics.ssim(a, a, width: 32, height: 32), 1, accuracy: 1e-12)
        var state: UInt32 = 1
        let noisy = a.map { v -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(max(0, min(255, Int(v) + Int(state >> 27) - 16)))
        }
        let s = ImageMetrics.ssim(a, noisy, width: 32, height: 32)
        XCTAssertLessThan(s, 0.95)
        XCTAssertGreaterThan(s, 0.3)
        // A constant shift of brightness changes luminance but not structure: SSIM stays high.
        let shifted = a.map { UInt8(min(255, Int($0) + 5)) }
        XCTAssertGreaterThan(ImageMetrics.ssim(a, shifted, width: 32, height: 32), 0.98)
    }

    func testGradientEnergyByHandAndUnderBlur() {
        XCTAssertEqual(ImageMetrics.gradientEnergy([UInt8](repeating: 90, count: 4 * 4 * 3), width: 4, height: 4), 0)
        // 2×2, black left column, white right: two horizontal steps of 255 (luma weights sum to 1), none vertical.
        let step = image(2, 2) { x, _, _ in x * 255 }
        XCTAssertEqual(ImageMetrics.gradientEnergy(step, width: 2, height: 2), 2 * 255 / 4, accuracy: 1e-9)
        // Pure red: luma is 0.299 of the value.
        let red = image(2, 2) { x, _, c in c == 0 ? x * 100 : 0 }
        XCTAssertEqual(ImageMetrics.gradientEnergy(red, width: 2, height: 2), 2 * 29.9 / 4, accuracy: 1e-9)
        // A checkerboard loses edge energy under a 3×3 box blur.
        let board = image(16, 16) { x, y, _ in (x / 2 + y / 2) % 2 * 200 + 20 }
        let blurred = image(16, 16) { x, y, c in
            var sum = 0, n = 0
            for dy in -1...1 { for dx in -1...1 where (0..<16).contains(x + dx) && (0..<16).contains(y + dy) {
                sum += Int(board[((y + dy) * 16 + x + dx) * 3 + c]); n += 1
            } }
            return sum / n
        }
        XCTAssertLessThan(ImageMetrics.gradientEnergy(blurred, width: 16, height: 16),
                          0.8 * ImageMetrics.gradientEnergy(board, width: 16, height: 16))
    }

    func testSSIMMatchesAHandComputedFlatCase() {
        // Two flat images: variances are 0, so SSIM = (2·μa·μb + C1) / (μa² + μb² + C1).
        let a = [UInt8](repeating: 50, count: 16 * 16 * 3), b = [UInt8](repeating: 100, count: 16 * 16 * 3)
        let c1 = (0.01 * 255) * (0.01 * 255)
        XCTAssertEqual(ImageMetrics.ssim(a, b, width: 16, height: 16), (2 * 50 * 100 + c1) / (2500 + 10000 + c1), accuracy: 1e-9)
    }

    func testCodebookUsagePerplexityAndCompression() {
        var stats = CodebookStats(size: 8)
        stats.add([0, 1, 2, 3] as [UInt16])
        XCTAssertEqual(stats.used, 4)
        XCTAssertEqual(stats.usage, 0.5)
        XCTAssertEqual(stats.perplexity, 4, accuracy: 1e-12)  // uniform over 4 codes
        stats.add([0, 0, 0, 0] as [UInt16])
        XCTAssertLessThan(stats.perplexity, 4)
        let paper = CodebookStats(size: 512)
        XCTAssertEqual(paper.bitsPerFrame(cells: 32 * 32), 9216)
        XCTAssertEqual(paper.compressionRatio(width: 128, height: 128, cells: 32 * 32), 42.67, accuracy: 0.01)
    }
}
