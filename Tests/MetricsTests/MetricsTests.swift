import Metrics
import XCTest

final class MetricsTests: XCTestCase {
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
