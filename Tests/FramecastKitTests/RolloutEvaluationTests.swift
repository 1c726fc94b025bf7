@testable import FramecastKit
import CodeFile
import XCTest

/// The arithmetic of `eval prior`'s figures, on hand-made numbers.
final class RolloutEvaluationTests: XCTestCase {
    func clip(frames: Int, episodeStarts: [Int]) -> CodeClip {
        var starts = [Bool](repeating: false, count: frames)
        for s in episodeStarts { starts[s] = true }
        return CodeClip(codes: [UInt16](repeating: 0, count: frames), frames: frames, gridH: 1, gridW: 1,
                        actions: [Int32](repeating: 0, count: frames), episodeStart: starts, fps: 15, frameWidth: 8, frameHeight: 8,
                        codebookSize: 4, tokenizerHash: "h", source: "s", sourceBytes: 0, sourceHash: "", actionNames: ["A"])
    }

    func testWindowsStayInsideEpisodesAndAreEvenlySpaced() {
        // Clip 0: 8 frames, an episode starts at 5: spans of 3 fit at 0, 1, 2 (frames 0-4) and 5 (frames 5-7).
        // Clip 1: 2 frames, too short. Clip 2: 4 frames: 0, 1.
        let all = RolloutEvaluation.windowStarts([clip(frames: 8, episodeStarts: [0, 5]), clip(frames: 2, episodeStarts: [0]),
                                                  clip(frames: 4, episodeStarts: [0])], span: 3)
        XCTAssertEqual(all.map { [$0.clip, $0.start] }, [[0, 0], [0, 1], [0, 2], [0, 5], [2, 0], [2, 1]])
        XCTAssertEqual(RolloutEvaluation.evenlySpaced(Array(0..<6), count: 3), [0, 2, 4])
        XCTAssertEqual(RolloutEvaluation.evenlySpaced(Array(0..<10), count: 4), [0, 2, 5, 7])
        XCTAssertEqual(RolloutEvaluation.evenlySpaced(Array(0..<3), count: 8), [0, 1, 2])
    }

    func testShuffledActionsComeFromAnotherWindow() {
        XCTAssertEqual((0..<6).map { RolloutEvaluation.shuffledPartner(of: $0, count: 6) }, [3, 4, 5, 0, 1, 2])
        XCTAssertEqual((0..<5).map { RolloutEvaluation.shuffledPartner(of: $0, count: 5) }, [2, 3, 4, 0, 1])
        for n in 2...9 { for k in 0..<n { XCTAssertNotEqual(RolloutEvaluation.shuffledPartner(of: k, count: n), k) } }
    }

    func testDeltaPSNRAveragesTheFirstEightHorizons() {
        let a = (1...16).map { Double($0) }, b = [Double](repeating: 1, count: 16)
        XCTAssertEqual(RolloutEvaluation.deltaPSNR(a, b), (0.0 + 1 + 2 + 3 + 4 + 5 + 6 + 7) / 8)
        XCTAssertEqual(RolloutEvaluation.deltaPSNR([3, 5], [1, 1]), 3)
    }
}
