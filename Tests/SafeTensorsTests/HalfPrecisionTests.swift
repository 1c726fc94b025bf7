import XCTest
@testable import SafeTensors

final class HalfPrecisionTests: XCTestCase {
    private func roundTripF16(_ values: [Float]) throws -> [Float] {
        try TensorEntry(name: "h", floats: values, shape: [values.count], storedAs: .f16).floats()
    }

    private func roundTripBF16(_ values: [Float]) throws -> [Float] {
        try TensorEntry(name: "b", floats: values, shape: [values.count], storedAs: .bf16).floats()
    }

    func testF16StoresTwoBytesPerValueWithKnownBitPatterns() throws {
        let entry = try TensorEntry(name: "h", floats: [1, -2, 65504, 0], shape: [4], storedAs: .f16)
        XCTAssertEqual(entry.dtype, .f16)
        XCTAssertEqual(entry.bytes, [0x00, 0x3C, 0x00, 0xC0, 0xFF, 0x7B, 0x00, 0x00])
    }

    func testF16ExactValuesSurviveExactly() throws {
        let exact: [Float] = [0, -0, 1, -1, 0.5, 1024, 2048, 65504, -65504, 0.000061035156, 5.9604645e-8, 0.333251953125]
        XCTAssertEqual(try roundTripF16(exact), exact)
    }

    func testF16RelativeErrorIsWithinHalfAnUlp() throws {
        var values: [Float] = []
        var x: Float = 0.0001
        while x < 60000 {
            values.append(x)
            values.append(-x * 1.37)
            x *= 1.0137
        }
        let converted = try roundTripF16(values)
        for (value, half) in zip(values, converted) where abs(value) >= 6.2e-5 && abs(value) <= 65504 {
            XCTAssertLessThanOrEqual(abs(half - value) / abs(value), 1.0 / 2048, "value \(value) became \(half)")
        }
    }

    func testF16RoundsTiesToEvenAndOverflowsToInfinity() throws {
        let ulp: Float = 1.0 / 1024
        let converted = try roundTripF16([1 + ulp / 2, 1 + 3 * ulp / 2, 1 + ulp * 0.51, 65520, 1e6, -1e6, .nan])
        XCTAssertEqual(converted[0], 1, "tie rounds down to the even neighbour")
        XCTAssertEqual(converted[1], 1 + 2 * ulp, "tie rounds up to the even neighbour")
        XCTAssertEqual(converted[2], 1 + ulp, "above the tie rounds up")
        XCTAssertEqual(converted[3], .infinity, "65520 is the tie between 65504 and infinity")
        XCTAssertEqual(converted[4], .infinity)
        XCTAssertEqual(converted[5], -.infinity)
        XCTAssertTrue(converted[6].isNaN)
    }

    func testBF16RoundsTiesToEven() throws {
        let ulp: Float = 1.0 / 128
        let converted = try roundTripBF16([1, 1 + ulp / 2, 1 + 3 * ulp / 2, -3.140625, .infinity, .nan])
        XCTAssertEqual(Array(converted[0..<5]), [1, 1, 1 + 2 * ulp, -3.140625, .infinity])
        XCTAssertTrue(converted[5].isNaN)
    }
}
