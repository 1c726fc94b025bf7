@testable import Prior
import NN
import XCTest

final class GemmTests: XCTestCase {
    private var rng = SplitMix64(seed: 1)
    private func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(rng.unit() * 2 - 1) } }

    /// Every tile kind of both tilings (wide: 4×64, 1×128, 1×64, 4×16, 1×16; narrow: 6×16, 4×16,
    /// 1×64, 1×16; partial widths, a second narrow row block), with plain and packed B, against a
    /// plain triple loop.
    func testProductsMatchAPlainLoopForOddShapes() {
        let shapes = [(1, 1, 1), (5, 37, 13), (9, 130, 7), (4, 64, 64), (3, 200, 33), (8, 16, 1), (2, 70, 5), (107, 45, 11)]
        for tiling in GemmTiling.allCases {
            for (m, n, k) in shapes {
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
                                  bias: biasBuffer.base, accumulate: accumulate, tiling: tiling)
                    let w = PackedMatrix((0..<k).flatMap { i in b[(i * ldb)..<(i * ldb + n)] }, k: k, n: n)
                    Gemm.multiply(m: m, a: aBuffer.base, lda: lda, w, c: packed.base, ldc: ldc, bias: biasBuffer.base,
                                  accumulate: accumulate, tiling: tiling)
                    for i in 0..<(m * ldc) {
                        XCTAssertEqual(plain[i], expected[i], accuracy: 1e-5, "\(tiling) plain m\(m) n\(n) k\(k) at \(i)")
                        XCTAssertEqual(packed[i], expected[i], accuracy: 1e-5, "\(tiling) packed m\(m) n\(n) k\(k) at \(i)")
                    }
                }
            }
        }
    }

    /// An element's bits do not depend on its tile: all rows at once, each row on its own, rows split
    /// 5 + rest, columns shared among 2 threads, and either tiling give the same floats exactly.
    func testElementsDoNotDependOnTheirTile() {
        for (m, n, k) in [(23, 200, 192), (16, 576, 48), (7, 48, 130)] {
            let a = FloatBuffer(random(m * k)), bias = FloatBuffer(random(n)), start = random(m * n)
            let w = PackedMatrix(random(k * n).map { Float(Float16($0)) }, k: k, n: n)
            func product(_ tiling: GemmTiling, rowGroups: [Range<Int>], threads: Int = 1) -> [Float] {
                let c = FloatBuffer(start)
                for rows in rowGroups {
                    Gemm.multiply(m: rows.count, a: a.base + rows.lowerBound * k, lda: k, w, c: c.base + rows.lowerBound * n, ldc: n,
                                  bias: bias.base, accumulate: true, threads: threads, tiling: tiling)
                }
                return Array(UnsafeBufferPointer(start: c.base, count: m * n))
            }
            let reference = product(.wide, rowGroups: [0..<m])
            XCTAssertNotEqual(reference, start)
            for tiling in GemmTiling.allCases {
                XCTAssertEqual(product(tiling, rowGroups: [0..<m]), reference, "\(tiling) m\(m) n\(n) k\(k), whole")
                XCTAssertEqual(product(tiling, rowGroups: (0..<m).map { $0..<($0 + 1) }), reference, "\(tiling) m\(m) n\(n) k\(k), by row")
                XCTAssertEqual(product(tiling, rowGroups: [0..<5, 5..<m]), reference, "\(tiling) m\(m) n\(n) k\(k), 5 + rest")
                XCTAssertEqual(product(tiling, rowGroups: [0..<m], threads: 2), reference, "\(tiling) m\(m) n\(n) k\(k), 2 threads")
            }
        }
    }

    /// Weights that are all exactly float16 (an F16 checkpoint's) are packed as float16, and every tile
    /// gives the same floats as with float32 panels; any other value keeps float32 panels.
    func testHalfPanelsGiveTheSameProductsAsFloatPanels() {
        rng = SplitMix64(seed: 2)
        for tiling in GemmTiling.allCases {
            for (m, n, k) in [(1, 1, 1), (5, 37, 13), (9, 130, 7), (1, 192, 192), (6, 200, 33)] {
                let halves = random(k * n).map { Float(Float16($0)) }
                let half = PackedMatrix(halves, k: k, n: n), single = PackedMatrix(halves, k: k, n: n, allowHalf: false)
                XCTAssertTrue(half.isHalf)
                XCTAssertFalse(single.isHalf)
                XCTAssertFalse(PackedMatrix(halves.enumerated().map { $0.offset == k * n / 2 ? $0.element + 1e-6 : $0.element }, k: k, n: n).isHalf)
                let a = FloatBuffer(random(m * k)), bias = FloatBuffer(random(n))
                let start = random(m * n)
                let x = FloatBuffer(start), y = FloatBuffer(start)
                Gemm.multiply(m: m, a: a.base, lda: k, half, c: x.base, ldc: n, bias: bias.base, accumulate: true, tiling: tiling)
                Gemm.multiply(m: m, a: a.base, lda: k, single, c: y.base, ldc: n, bias: bias.base, accumulate: true, tiling: tiling)
                XCTAssertEqual(Array(UnsafeBufferPointer(start: x.base, count: m * n)), Array(UnsafeBufferPointer(start: y.base, count: m * n)),
                               "\(tiling) m\(m) n\(n) k\(k)")
                XCTAssertNotEqual(Array(UnsafeBufferPointer(start: x.base, count: m * n)), start)
            }
        }
    }
}
