import Foundation
@testable import Prior
import XCTest

final class VectorMathTests: XCTestCase {
    func testExpIsAccurateOverTheFloatRange() {
        var worst = 0.0
        for i in 0..<20_000 {
            let x = -87 + 175 * Float(i) / 20_000
            let got = VectorMath.exp(Vec(repeating: x))[0]
            worst = max(worst, abs(Double(got) - Foundation.exp(Double(x))) / Foundation.exp(Double(x)))
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(VectorMath.exp(Vec(repeating: -1000))[0], 0, accuracy: 1e-37)
    }

    func testGeluIsTheErfGelu() {
        var worst = 0.0
        for i in 0..<20_000 {
            let x = -12 + 24 * Double(i) / 20_000
            let exact = 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
            worst = max(worst, abs(Double(VectorMath.gelu(Vec(repeating: Float(x)))[0]) - exact))
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testSoftmaxAndLayerNormOfOddLengths() {
        var row: [Float] = (0..<21).map { Float($0 % 5) - 2 } + [9, 9]
        row.withUnsafeMutableBufferPointer { VectorMath.softmax($0.baseAddress!, count: 21, scale: 0.5, zeroUpTo: 23) }
        let weights = (0..<21).map { Foundation.exp(0.5 * Double($0 % 5 - 2)) }
        for i in 0..<21 { XCTAssertEqual(Double(row[i]), weights[i] / weights.reduce(0, +), accuracy: 1e-6) }
        XCTAssertEqual(Array(row[21...]), [0, 0])

        let x: [Float] = (0..<19).map { Float($0 * $0 % 7) }
        let gamma: [Float] = (0..<19).map { 1 + Float($0) / 10 }, beta: [Float] = (0..<19).map { Float($0) / 100 }
        var out = [Float](repeating: 0, count: 19)
        let (buffer, g, b) = (FloatBuffer(x), FloatBuffer(gamma), FloatBuffer(beta))
        out.withUnsafeMutableBufferPointer { VectorMath.layerNorm(buffer.base, $0.baseAddress!, count: 19, gamma: g.base, beta: b.base) }
        let mean = x.reduce(0, +) / 19, variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 19
        for i in 0..<19 { XCTAssertEqual(out[i], (x[i] - mean) / (variance + 1e-5).squareRoot() * gamma[i] + beta[i], accuracy: 1e-5) }
    }
}
