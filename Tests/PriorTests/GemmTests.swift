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
}
