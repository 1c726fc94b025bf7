import CodeFile
import NN
@testable import Prior
import TestSupport
import XCTest

/// The Swift decoder against the libtorch model it copies.
final class PriorDecoderTests: TwoThreadTestCase {
    /// A small random model: grid 2×3 (odd sizes exercise the kernels' partial tiles).
    func model(seed: UInt64, layers: Int, width: Int, heads: Int, actionIntoFrame: Bool = true, actionModulation: Bool = true,
               contextFrames: Int = 3, codebookSize: Int = 37) throws -> PriorModel {
        Torch.manualSeed(seed)
        var c = PriorConfig()
        (c.layers, c.width, c.heads, c.contextFrames) = (layers, width, heads, contextFrames)
        (c.gridWidth, c.gridHeight, c.codebookSize, c.actionCount) = (3, 2, codebookSize, 3)
        (c.actionIntoFrame, c.actionModulation) = (actionIntoFrame, actionModulation)
        let model = try PriorModel(config: c)
        // Non-zero biases, LayerNorm affines and action modulation, so every parameter matters.
        try Tensor.noGrad {
            for (name, p) in model.namedParameters where name.contains("ln") || name.hasSuffix(".bias")
                || name.hasPrefix("action_projection") || name.hasSuffix("modulation.weight") {
                try p.copyFrom(Tensor.randn(p.shape) * 0.3 + (name.hasSuffix("ln1.weight") || name.hasSuffix("ln2.weight") ? 1 : 0))
            }
        }
        return model
    }

    /// Random window ids: codes `[S, F, hw]` and actions `[S, F]` (including the no-action id).
    func window(_ config: PriorConfig, samples: Int, frames: Int, seed: UInt64) -> (codes: [Int64], actions: [Int64]) {
        var rng = SplitMix64(seed: seed)
        let codes = (0..<(samples * frames * config.codesPerFrame)).map { _ in Int64(rng.next() % UInt64(config.codebookSize)) }
        let actions = (0..<(samples * frames)).map { _ in Int64(rng.next() % UInt64(config.actionCount + 1)) }
        return (codes, actions)
    }

    func testLogitsMatchTheTrainingPathAtEveryPositionOfAFullWindow() throws {
        let shapes: [(seed: UInt64, layers: Int, width: Int, heads: Int, intoFrame: Bool, modulation: Bool)] = [
            (31, 2, 32, 2, true, true), (32, 1, 48, 3, false, true), (33, 3, 64, 4, true, false), (34, 2, 40, 2, true, true),
            (35, 2, 24, 3, false, false), (36, 1, 24, 2, false, true),
        ]
        for shape in shapes {
            let model = try model(seed: shape.seed, layers: shape.layers, width: shape.width, heads: shape.heads,
                                  actionIntoFrame: shape.intoFrame, actionModulation: shape.modulation)
            let config = model.config
            let (f, hw, n, k) = (config.contextFrames, config.codesPerFrame, config.tokensPerFrame, config.codebookSize)
            for samples in [1, 3] {
                let (codes, actions) = window(config, samples: samples, frames: f, seed: shape.seed &+ UInt64(samples))
                let reference = try Tensor.noGrad {
                    try model.allLogits(codes: Tensor(codes, shape: [samples, f, hw]), actions: Tensor(actions, shape: [samples, f])).floats()
                }                                                                                   // [S, F·n, K]
                // Feed the window one position at a time, all samples together.
                let decoder = try PriorDecoder(model: model, samples: samples)
                var maxError: Float = 0
                for p in 0..<(f * n) {
                    let (frame, slot) = (p / n, p % n)
                    let tokens = (0..<samples).map { s in
                        PriorDecoder.Token(id: slot < hw ? codes[(s * f + frame) * hw + slot] : actions[s * f + frame], slot: slot, frame: frame,
                                           previousAction: frame == 0 ? Int64(config.noAction) : actions[s * f + frame - 1])
                    }
                    let logits = decoder.feed(tokens, samples: 0..<samples, position: p)           // [S, K]
                    for s in 0..<samples {
                        for i in 0..<k { maxError = max(maxError, abs(logits[s * k + i] - reference[(s * f * n + p) * k + i])) }
                    }
                }
                XCTAssertLessThan(maxError, 1e-4, "\(shape), S = \(samples)")
                // A whole-window prefill gives the last position's logits.
                let prefilled = try decoder.prefill(codes: codes, actions: actions, batch: samples, frames: f)
                for s in 0..<samples {
                    for i in 0..<k { XCTAssertEqual(prefilled[s * k + i], reference[(s * f * n + f * n - 1) * k + i], accuracy: 1e-4) }
                }
            }
        }
    }

    func testCodeLogitsMatchAtTheCodePositions() throws {
        let model = try model(seed: 36, layers: 2, width: 32, heads: 4)
        let config = model.config
        let (f, hw, k) = (config.contextFrames, config.codesPerFrame, config.codebookSize)
        let (codes, actions) = window(config, samples: 1, frames: f, seed: 7)
        let reference = try Tensor.noGrad {
            try model.codeLogits(codes: Tensor(codes, shape: [1, f, hw]), actions: Tensor(actions, shape: [1, f])).floats()
        }                                                                                           // [(F−1)·hw, K]
        let decoder = try PriorDecoder(model: model, samples: 1)
        var logitsAt: [Int: [Float]] = [:]
        for p in 0..<(f * config.tokensPerFrame) {
            let (frame, slot) = (p / config.tokensPerFrame, p % config.tokensPerFrame)
            let token = PriorDecoder.Token(id: slot < hw ? codes[frame * hw + slot] : actions[frame], slot: slot, frame: frame,
                                           previousAction: frame == 0 ? Int64(config.noAction) : actions[frame - 1])
            logitsAt[p] = decoder.feed([token], samples: 0..<1, position: p)
        }
        for (row, p) in model.predictingPositions(frames: f).enumerated() {
            for i in 0..<k { XCTAssertEqual(logitsAt[p]![i], reference[row * k + i], accuracy: 1e-4, "position \(p)") }
        }
    }

