import CodeFile
import Foundation
import NN
@testable import Prior
import TestSupport
import XCTest

final class PriorModelTests: TwoThreadTestCase {
    /// Codes [1, F, hw] and actions [1, F] of a random window.
    func randomWindow(_ config: PriorConfig, frames: Int, seed: UInt64) throws -> (codes: [Int64], actions: [Int64]) {
        var rng = SplitMix64(seed: seed)
        let codes = (0..<(frames * config.codesPerFrame)).map { _ in Int64(rng.next() % UInt64(config.codebookSize)) }
        let actions = (0..<frames).map { _ in Int64(rng.next() % UInt64(config.actionCount + 1)) }
        return (codes, actions)
    }

    func logits(_ model: PriorModel, _ codes: [Int64], _ actions: [Int64], frames: Int) throws -> [Float] {
        try Tensor.noGrad {
            try model.allLogits(codes: Tensor(codes, shape: [1, frames, model.config.codesPerFrame]),
                                actions: Tensor(actions, shape: [1, frames])).floats()
        }
    }

    func testChangingALaterTokenNeverChangesEarlierLogits() throws {
        try checkCausality(tinyConfig(), frames: 3)
        try checkCausality(tinyConfig(contextFrames: 2), frames: 4)   // banded, longer than the window
    }

    func checkCausality(_ config: PriorConfig, frames: Int) throws {
        Torch.manualSeed(11)
        let model = try PriorModel(config: config)
        try randomiseModulation(model)
        let (n, k) = (config.tokensPerFrame, config.codebookSize)
        let (codes, actions) = try randomWindow(config, frames: frames, seed: 1)
        let base = try logits(model, codes, actions, frames: frames)
        // Change every token in turn (codes and action tokens alike).
        for position in 0..<(frames * n) {
            var c = codes, a = actions
            let (f, slot) = (position / n, position % n)
            if slot < config.codesPerFrame {
                c[f * config.codesPerFrame + slot] = (c[f * config.codesPerFrame + slot] + 1) % Int64(k)
            } else {
                a[f] = (a[f] + 1) % Int64(config.actionCount + 1)
            }
            let changed = try logits(model, c, a, frames: frames)
            let name = "position \(position)"
            XCTAssertEqual(Array(changed[0..<(position * k)]), Array(base[0..<(position * k)]), "\(name) leaked backwards")
            XCTAssertNotEqual(Array(changed[(position * k)...]), Array(base[(position * k)...]), "\(name) changed nothing")
        }
    }

    func testTheActionReachesEveryCodeOfTheNextFrame() throws {
        // With action-into-frame conditioning, changing a(0) changes the embedding of every code of frame 1.
        Torch.manualSeed(12)
        let model = try PriorModel(config: tinyConfig())
        let codes = try Tensor([Int64](repeating: 3, count: 2 * 4), shape: [1, 2, 4])
        let e0 = try Tensor.noGrad { try model.embed(codes: codes, actions: Tensor([0, 0] as [Int64], shape: [1, 2])).floats() }
        let e1 = try Tensor.noGrad { try model.embed(codes: codes, actions: Tensor([1, 0] as [Int64], shape: [1, 2])).floats() }
        let c = model.config.width
        for position in 0..<10 {
            let same = Array(e0[(position * c)..<((position + 1) * c)]) == Array(e1[(position * c)..<((position + 1) * c)])
            // Position 4 is a(0) itself; 5...8 are frame 1's codes; 9 is a(1).
            XCTAssertEqual(same, !(4...8).contains(position), "position \(position)")
        }
    }

    func testEachPositionIsModulatedByTheActionLeadingToTheFrameItPredicts() throws {
        var config = tinyConfig()                   // hw = 4, actions 0...2, no-action id 3
        let model = try PriorModel(config: config)
        let actions = try Tensor([0, 2, 1, 3, 1, 0] as [Int64], shape: [2, 3])
        let conditions = try XCTUnwrap(model.conditions(actions: actions))
        XCTAssertEqual(conditions.shape, [2, 15])
        XCTAssertEqual(try conditions.int64s(), [3, 3, 3, 3, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 1,
                                                 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 0])
        config.actionModulation = false
        XCTAssertNil(try PriorModel(config: config).conditions(actions: actions))
    }

