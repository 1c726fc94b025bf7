import Foundation
import XCTest
import SafeTensors
@testable import CodeFile

final class CodeClipRoundTripTests: XCTestCase {
    func testFileRoundTripPreservesTheClip() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("clip.\(CodeFileFormat.fileExtension)")
        let clip = sampleClip()
        try clip.write(to: url)
        let read = try CodeClip.read(from: url)
        XCTAssertEqual(read, clip)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["clip.codes.safetensors"])
    }

    func testContainerLayoutIsTheDocumentedOne() throws {
        let container = try sampleClip().safeTensorsFile()
        XCTAssertEqual(container.entries.map(\.name), ["codes", "actions", "episode_start"])
        XCTAssertEqual(container["codes"]?.dtype, .u16)
        XCTAssertEqual(container["codes"]?.shape, [4, 2, 3])
        XCTAssertEqual(container["actions"]?.dtype, .i32)
        XCTAssertEqual(container["episode_start"]?.dtype, .u8)
        XCTAssertEqual(try container["episode_start"]?.uint8s(), [1, 0, 1, 0])
        XCTAssertEqual(container.metadata, [
            "format": "framecast-codes", "version": "1", "fps": "29.97",
            "source": "/data/clips/doom 01.mp4", "source_bytes": "1234567", "source_sha256": "abcdef",
            "frame_width": "64", "frame_height": "48", "grid": "2x3", "codebook_size": "512",
            "tokenizer_sha256": tokenizerHash, "action_names": #"["NOOP","MOVE_FORWARD","TURN_LEFT"]"#,
        ])
    }

    func testIntegralFpsUnnamedActionsAndNoSourceHash() throws {
        var clip = sampleClip()
        clip.fps = 15
        clip.actionNames = []
        clip.actions = [-1, 40, 7, 0]
        clip.sourceHash = nil
        let container = try clip.safeTensorsFile()
        XCTAssertEqual(container.metadata["fps"], "15")
        XCTAssertEqual(container.metadata["action_names"], "[]")
        XCTAssertNil(container.metadata["source_sha256"])
        XCTAssertEqual(try CodeClip(safeTensors: SafeTensorsFile(data: container.data())), clip)
    }

    func testFrameSlicesAreRowMajorGrids() {
        let clip = sampleClip()
        XCTAssertEqual(clip.codesPerFrame, 6)
        XCTAssertEqual(Array(clip.frame(0)), Array(clip.codes[0..<6]))
        XCTAssertEqual(Array(clip.frame(3)), Array(clip.codes[18..<24]))
    }

    func testWritesAreDeterministic() throws {
        XCTAssertEqual(try sampleClip().safeTensorsFile().data(), try sampleClip().safeTensorsFile().data())
    }

    func testValidateAgainstTheMatchingTokenizer() throws {
        try sampleClip().validate(against: tokenizerHash.uppercased(), codebookSize: 512)
    }

    func testValidateReportsATokenizerMismatch() {
        let other = "def0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
        assertCodeFileError(
            try sampleClip().validate(against: other, codebookSize: 512, file: "runs/a.codes.safetensors"),
            problem: .tokenizerMismatch(fileHash: tokenizerHash, givenHash: other),
            mentions: ["runs/a.codes.safetensors", "made by tokenizer 3f2a9c7d1e5b…", "given tokenizer is def012345678…"])
    }

    func testValidateReportsACodebookSizeMismatch() {
        assertCodeFileError(
            try sampleClip().validate(against: tokenizerHash, codebookSize: 1024),
            problem: .codebookSizeMismatch(fileSize: 512, givenSize: 1024),
            mentions: ["512", "1024"])
    }
}
