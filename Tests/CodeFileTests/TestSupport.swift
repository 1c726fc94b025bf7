import Foundation
import XCTest
import SafeTensors
@testable import CodeFile

let tokenizerHash = "3f2a9c7d1e5b4a6c8d0e2f4a6b8c0d1e3f5a7b9c1d3e5f7a9b1c3d5e7f9a1b3c"

/// A valid 4-frame, 2×3-grid clip with named actions and two episodes.
func sampleClip() -> CodeClip {
    CodeClip(
        codes: (0..<24).map { UInt16($0 * 21 % 512) }, frames: 4, gridH: 2, gridW: 3,
        actions: [0, 2, -1, 1], episodeStart: [true, false, true, false],
        fps: 29.97, frameWidth: 64, frameHeight: 48,
        codebookSize: 512, tokenizerHash: tokenizerHash,
        source: "/data/clips/doom 01.mp4", sourceBytes: 1_234_567, sourceHash: "abcdef",
        actionNames: ["NOOP", "MOVE_FORWARD", "TURN_LEFT"]
    )
}

/// A fresh empty directory removed at the end of the test.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("CodeFileTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock {
        try? FileManager.default.removeItem(at: url)
    }
    return url
}

/// Asserts that `body` throws a `CodeFileError` with `problem` whose description contains every fragment.
func assertCodeFileError<T>(
    _ body: @autoclosure () throws -> T, problem: CodeFileError.Problem? = nil, mentions fragments: [String] = [],
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? CodeFileError else {
            return XCTFail("expected CodeFileError, got \(error)", file: file, line: line)
        }
        if let problem {
            XCTAssertEqual(error.problem, problem, file: file, line: line)
        }
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment),
                          "'\(error.description)' does not mention '\(fragment)'", file: file, line: line)
        }
    }
}