    func testGreedyRolloutsMatchTheLibtorchPathAcrossSlidingWindows() throws {
        for (seed, intoFrame, modulation, given) in [(41 as UInt64, true, true, 1), (42, false, true, 2), (43, true, false, 3)] {
            let model = try model(seed: seed, layers: 2, width: 32, heads: 2, actionIntoFrame: intoFrame, actionModulation: modulation,
                                  codebookSize: 8)
            var rng = SplitMix64(seed: seed)
            let context = PriorContext(codes: (0..<(given * 6)).map { _ in UInt16(rng.next() % 8) },
                                       actions: (0..<given).map { _ in Int32(rng.next() % 3) })
            let actions = [2, 0, -1, 1, 2, 1, 0, 2]
            func run(_ engine: PriorSampler.Engine, samples: Int, temperature: Double) throws -> Rollout {
                try PriorSampler(model: model, engine: engine).rollout(context: context, actions: actions, samples: samples,
                                                                       temperature: temperature, seed: 5)
            }
            XCTAssertEqual(try run(.fused, samples: 1, temperature: 0), try run(.libtorch, samples: 1, temperature: 0), "seed \(seed)")
            XCTAssertEqual(try run(.fused, samples: 2, temperature: 0), try run(.libtorch, samples: 2, temperature: 0), "seed \(seed)")
            XCTAssertEqual(try run(.fused, samples: 3, temperature: 1), try run(.fused, samples: 3, temperature: 1), "same seed, same codes")
        }
    }

    /// A re-prefill in two parts (all frames but the newest for the samples, copies for other rows,
    /// then the newest frame appended to every row) gives bit for bit the logits of a whole prefill,
    /// at one and two threads.
    func testPrefillThenAppendEqualsAWholePrefillExactly() throws {
        let model = try model(seed: 44, layers: 2, width: 48, heads: 3, contextFrames: 8)
        let config = model.config
        let (f, hw) = (config.contextFrames, config.codesPerFrame)
        let (codes, actions) = window(config, samples: 2, frames: f, seed: 9)                        // [2, F, hw], [2, F]
        // Rows 2 and 3 are rows 0 and 1 with another action after the newest frame (guidance twins).
        let twinCodes = codes + codes
        var twinActions = actions + actions
        for s in 2..<4 { twinActions[s * f + f - 1] = (twinActions[s * f + f - 1] + 1) % Int64(config.actionCount) }
        for threads in [1, 2] {
            let whole = try PriorDecoder(model: model, samples: 4, threads: threads)
            let expected = try whole.prefill(codes: twinCodes, actions: twinActions, batch: 4, frames: f)   // [4, K]

            let split = try PriorDecoder(model: model, samples: 4, threads: threads)
            var older: [Int64] = [], olderActions: [Int64] = []                                   // [2, F − 1, hw], [2, F − 1]
            for s in 0..<2 {
                older += codes[(s * f * hw)..<((s * f + f - 1) * hw)]
                olderActions += actions[(s * f)..<(s * f + f - 1)]
            }
            _ = try split.prefill(codes: older, actions: olderActions, batch: 2, frames: f - 1)
            try split.gatherCache([0, 1, 0, 1])
            var newest: [Int64] = []                                                               // [4, hw]
            for s in 0..<4 {
                let first = (s * f + f - 1) * hw
                newest += twinCodes[first..<(first + hw)]
            }
            let logits = try split.append(codes: newest, frame: f - 1, previousActions: (0..<4).map { twinActions[$0 * f + f - 2] },
                                      actions: (0..<4).map { twinActions[$0 * f + f - 1] }, batch: 4)
            XCTAssertEqual(logits, expected, "threads \(threads)")
            XCTAssertNotEqual(Array(logits[..<config.codebookSize]), Array(logits[(2 * config.codebookSize)..<(3 * config.codebookSize)]),
                              "the twin's action matters")
        }
    }

    /// Rollouts (guided, two samples, the window sliding at every frame) observe the same logits bit
    /// for bit with one decoder thread or two.
    func testRolloutsDoNotDependOnTheDecoderThreads() throws {
        let model = try model(seed: 45, layers: 2, width: 48, heads: 3, contextFrames: 8)
        var rng = SplitMix64(seed: 45)
        let context = PriorContext(codes: (0..<(8 * 6)).map { _ in UInt16(rng.next() % 37) }, actions: (0..<8).map { _ in Int32(rng.next() % 3) })
        let actions = [2, 0, 0, -1, 1, 1, 2, 1, 1, 0]
        func run(threads: Int) throws -> (Rollout, [[Float]]) {
            var observed: [[Float]] = []
            let rollout = try PriorSampler(model: model, decoderThreads: threads).rollout(
                context: context, actions: actions, samples: 2,
                options: SamplingOptions(temperature: 1, seed: 4, actionGuidance: 2)) { observed.append($2) }
            return (rollout, observed)
        }
        let (one, oneLogits) = try run(threads: 1), (two, twoLogits) = try run(threads: 2)
        XCTAssertEqual(one, two)
        XCTAssertEqual(oneLogits.count, actions.count * 6)
        XCTAssertEqual(oneLogits, twoLogits)
    }
}