    func testAFreshModulatedModelComputesThePlainModel() throws {
        // The modulation tables start at zero: the same weights without them give the same logits.
        var config = tinyConfig()
        Torch.manualSeed(16)
        let modulated = try PriorModel(config: config)
        XCTAssertEqual(modulated.namedParameters.filter { $0.0.hasSuffix("modulation.weight") }.map { $0.1.shape },
                       [[4, 128], [4, 128]])
        config.actionModulation = false
        let plain = try PriorModel(config: config)
        try plain.load(Dictionary(uniqueKeysWithValues: modulated.namedParameters.filter { !$0.0.contains("modulation") }))
        let (codes, actions) = try randomWindow(config, frames: 3, seed: 4)
        XCTAssertEqual(try logits(modulated, codes, actions, frames: 3), try logits(plain, codes, actions, frames: 3))
        try randomiseModulation(modulated)
        XCTAssertNotEqual(try logits(modulated, codes, actions, frames: 3), try logits(plain, codes, actions, frames: 3))
    }

    func testConfigsRoundTripAndLearnedFramePositionsAreRefused() throws {
        var config = tinyConfig(contextFrames: 5)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        XCTAssertEqual(object["framePositions"] as? String, "rotary")
        XCTAssertEqual(try JSONDecoder().decode(PriorConfig.self, from: JSONSerialization.data(withJSONObject: object)), config)
        // Learned frame positions were removed: a prior that has them (or predates the field) is refused by name.
        for value in ["learned", nil] as [String?] {
            object["framePositions"] = value
            XCTAssertThrowsError(try JSONDecoder().decode(PriorConfig.self, from: JSONSerialization.data(withJSONObject: object))) {
                XCTAssertTrue("\($0)".contains("learned frame positions"), "\($0)")
            }
        }
        XCTAssertEqual(config.problems, [])
        XCTAssertEqual(config.trainingWindow, 10)
        config.trainingFrames = 4
        XCTAssertTrue(config.problems.contains { $0.contains("at least the context") }, "\(config.problems)")
        config = tinyConfig()
        config.heads = 32                                    // head width 1
        XCTAssertTrue(config.problems.contains { $0.contains("even head width") }, "\(config.problems)")
    }

