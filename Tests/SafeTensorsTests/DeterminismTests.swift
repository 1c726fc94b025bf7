import Foundation
import XCTest
@testable import SafeTensors

final class DeterminismTests: XCTestCase {
    func testExactBytesForASmallFile() throws {
        let file = SafeTensorsFile(
            entries: [try TensorEntry(name: "x", floats: [1], shape: [1])],
            metadata: ["b": "2", "a": "1"]
        )
        let data = try file.data()
        let header = #"{"__metadata__":{"a":"1","b":"2"},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let padded = header + String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        XCTAssertEqual(data, rawSafeTensors(header: padded, buffer: [0x00, 0x00, 0x80, 0x3F]))
    }

    func testHeaderKeysAreSortedButBufferFollowsInsertionOrder() throws {
        let file = SafeTensorsFile(entries: [
            try TensorEntry(name: "zeta", uint8s: [1], shape: [1]),
            try TensorEntry(name: "alpha", uint8s: [2, 3], shape: [2]),
        ])
        let data = try file.data()
        let headerLength = Int(data[0])
        let header = String(decoding: data[8..<8 + headerLength], as: UTF8.self)
        XCTAssertLessThan(header.range(of: "alpha")!.lowerBound, header.range(of: "zeta")!.lowerBound)
        XCTAssertTrue(header.contains(#""zeta":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#))
        XCTAssertEqual(Array(data.suffix(3)), [1, 2, 3])
        XCTAssertEqual(headerLength % 8, 0, "header is padded so the buffer is 8-byte aligned")
        XCTAssertEqual(try SafeTensorsFile(data: data).entries.map(\.name), ["zeta", "alpha"])
    }

    func testWritingTwiceGivesIdenticalBytes() throws {
        var metadata: [String: String] = [:]
        for index in 0..<50 { metadata["key\(index)"] = "value \(index)" }
        let file = SafeTensorsFile(
            entries: try (0..<20).map { try TensorEntry(name: "t\($0)", floats: [Float($0)], shape: [1]) },
            metadata: metadata
        )
        let directory = try makeTemporaryDirectory(self)
        let first = directory.appendingPathComponent("1.safetensors")
        let second = directory.appendingPathComponent("2.safetensors")
        try file.write(to: first)
        // A value built independently (different dictionary insertion order) encodes the same.
        let rebuilt = SafeTensorsFile(entries: file.entries, metadata: Dictionary(uniqueKeysWithValues: metadata.reversed()))
        try rebuilt.write(to: second)
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second))
    }
}
