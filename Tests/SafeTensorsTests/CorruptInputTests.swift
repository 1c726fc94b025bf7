import Foundation
import XCTest
@testable import SafeTensors

final class CorruptInputTests: XCTestCase {
    /// Writes `data` to a file and asserts reading it fails naming the file and each fragment.
    private func assertReadFails(_ data: Data, mentions fragments: [String], line: UInt = #line) throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("bad.safetensors")
        try data.write(to: url)
        assertSafeTensorsError(try SafeTensorsFile.read(from: url), mentions: [url.path] + fragments, line: line)
    }

    private let goodTensor = #"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    func testMissingFile() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("absent.safetensors")
        assertSafeTensorsError(try SafeTensorsFile.read(from: url), mentions: [url.path, "cannot read", "no such file"])
    }

    func testTooShortForTheLengthPrefix() throws {
        try assertReadFails(Data([1, 2, 3]), mentions: ["too short", "3 bytes"])
    }

    func testHeaderLengthLargerThanTheFile() throws {
        var data = rawSafeTensors(header: goodTensor, buffer: Array(repeating: 0, count: 8))
        data[0] = 0xF0
        data[1] = 0x01
        try assertReadFails(data, mentions: ["header length 496", "exceeds the file"])
    }

    func testHeaderLengthOverTheLimit() throws {
        var data = Data(repeating: 0, count: 16)
        data[4] = 1  // 2^32
        try assertReadFails(data, mentions: ["header length 4294967296", "100 MB limit"])
    }

    func testGarbageJSON() throws {
        try assertReadFails(rawSafeTensors(header: "{\"t\": [1, 2,"), mentions: ["not valid JSON"])
        try assertReadFails(rawSafeTensors(header: "not json at all"), mentions: ["not valid JSON"])
        try assertReadFails(rawSafeTensors(header: "[1, 2]"), mentions: ["expected an object"])
    }

    func testUnknownDType() throws {
        let header = #"{"t":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#
        try assertReadFails(rawSafeTensors(header: header, buffer: [0, 0]), mentions: ["unknown dtype", "F8_E4M3", "'t'"])
    }

    func testShapeAndOffsetsDisagree() throws {
        let header = #"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        try assertReadFails(rawSafeTensors(header: header, buffer: Array(repeating: 0, count: 12)),
                            mentions: ["'t'", "needs 12 bytes", "span 8 bytes"])
    }

    func testOverlappingTensors() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try assertReadFails(rawSafeTensors(header: header, buffer: Array(repeating: 0, count: 8)),
                            mentions: ["'a'", "'b'", "overlapping"])
    }

    func testReversedOffsets() throws {
        let header = #"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#
        try assertReadFails(rawSafeTensors(header: header, buffer: Array(repeating: 0, count: 8)),
                            mentions: ["'a'", "invalid data_offsets [4, 0]"])
    }

    func testTruncatedData() throws {
        var data = try SafeTensorsFile(entries: [try TensorEntry(name: "t", floats: [1, 2, 3, 4], shape: [4])]).data()
        data.removeLast(5)
        try assertReadFails(data, mentions: ["truncated", "'t'", "ends at byte 16", "only 11"])
    }

    func testNonStringMetadata() throws {
        let header = #"{"__metadata__":{"fps":15},"t":{"dtype":"U8","shape":[],"data_offsets":[0,1]}}"#
        try assertReadFails(rawSafeTensors(header: header, buffer: [0]), mentions: ["non-string metadata", "'fps'"])
    }

    func testStructuralHeaderProblems() throws {
        try assertReadFails(rawSafeTensors(header: #"{"t":{"dtype":"F32","shape":[2]}}"#, buffer: []),
                            mentions: ["'t'", "no 'data_offsets'"])
        try assertReadFails(rawSafeTensors(header: #"{"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}"#),
                            mentions: ["'t'", "non-negative integers"])
        try assertReadFails(rawSafeTensors(header: #"{"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"t":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#, buffer: [0, 0]),
                            mentions: ["duplicate key 't'"])
        try assertReadFails(rawSafeTensors(header: #"{"t":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#),
                            mentions: ["'t'", "too large"])
    }

    func testInMemoryErrorsHaveNoFilePrefix() {
        assertSafeTensorsError(try SafeTensorsFile(data: Data([0])), mentions: ["file too short"])
        assertSafeTensorsError(try SafeTensorsFile(data: Data([0]), fileName: "x.st"), mentions: ["x.st: file too short"])
    }

    func testToleratesUnpaddedHeadersWhitespaceAndEscapes() throws {
        let header = " {\"t\\u00e9\" : {\"data_offsets\":[0,2], \"shape\":[1], \"dtype\":\"U16\"}, \"__metadata__\": null}\n"
        let file = try SafeTensorsFile(data: rawSafeTensors(header: header, buffer: [0x34, 0x12]))
        XCTAssertEqual(try file["té"]?.uint16s(), [0x1234])
        XCTAssertEqual(file.metadata, [:])
    }
}
