import Foundation
import XCTest
@testable import SafeTensors

/// A fresh empty directory under the system temporary directory, removed at the end of the test.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("SafeTensorsTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock {
        try? FileManager.default.removeItem(at: url)
    }
    return url
}

/// Safetensors bytes with a hand-written header and buffer (header not padded).
func rawSafeTensors(header: String, buffer: [UInt8] = []) -> Data {
    let headerBytes = Array(header.utf8)
    var data = Data()
    withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: headerBytes)
    data.append(contentsOf: buffer)
    return data
}

/// Asserts that `body` throws a `SafeTensorsError` whose description contains every fragment.
func assertSafeTensorsError<T>(
    _ body: @autoclosure () throws -> T, mentions fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? SafeTensorsError else {
            return XCTFail("expected SafeTensorsError, got \(error)", file: file, line: line)
        }
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment),
                          "'\(error.description)' does not mention '\(fragment)'", file: file, line: line)
        }
    }
}

/// Names of the files in `directory`, sorted.
func fileNames(in directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
}
