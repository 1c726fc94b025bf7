import Foundation
import XCTest
import SafeTensors
@testable import CodeFile

/// Each way a code file can be wrong, written as a real file and read back.
final class CodeClipValidationTests: XCTestCase {
    /// Writes the sample clip's container after `edit` and asserts reading it fails as described.
    private func assertReadFails(
        problem: CodeFileError.Problem, mentions fragments: [String] = [],
        line: UInt = #line, edit: (inout SafeTensorsFile) throws -> Void
    ) throws {
        var container = try sampleClip().safeTensorsFile()
        try edit(&container)
        let url = try makeTemporaryDirectory(self).appendingPathComponent("clip.codes.safetensors")
        try container.write(to: url)
        assertCodeFileError(try CodeClip.read(from: url), problem: problem, mentions: [url.path] + fragments, line: line)
    }

    private func replace(_ name: String, with entry: TensorEntry, in container: inout SafeTensorsFile) {
        container.entries.removeAll { $0.name == name }
        container.entries.append(entry)
    }

    func testCorruptContainer() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("clip.codes.safetensors")
        try Data([1, 2, 3]).write(to: url)
        assertCodeFileError(try CodeClip.read(from: url), problem: .container(.tooShort(size: 3)), mentions: [url.path, "too short"])
    }

    func testWrongFormatTag() throws {
        try assertReadFails(problem: .wrongFormat(found: "pt"), mentions: ["not a framecast code file", "'pt'"]) {
            $0.metadata["format"] = "pt"
        }
        try assertReadFails(problem: .wrongFormat(found: nil), mentions: ["format is missing"]) {
            $0.metadata["format"] = nil
        }
    }

    func testUnsupportedVersion() throws {
        try assertReadFails(problem: .unsupportedVersion(found: "2"), mentions: ["version '2'", "reads version 1"]) {
            $0.metadata["version"] = "2"
        }
    }

    func testMissingTensors() throws {
        for name in ["codes", "actions", "episode_start"] {
            try assertReadFails(problem: .missingTensor(name: name), mentions: ["missing tensor '\(name)'"]) {
                $0.entries.removeAll { $0.name == name }
            }
        }
    }

    func testWrongDType() throws {
        try assertReadFails(problem: .wrongDType(tensor: "codes", expected: .u16, found: .i32), mentions: ["'codes'", "I32", "U16"]) {
            self.replace("codes", with: try TensorEntry(name: "codes", int32s: Array(repeating: 0, count: 24), shape: [4, 2, 3]), in: &$0)
        }
        try assertReadFails(problem: .wrongDType(tensor: "actions", expected: .i32, found: .i64)) {
            self.replace("actions", with: try TensorEntry(name: "actions", int64s: [0, 0, 0, 0], shape: [4]), in: &$0)
        }
    }

    func testWrongRank() throws {
        try assertReadFails(problem: .wrongRank(tensor: "codes", expectedRank: 3, shape: [4, 6]), mentions: ["[4, 6]", "3 dimensions"]) {
            self.replace("codes", with: try TensorEntry(name: "codes", uint16s: Array(repeating: 0, count: 24), shape: [4, 6]), in: &$0)
        }
    }

    func testFrameCountsDisagree() throws {
        try assertReadFails(problem: .frameCountMismatch(name: "actions", count: 3, frames: 4), mentions: ["'actions' has 3", "4 frames"]) {
            self.replace("actions", with: try TensorEntry(name: "actions", int32s: [0, 0, 0], shape: [3]), in: &$0)
        }
        try assertReadFails(problem: .frameCountMismatch(name: "episode_start", count: 5, frames: 4)) {
            self.replace("episode_start", with: try TensorEntry(name: "episode_start", uint8s: [1, 0, 0, 0, 0], shape: [5]), in: &$0)
        }
    }

    func testNoFrames() throws {
        try assertReadFails(problem: .noFrames, mentions: ["no frames"]) {
            self.replace("codes", with: try TensorEntry(name: "codes", uint16s: [], shape: [0, 2, 3]), in: &$0)
        }
    }

    func testGridMetadataDisagreesWithShape() throws {
        try assertReadFails(problem: .gridMismatch(grid: "3x2", codesShape: [4, 2, 3]), mentions: ["grid '3x2'", "[4, 2, 3]"]) {
            $0.metadata["grid"] = "3x2"
        }
        try assertReadFails(problem: .invalidMetadata(key: "grid", value: "8 by 8", expected: "HxW, e.g. 8x8")) {
            $0.metadata["grid"] = "8 by 8"
        }
    }

    func testCodeAtOrAboveCodebookSize() throws {
        try assertReadFails(problem: .codeOutOfRange(code: 511, frame: 1, codebookSize: 300),
                            mentions: ["code 511 at frame 1", "codebook size 300"]) {
            $0.metadata["codebook_size"] = "300"
            var codes = Array(repeating: UInt16(0), count: 24)
            codes[7] = 511
            self.replace("codes", with: try TensorEntry(name: "codes", uint16s: codes, shape: [4, 2, 3]), in: &$0)
        }
    }

    func testActionIdOutOfRange() throws {
        try assertReadFails(problem: .actionOutOfRange(action: 3, frame: 2, actionCount: 3), mentions: ["action id 3 at frame 2", "3 action names"]) {
            self.replace("actions", with: try TensorEntry(name: "actions", int32s: [0, 1, 3, -1], shape: [4]), in: &$0)
        }
        try assertReadFails(problem: .actionOutOfRange(action: -2, frame: 0, actionCount: 0)) {
            $0.metadata["action_names"] = "[]"
            self.replace("actions", with: try TensorEntry(name: "actions", int32s: [-2, 1, 3, -1], shape: [4]), in: &$0)
        }
    }

    func testEpisodeStartValues() throws {
        try assertReadFails(problem: .invalidEpisodeStart(value: 2, frame: 1), mentions: ["episode_start at frame 1 is 2"]) {
            self.replace("episode_start", with: try TensorEntry(name: "episode_start", uint8s: [1, 2, 0, 0], shape: [4]), in: &$0)
        }
        try assertReadFails(problem: .firstFrameNotEpisodeStart, mentions: ["frame 0 must be 1"]) {
            self.replace("episode_start", with: try TensorEntry(name: "episode_start", uint8s: [0, 0, 1, 0], shape: [4]), in: &$0)
        }
    }

    func testMalformedMetadata() throws {
        try assertReadFails(problem: .invalidMetadata(key: "fps", value: "fast", expected: "a positive decimal number"),
                            mentions: ["'fps' is 'fast'"]) {
            $0.metadata["fps"] = "fast"
        }
        try assertReadFails(problem: .invalidMetadata(key: "fps", value: "nan", expected: "a positive decimal number")) {
            $0.metadata["fps"] = "nan"
        }
        try assertReadFails(problem: .invalidMetadata(key: "codebook_size", value: "K", expected: "an integer ≥ 1"),
                            mentions: ["'codebook_size' is 'K'"]) {
            $0.metadata["codebook_size"] = "K"
        }
        try assertReadFails(problem: .invalidMetadata(key: "codebook_size", value: "70000", expected: "at most 65536 (codes are U16)")) {
            $0.metadata["codebook_size"] = "70000"
        }
        try assertReadFails(problem: .invalidMetadata(key: "action_names", value: "NOOP,FIRE", expected: "a JSON array of strings")) {
            $0.metadata["action_names"] = "NOOP,FIRE"
        }
        try assertReadFails(problem: .invalidMetadata(key: "source_bytes", value: "-1", expected: "a non-negative integer")) {
            $0.metadata["source_bytes"] = "-1"
        }
        try assertReadFails(problem: .missingMetadata(key: "tokenizer_sha256"), mentions: ["missing metadata 'tokenizer_sha256'"]) {
            $0.metadata["tokenizer_sha256"] = nil
        }
    }

    func testWritingAnInconsistentClipFailsAndLeavesNoFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("bad.codes.safetensors")
        var clip = sampleClip()
        clip.codes.removeLast()
        assertCodeFileError(try clip.write(to: url), problem: .codeCountMismatch(count: 23, frames: 4, gridH: 2, gridW: 3),
                            mentions: [url.path, "23 codes"])
        clip = sampleClip()
        clip.codes[0] = 512
        assertCodeFileError(try clip.write(to: url), problem: .codeOutOfRange(code: 512, frame: 0, codebookSize: 512))
        clip = sampleClip()
        clip.episodeStart[0] = false
        assertCodeFileError(try clip.write(to: url), problem: .firstFrameNotEpisodeStart)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}
