import Foundation
import XCTest
@testable import SafeTensors

final class RoundTripTests: XCTestCase {
    private func sampleFile() throws -> SafeTensorsFile {
        SafeTensorsFile(
            entries: [
                try TensorEntry(name: "encoder.conv1.weight", floats: (0..<24).map { Float($0) * 0.25 - 3 }, shape: [2, 3, 4]),
                try TensorEntry(name: "scalar", floats: [Float.pi], shape: []),
                try TensorEntry(name: "empty", floats: [], shape: [0]),
                try TensorEntry(name: "empty2d", int32s: [], shape: [3, 0]),
                try TensorEntry(name: "codes", uint16s: [0, 1, 511, 65535], shape: [2, 2]),
                try TensorEntry(name: "actions", int32s: [-1, 0, 7, Int32.max, Int32.min], shape: [5]),
                try TensorEntry(name: "flags", uint8s: [1, 0, 255], shape: [3]),
                try TensorEntry(name: "steps", int64s: [Int64.min, 0, 1 << 40], shape: [3]),
                try TensorEntry(name: "half", floats: [1, -2.5, 0.1, 65504], shape: [4], storedAs: .f16),
                try TensorEntry(name: "brain", floats: [1, -2.5, 3e38], shape: [3], storedAs: .bf16),
                try TensorEntry(name: "raw64", dtype: .f64, shape: [1], bytes: Array(withUnsafeBytes(of: 1.5.bitPattern.littleEndian) { $0 })),
                try TensorEntry(name: "mask", dtype: .bool, shape: [2, 1], bytes: [1, 0]),
            ],
            metadata: ["format": "test", "note": "quotes \" and \\ and\nnewline, ünïcode ✓"]
        )
    }

    func testInMemoryRoundTripPreservesEverything() throws {
        let original = try sampleFile()
        let decoded = try SafeTensorsFile(data: try original.data())
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.entries.map(\.name), original.entries.map(\.name), "order is preserved")
    }

    func testFileRoundTripAndTypedValues() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("model.safetensors")
        try sampleFile().write(to: url)
        let file = try SafeTensorsFile.read(from: url)

        XCTAssertEqual(try file["encoder.conv1.weight"]?.floats(), (0..<24).map { Float($0) * 0.25 - 3 })
        XCTAssertEqual(file["encoder.conv1.weight"]?.shape, [2, 3, 4])
        XCTAssertEqual(file["scalar"]?.shape, [])
        XCTAssertEqual(try file["scalar"]?.floats(), [Float.pi])
        XCTAssertEqual(file["empty"]?.elementCount, 0)
        XCTAssertEqual(file["empty2d"]?.shape, [3, 0])
        XCTAssertEqual(try file["codes"]?.uint16s(), [0, 1, 511, 65535])
        XCTAssertEqual(try file["actions"]?.int32s(), [-1, 0, 7, Int32.max, Int32.min])
        XCTAssertEqual(try file["flags"]?.uint8s(), [1, 0, 255])
        XCTAssertEqual(try file["steps"]?.int64s(), [Int64.min, 0, 1 << 40])
        XCTAssertEqual(try file["half"]?.floats(), [1, -2.5, 0.0999755859375, 65504])
        XCTAssertEqual(try file["mask"]?.uint8s(), [1, 0])
        XCTAssertEqual(file.metadata["note"], "quotes \" and \\ and\nnewline, ünïcode ✓")
        XCTAssertEqual(try fileNames(in: directory), ["model.safetensors"], "no temporary file left behind")
    }

    func testOverwritingReplacesTheFile() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("w.safetensors")
        try SafeTensorsFile(entries: [try TensorEntry(name: "a", floats: [1, 2, 3], shape: [3])]).write(to: url)
        try SafeTensorsFile(entries: [try TensorEntry(name: "b", uint8s: [9], shape: [1])]).write(to: url)
        let file = try SafeTensorsFile.read(from: url)
        XCTAssertEqual(file.entries.map(\.name), ["b"])
    }

    func testTypedAccessorsRejectOtherDTypes() throws {
        let entry = try TensorEntry(name: "ids", int32s: [1, 2], shape: [2])
        assertSafeTensorsError(try entry.floats(), mentions: ["ids", "I32", "F32"])
        assertSafeTensorsError(try entry.uint16s(), mentions: ["ids", "U16"])
    }

    func testConstructorsRejectCountsThatDoNotFitTheShape() {
        assertSafeTensorsError(try TensorEntry(name: "w", floats: [1, 2, 3], shape: [2, 2]), mentions: ["w", "3 values", "[2, 2]"])
        assertSafeTensorsError(try TensorEntry(name: "s", uint16s: [], shape: []), mentions: ["s"])
        assertSafeTensorsError(try TensorEntry(name: "r", dtype: .f32, shape: [2], bytes: [0, 0, 0]), mentions: ["r", "8 bytes"])
        assertSafeTensorsError(try TensorEntry(name: "i", floats: [1], shape: [1], storedAs: .i32), mentions: ["i", "I32"])
    }

    func testWritingRejectsDuplicateAndReservedNames() throws {
        let a = try TensorEntry(name: "a", floats: [1], shape: [1])
        assertSafeTensorsError(try SafeTensorsFile(entries: [a, a]).data(), mentions: ["duplicate", "'a'"])
        var reserved = a
        reserved.name = "__metadata__"
        assertSafeTensorsError(try SafeTensorsFile(entries: [reserved]).data(), mentions: ["__metadata__", "reserved"])
    }
}
