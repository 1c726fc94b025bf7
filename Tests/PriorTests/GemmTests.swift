@testable import Prior
import NN
import XCTest

final class GemmTests: XCTestCase {
    /// Every tile kind (4×64, 1×64, 4×16, 1×16, partial widths), with plain and packed B, against a plain triple loop.
    func testProductsMatchAPlainLoopForOddShapes() {
        var rng = SplitMix64(seed: 1)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.unit() * 2 - 1) } }
        for (m, n, k) in [(1, 1, 1), (5, 37, 13), (9, 130, 7), (4, 64, 64), (3, 200, 33), (8, 16, 1)] {
            for accumulate in [false, true] {
                let (lda, ldb, ldc) = (k + 3, n + 5, n + 2)
                let a = random(m * lda), b = random(k * ldb), c = random(m * ldc), bias = random(n)
                var expected = c
                for r in 0..<m {
                    for j in 0..<n {
                        var sum: Float = (accumulate ? c[r * ldc + j] : 0) + bias[j]
                        for i in 0..<k { sum += a[r * lda + i] * b[i * ldb + j] }
                        expected[r * ldc + j] = sum
                    }
                }
                let (aBuffer, bBuffer, biasBuffer) = (FloatBuffer(a), FloatBuffer(b), FloatBuffer(bias))
                let plain = FloatBuffer(c), packed = FloatBuffer(c)
                Gemm.multiply(m: m, n: n, k: k, a: aBuffer.base, lda: lda, b: bBuffer.base, ldb: ldb, c: plain.base, ldc: ldc,
                              bias: biasBuffer.base, accumulate: accumulate)
                let w = PackedMatrix((0..<k).flatMap { i in b[(i * ldb)..<(i * ldb + n)] }, k: k, n: n)
                Gemm.multiply(m: m, a: aBuffer.base, lda: lda, w, c: packed.base, ldc: ldc, bias: biasBuffer.base, accumulate: accumulate)
                for i in 0..<(m * ldc) {
                    XCTAssertEqual(plain[i], expected[i], accuracy: 1e-5, "plain m\(m) n\(n) k\(k) at \(i)")
                    XCTAssertEqual(packed[i], expected[i], accuracy: 1e-5, "packed m\(m) n\(n) k\(k) at \(i)")
                }
            }
        }
    }

    /// Weights that are all exactly float16 (an F16 checkpoint's) are packed as float16, and every tile
    /// gives the same floats as with float32 panels; any other value keeps float32 panels.
    func testHalfPanelsGiveTheSameProductsAsFloatPanels() {
        var rng = SplitMix64(seed: 2)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.unit() * 2 - 1) } }
        for (m, n, k) in [(1, 1, 1), (5, 37, 13), (9, 130, 7), (1, 192, 192), (6, 200, 33)] {
            let halves = random(k * n).map { Float(Float16($0)) }
            let half = PackedMatrix(halves, k: k, n: n), single = PackedMatrix(halves, k: k, n: n, allowHalf: false)
            XCTAssertTrue(half.isHalf)
            XCTAssertFalse(single.isHalf)
            XCTAssertFalse(PackedMatrix(halves.enumerated().map { $0.offset == k * n / 2 ? $0.element + 1e-6 : $0.element }, k: k, n: n).isHalf)
            let a = FloatBuffer(random(m * k)), bias = FloatBuffer(random(n))
            let start = random(m * n)
            let x = FloatBuffer(start), y = FloatBuffer(start)
            Gemm.multiply(m: m, a: a.base, lda: k, half, c: x.base, ldc: n, bias: bias.base, accumulate: true)
            Gemm.multiply(m: m, a: a.base, lda: k, single, c: y.base, ldc: n, bias: bias.base, accumulate: true)
            XCTAssertEqual(Array(UnsafeBufferPointer(start: x.base, count: m * n)), Array(UnsafeBufferPointer(start: y.base, count: m * n)),
                           "m\(m) n\(n) k\(k)")
            XCTAssertNotEqual(Array(UnsafeBufferPointer(start: x.base, count: m * n)), start)
        }
    }
}