    func testConfigsWithoutActionModulationReadAsUnmodulated() throws {
        var config = tinyConfig()
        let json = try JSONEncoder().encode(config)
        XCTAssertEqual(try JSONDecoder().decode(PriorConfig.self, from: json), config)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: json) as? [String: Any])
        XCTAssertEqual(object.removeValue(forKey: "actionModulation") as? Bool, true)
        config.actionModulation = false
        XCTAssertEqual(try JSONDecoder().decode(PriorConfig.self, from: JSONSerialization.data(withJSONObject: object)), config)
    }

    func testRotaryAttentionSeesItsBandAndEarlierFramesOnlyThroughIt() throws {
        // One layer, a band of 2 frames: frame 0 reaches frame 1 but not frame 2 or 3. With two
        // layers it reaches frame 2 through frame 1's keys (what a sliding cache keeps), not frame 3.
        for layers in [1, 2] {
            Torch.manualSeed(21)
            var config = tinyConfig(contextFrames: 2)
            config.layers = layers
            let model = try PriorModel(config: config)
            let (codes, actions) = try randomWindow(config, frames: 4, seed: 6)
            var changed = codes
            for j in 0..<config.codesPerFrame { changed[j] = (changed[j] + 1) % Int64(config.codebookSize) }
            let a = try logits(model, codes, actions, frames: 4), b = try logits(model, changed, actions, frames: 4)
            let perFrame = config.tokensPerFrame * config.codebookSize
            let differs = (0..<4).map { f in Array(a[(f * perFrame)..<((f + 1) * perFrame)]) != Array(b[(f * perFrame)..<((f + 1) * perFrame)]) }
            XCTAssertEqual(differs, [true, true, layers > 1, false], "\(layers) layer(s)")
        }
    }

    func testRotaryLogitsDependOnFrameDistancesOnly() throws {
        Torch.manualSeed(22)
        let config = tinyConfig(contextFrames: 3)
        let model = try PriorModel(config: config)
        try randomiseModulation(model)
        let (codes, actions) = try randomWindow(config, frames: 3, seed: 7)
        let (c, a) = (try Tensor(codes, shape: [1, 3, config.codesPerFrame]), try Tensor(actions, shape: [1, 3]))
        func hidden(from first: Int) throws -> [Double] {
            let frames = model.wholeFrames(tokens: 3 * config.tokensPerFrame).map { $0 + first }
            return try Tensor.noGrad { try model.hidden(model.embed(codes: c, actions: a), conditions: model.conditions(actions: a), frames: frames).doubles() }
        }
        let atZero = try hidden(from: 0)
        let far = try hidden(from: 1000)
        XCTAssertLessThan(zip(far, atZero).map { abs($0 - $1) }.max() ?? .infinity, 1e-4, "frames 1000...1002")
        XCTAssertEqual(try hidden(from: 0), atZero)
        XCTAssertFalse(model.namedParameters.contains { $0.0.hasPrefix("frame_embedding") })
    }

    func testRotaryCachedLogitsMatchABandedFullForwardAsTheWindowSlides() throws {
        // The cache drops its oldest frame instead of feeding the window again: every logit equals
        // one banded forward pass over all frames from the first one fed, with or without guidance.
        for engine in PriorSampler.Engine.allCases {
            try checkCacheAgainstFullForward(contextFrames: 4, given: 1, engine: engine)
            try checkCacheAgainstFullForward(contextFrames: 3, given: 2, engine: engine)
            try checkCacheAgainstFullForward(contextFrames: 3, given: 2, engine: engine, guidance: 2.5)
        }
    }

    func testActionGuidanceAgainstThePreviousAction() throws {
        // u + w·(c − u), u conditioned on the action before the one leading to the generated frame.
        for engine in PriorSampler.Engine.allCases {
            try checkCacheAgainstFullForward(contextFrames: 3, given: 2, engine: engine, guidance: 2.5)
        }
    }

    func checkCacheAgainstFullForward(contextFrames: Int, given: Int, engine: PriorSampler.Engine, guidance: Double = 1) throws {
        Torch.manualSeed(13)
        let config = tinyConfig(contextFrames: contextFrames)
        let model = try PriorModel(config: config)
        try randomiseModulation(model)
        let clip = randomClip(frames: 4, seed: 5)
        let context = try PriorContext(clip: clip, start: 1, frames: given)
        let future = [2, 0, 0, -1, 1, 1, 2, 1]   // changes and holds (twins are skipped on held actions)
        var observed: [(frame: Int, slot: Int, logits: [Float])] = []
        let samples = 2
        let rollout = try PriorSampler(model: model, engine: engine).rollout(
            context: context, actions: future, samples: samples,
            options: SamplingOptions(temperature: 1, seed: 3, actionGuidance: guidance)
        ) { observed.append(($0, $1, $2)) }
        XCTAssertEqual(observed.count, future.count * config.codesPerFrame)

        // All frames of each sample (context then generated) and the action after each.
        let hw = config.codesPerFrame, k = config.codebookSize, n = context.frames
        let actionAfter = (0..<(n + future.count)).map { f -> Int64 in
            let id = f < n - 1 ? Int(context.actions[f]) : future[min(f - (n - 1), future.count - 1)]
            return Int64(id < 0 ? config.noAction : id)
        }
        // The reference for frame m: one banded forward pass from the first frame fed (the last C − 1 given frames).
        let first = max(0, n - (contextFrames - 1))
        let windowStart = Dictionary(uniqueKeysWithValues: (n..<(n + future.count)).map { ($0, first) })
        var maxError: Float = 0
        for s in 0..<samples {
            let frames = (0..<(n + future.count)).map { f -> [Int64] in
                f < n ? context.codes[(f * hw)..<((f + 1) * hw)].map { Int64($0) } : rollout.frame(sample: s, f - n).map { Int64($0) }
            }
            for (m, slot, cached) in observed {
                let start = try XCTUnwrap(windowStart[m])
                let count = m - start + 1
                var full = try logits(model, Array(frames[start...m].joined()), Array(actionAfter[start...m]), frames: count)
                if guidance != 1 {
                    var dropped = Array(actionAfter[start...m])
                    dropped[m - 1 - start] = m < 2 ? Int64(config.noAction) : actionAfter[m - 2]
                    let u = try logits(model, Array(frames[start...m].joined()), dropped, frames: count)
                    full = zip(full, u).map { c, u in u + Float(guidance) * (c - u) }
                }
                let position = (m - start) * config.tokensPerFrame + slot - 1
                for i in 0..<k { maxError = max(maxError, abs(full[position * k + i] - cached[s * k + i])) }
            }
        }
        XCTAssertLessThan(maxError, 1e-4, "\(engine) guidance \(guidance)")
        XCTAssertGreaterThan(observed.last!.frame, config.contextFrames, "the window must have slid")
    }

    func testSameSeedGivesIdenticalSamplesAndOtherSeedsDiffer() throws {
        Torch.manualSeed(14)
        let model = try PriorModel(config: tinyConfig())
        let sampler = PriorSampler(model: model)
        let context = try PriorContext(clip: randomClip(frames: 3, seed: 9), frames: 2)
        let actions = [0, 1, 2, 1, 0, 2]
        func run(_ seed: UInt64, topK: Int = 0, topP: Double = 1) throws -> Rollout {
            try sampler.rollout(context: context, actions: actions, samples: 3, temperature: 1, topK: topK, topP: topP, seed: seed)
        }
        let a = try run(7), b = try run(7), c = try run(8)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.codes, c.codes)
        XCTAssertEqual(a.codes.count, 3 * actions.count * 4)
        XCTAssertNotEqual(a.frame(sample: 0, 0), a.frame(sample: 1, 0), "samples of one batch should differ")
        XCTAssertEqual(try run(5, topK: 3, topP: 0.9), try run(5, topK: 3, topP: 0.9))
        // top-k 1 is greedy whatever the seed; temperature 0 too.
        XCTAssertEqual(try run(1, topK: 1).codes, try run(2, topK: 1).codes)
        let greedy = try sampler.rollout(context: context, actions: actions, samples: 2, temperature: 0, seed: 99)
        XCTAssertEqual(greedy.codes, try run(3, topK: 1).codes.prefix(greedy.codes.count).map { $0 })
    }

    func testNearestMeanPicksTheCodeNearestTheExpectedVector() throws {
        // Codes at 0, 0.1 and 1 on a line; probabilities 0.3, 0.3, 0.4: the most likely code is 2, but
        // the mean vector 0.43 is nearest code 1 (|0.1 − 0.43| = 0.33 < 0.43 < 0.57).
        let logits = [0.3, 0.3, 0.4].map { Float(log($0)) }
        let vectors: [Float] = [0, 0, 0.1, 0, 1, 0]                                        // [K = 3, D = 2]
        for seed: UInt64 in [1, 2, 3] {
            var mean = TokenSampler(SamplingOptions(temperature: 1, seed: seed, nearestMean: true), codeVectors: vectors)
            XCTAssertEqual(mean.sample(logits + logits, rows: 2, k: 3), [1, 1])
        }
        var greedy = TokenSampler(SamplingOptions(temperature: 0))
        XCTAssertEqual(greedy.sample(logits, rows: 1, k: 3), [2])
        // Top-k 1 leaves only code 2, whose own vector is the mean; a low temperature sharpens towards it too.
        var top1 = TokenSampler(SamplingOptions(temperature: 1, topK: 1, nearestMean: true), codeVectors: vectors)
        XCTAssertEqual(top1.sample(logits, rows: 1, k: 3), [2])
        var cold = TokenSampler(SamplingOptions(temperature: 0.1, nearestMean: true), codeVectors: vectors)
        XCTAssertEqual(cold.sample(logits, rows: 1, k: 3), [2])
        XCTAssertEqual(SamplingOptions(temperature: 0, nearestMean: true).problems, ["the nearest-mean pick needs a temperature > 0"])
    }

    func testNearestMeanRolloutsAreDeterministicAndNeedTheCodebook() throws {
        Torch.manualSeed(16)
        let config = tinyConfig()
        let model = try PriorModel(config: config)
        let context = try PriorContext(clip: randomClip(frames: 3, seed: 9), frames: 2)
        let options = { (seed: UInt64) in SamplingOptions(temperature: 1, seed: seed, nearestMean: true) }
        assertPriorError(try PriorSampler(model: model).rollout(context: context, actions: [0, 1], options: options(0)),
                         { if case .invalidSampling = $0 { true } else { false } }, mentions: ["codebook"])
        var rng = SplitMix64(seed: 4)
        let vectors = (0..<(config.codebookSize * 3)).map { _ in Float(rng.unit()) }
        let sampler = PriorSampler(model: model, codeVectors: vectors)
        let a = try sampler.rollout(context: context, actions: [0, 1, 2, 0], options: options(1))
        XCTAssertEqual(a, try sampler.rollout(context: context, actions: [0, 1, 2, 0], options: options(2)), "the seed must not matter")
        XCTAssertEqual(a.codes.count, 4 * config.codesPerFrame)
    }

    func testLongRolloutsRunFarPastTheContext() throws {
        Torch.manualSeed(15)
        let model = try PriorModel(config: tinyConfig())
        let context = try PriorContext(clip: randomClip(frames: 5, seed: 10), frames: 5)  // longer than the window
        let rollout = try PriorSampler(model: model).rollout(context: context, actions: Array(repeating: 1, count: 40), seed: 1)
        XCTAssertEqual(rollout.frames, 40)
        XCTAssertTrue(rollout.codes.allSatisfy { $0 < 8 })
    }
}
