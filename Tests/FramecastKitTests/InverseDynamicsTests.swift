import CodeFile
@testable import FramecastKit
import Foundation
import NN
import XCTest

/// The action-following classifier: it learns actions that the frames show, and cannot do better
/// than guessing the most common action when they show nothing.
final class InverseDynamicsTests: XCTestCase {
    /// A clip of 4×4 code grids where action 0 keeps the grid, 1 moves it one column right and 2
    /// one column left, new codes coming into view at the edge, as turning moves a view; with
    /// `unrelated`, the recorded actions are drawn independently of the motion.
    static func clip(frames: Int, seed: UInt64, unrelated: Bool = false) -> CodeClip {
        var rng = SplitMix64(seed: seed)
        let k = 16
        var grid = (0..<16).map { _ in UInt16(rng.next() % UInt64(k)) }
        var codes: [UInt16] = [], actions: [Int32] = []
        for _ in 0..<frames {
            codes += grid
            let moved = Int(rng.next() % 3)
            let shift = [0, 1, 3][moved]   // columns to the right, mod 4
            grid = (0..<16).map { i in grid[(i / 4) * 4 + (i % 4 + 4 - shift) % 4] }
            // The column that came into view is new.
            let entered = [-1, 0, 3][moved]
            if entered >= 0 { for row in 0..<4 { grid[row * 4 + entered] = UInt16(rng.next() % UInt64(k)) } }
            actions.append(Int32(unrelated ? Int(rng.next() % 3) : moved))
        }
        return CodeClip(codes: codes, frames: frames, gridH: 4, gridW: 4, actions: actions,
                        episodeStart: [true] + [Bool](repeating: false, count: frames - 1), fps: 15, frameWidth: 16, frameHeight: 16,
                        codebookSize: k, tokenizerHash: String(repeating: "b", count: 64), source: "synthetic", sourceBytes: 0,
                        actionNames: ["KEEP", "SHIFT1", "SHIFT2"])
    }

    /// K = 16 random code vectors of dimension 4.
    static func codebook() -> [Float] {
        var rng = SplitMix64(seed: 9)
        return (0..<(16 * 4)).map { _ in Float(rng.next() % 1000) / 500 - 1 }
    }

    func testPairsSkipEpisodeStartsAndUnrecordedActions() {
        var clip = Self.clip(frames: 10, seed: 1)
        clip.episodeStart[5] = true     // the pair (4, 5) crosses episodes
        clip.actions[7] = -1            // no action recorded after frame 7
        let pairs = ActionPairs.of([clip])
        XCTAssertEqual(pairs.count, 9 - 2)
        XCTAssertEqual(pairs.before.count, 7 * 16)
        XCTAssertEqual(Array(pairs.before[0..<16]), clip.frame(0).map { Int64($0) })
        XCTAssertEqual(Array(pairs.after[0..<16]), clip.frame(1).map { Int64($0) })
        XCTAssertEqual(pairs.actions[0], Int64(clip.actions[0]))
    }

    func testLearnsActionsTheFramesShowAndOnlyGuessesOtherwise() throws {
        let train = ActionPairs.of([Self.clip(frames: 4000, seed: 2)])
        let validation = ActionPairs.of([Self.clip(frames: 400, seed: 3)])
        let model = try InverseDynamics(codeVectors: Self.codebook(), codeDim: 4, tokensPerFrame: 16, actionCount: 3, width: 64)
        let before = try model.accuracy(validation)
        try model.train(train, steps: 1000, batch: 64, learningRate: 3e-3, seed: 0)
        let after = try model.accuracy(validation)
        XCTAssertGreaterThan(after, 0.95, "the action is visible in every pair (before training: \(before))")

        let unrelatedTrain = ActionPairs.of([Self.clip(frames: 1500, seed: 4, unrelated: true)])
        let unrelatedValidation = ActionPairs.of([Self.clip(frames: 400, seed: 5, unrelated: true)])
        let blind = try InverseDynamics(codeVectors: Self.codebook(), codeDim: 4, tokensPerFrame: 16, actionCount: 3, width: 64)
        try blind.train(unrelatedTrain, steps: 1000, batch: 64, learningRate: 3e-3, seed: 0)
        XCTAssertLessThan(try blind.accuracy(unrelatedValidation), unrelatedValidation.majorityShare + 0.1,
                          "actions unrelated to the frames cannot be read from them")
    }

    func testTrainingIsDeterministic() throws {
        let train = ActionPairs.of([Self.clip(frames: 300, seed: 6)])
        var weights: [[Float]] = []
        for _ in 0..<2 {
            let model = try InverseDynamics(codeVectors: Self.codebook(), codeDim: 4, tokensPerFrame: 16, actionCount: 3, width: 32)
            try model.train(train, steps: 20, batch: 16, seed: 7)
            weights.append(try model.output.weight.floats())
        }
        XCTAssertEqual(weights[0], weights[1])
    }
}
