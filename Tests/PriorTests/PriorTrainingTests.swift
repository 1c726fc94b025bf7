import CodeFile
import Foundation
import NN
@testable import Prior
import TestSupport
import XCTest

final class PriorTrainingTests: TwoThreadTestCase {
    func testWindowsNeverCrossAnEpisodeStart() throws {
        let clips = [
            randomClip(frames: 20, episodeStarts: [4, 5, 11], seed: 1),
            randomClip(frames: 3, seed: 2),
            randomClip(frames: 2, seed: 3),  // shorter than a window
        ]
        let data = try PriorDataset(clips: clips)
        for length in 1...4 {
            let windows = data.windows(length: length)
            var expected: [PriorDataset.Window] = []
            for (c, clip) in clips.enumerated() where clip.frames >= length {
                for start in 0...(clip.frames - length) where !clip.episodeStart[(start + 1)..<(start + length)].contains(true) {
                    expected.append(.init(clip: c, start: start))
                }
            }
            XCTAssertEqual(Set(windows), Set(expected), "length \(length)")
            XCTAssertEqual(windows.count, expected.count)
        }
        // Training batches only draw such windows.
        Torch.manualSeed(0)
        var options = PriorTrainingOptions()
        options.batch = 64
        let trainer = try PriorTrainer(model: PriorModel(config: tinyConfig(contextFrames: 3)), options: options, data: data)
        for step in 1...5 {
            let batch = try trainer.batch(step: step)
            XCTAssertEqual(batch.codes.shape, [64, 3, 4])
        }
        let allowed = Set(data.windows(length: 3))
        XCTAssertTrue(trainer.windows.allSatisfy { allowed.contains($0) })
        XCTAssertFalse(trainer.windows.contains { $0.clip == 0 && ($0.start == 2 || $0.start == 3 || $0.start == 4) })
    }

    func testBaselinesMatchTheirDefinitions() throws {
        // Two frames of 2×2 codes: 3 of 4 positions repeat.
        let clip = CodeClip(codes: [0, 1, 2, 3, 0, 1, 2, 0], frames: 2, gridH: 2, gridW: 2, actions: [0, 0],
                            episodeStart: [true, false], fps: 10, frameWidth: 16, frameHeight: 16, codebookSize: 4,
                            tokenizerHash: testHash, source: "x", sourceBytes: 0, actionNames: ["a"])
        let b = Baselines(fittedOn: try PriorDataset(clips: [clip]), codebookSize: 4)
        XCTAssertEqual(b.repeatRate, 0.75)
        XCTAssertEqual(b.copyEpsilon, 0.25 * 4 / 3, accuracy: 1e-12)
        XCTAssertEqual(b.copyBits(2, previous: 2), -log2(0.75), accuracy: 1e-12)  // p(previous) = repeat rate
        XCTAssertEqual(b.unigramBits(0), -log2(4.0 / 12.0), accuracy: 1e-12)      // (3 + 1) / (8 + 4)
        // ε minimises the training bits: nudging it either way costs bits.
        func bits(_ eps: Double) -> Double { -(0.75 * log2(1 - eps + eps / 4) + 0.25 * log2(eps / 4)) }
        XCTAssertLessThan(bits(b.copyEpsilon), bits(b.copyEpsilon * 1.1))
        XCTAssertLessThan(bits(b.copyEpsilon), bits(b.copyEpsilon * 0.9))
    }

    /// Trains a 2-layer, width-64 prior on the moving-square world; greedy next frames on held-out
    /// clips must move the square the commanded way.
    func testATinyPriorLearnsTheActionEffect() throws {
        try checkSquareWorld(positions: .learned)
    }

    /// The same with rotary frame positions, trained on windows of 4 frames banded to 2.
    func testATinyRotaryPriorLearnsTheActionEffect() throws {
        try checkSquareWorld(positions: .rotary)
    }

    func checkSquareWorld(positions: FramePositions) throws {
        Torch.manualSeed(21)
        let train = try PriorDataset(clips: (0..<8).map { SquareWorld.clip(frames: 200, seed: UInt64(100 + $0)) })
        var config = train.defaultConfig()
        config.layers = 2
        config.width = 64
        config.heads = 4
        config.contextFrames = 2
        config.framePositions = positions
        config.trainingFrames = positions == .rotary ? 4 : 2
        config.dropout = 0
        var options = PriorTrainingOptions()
        options.steps = 1500
        options.batch = positions == .rotary ? 16 : 32          // about the same tokens a step
        options.learningRate = 3e-3
        options.warmup = 20
        options.weightDecay = 0
        let trainer = try PriorTrainer(model: PriorModel(config: config), options: options, data: train)
        let started = Date()
        var last: PriorStepStats?
        try trainer.train { last = $0 }
        let seconds = Date().timeIntervalSince(started)

        let validation = try PriorDataset(clips: [SquareWorld.clip(frames: 120, seed: 999)])
        let evaluation = try trainer.evaluate(validation)
        print("square world (\(positions)): \(options.steps) steps in \(String(format: "%.1f", seconds)) s, train \(last!.bitsPerToken) bits; val",
              String(decoding: try JSONEncoder().encode(evaluation), as: UTF8.self))
        XCTAssertLessThan(evaluation.bitsPerToken, evaluation.copyPreviousBitsPerToken)
        XCTAssertLessThan(evaluation.bitsPerToken, evaluation.unigramBitsPerToken)
        XCTAssertGreaterThan(evaluation.shuffledActionBitsPerToken, evaluation.bitsPerToken + 0.05, "the model must use the actions")

        // Held-out states: one frame of context, each action in turn.
        let sampler = PriorSampler(model: trainer.model, source: train.source)
        var rng = SplitMix64(seed: 4242)
        var correct = 0, cases = 0
        for _ in 0..<100 {
            let cell = Int(rng.next() % 16)
            let action = Int(rng.next() % 5)
            let context = PriorContext(codes: SquareWorld.grid(cell), actions: [Int32(action)])
            let next = try sampler.rollout(context: context, actions: [action], temperature: 0)
            cases += 1
            if Array(next.frame(sample: 0, 0)) == SquareWorld.grid(SquareWorld.move(cell, action)) { correct += 1 }
        }
        // Longer rollouts by names: keep following the commands.
        let names = ["right", "right", "down", "left", "up", "noop"]
        let ids = try sampler.actionIDs(names)
        var cell = 5
        let rollout = try sampler.rollout(context: PriorContext(codes: SquareWorld.grid(cell), actions: [0]),
                                          actionNames: names, options: SamplingOptions(temperature: 0))
        var followed = 0
        for (t, id) in ids.enumerated() {
            cell = SquareWorld.move(cell, id)
            if Array(rollout.frame(sample: 0, t)) == SquareWorld.grid(cell) { followed += 1 }
        }
        print("square world (\(positions)): \(correct)/\(cases) one-step predictions correct, \(followed)/\(names.count) rollout frames follow the commands")
        XCTAssertGreaterThanOrEqual(Double(correct) / Double(cases), 0.9)
    }

    func testActionChangeWeightWeighsExactlyTheFramesAfterAnActionChange() throws {
        // Actions A A B B B C | (episode start) A C.
        var clip = randomClip(frames: 8, episodeStarts: [6], seed: 3)
        clip.actions = [0, 0, 1, 1, 1, 2, 0, 2]
        let data = try PriorDataset(clips: [clip, clip])
        let config = tinyConfig(contextFrames: 3)
        Torch.manualSeed(1)
        let model = try PriorModel(config: config)
        model.training = false
        // Target frame f of the window at s follows the action at t = s + f − 1; its weight is 4 when
        // actions[t] != actions[t − 1] within the episode and the action is not dropped.
        // (0,0): t = 0 (nothing earlier), 1 (A→A).  (1,1): t = 1 (A→A), 2 (A→B, dropped).  (0,3): t = 3, 4 (B→B).
        let unchanged = try WindowBatch(data, [.init(clip: 0, start: 0), .init(clip: 1, start: 1), .init(clip: 0, start: 3)],
                                        frames: 3, config: config, actionChangeWeight: 4) { $0 == 1 && $1 == 1 }
        XCTAssertEqual(unchanged.frameWeights, [1, 1, 1, 1, 1, 1])
        // (0,1): t = 1 (A→A), 2 (A→B).  (0,4): t = 4 (B→B), 5 (B→C).
        let second = try WindowBatch(data, [.init(clip: 0, start: 1), .init(clip: 0, start: 4)], frames: 3, config: config,
                                     actionChangeWeight: 4)
        XCTAssertEqual(second.frameWeights, [1, 4, 1, 4])
        XCTAssertEqual(second.weightSum, Double(4 * 1 + 4 * 4 + 4 * 1 + 4 * 4))  // 4 codes per frame
        // t = 6 starts an episode: C before it belongs to the last one.
        let episode = try WindowBatch(data, [.init(clip: 0, start: 6)], frames: 2, config: config, actionChangeWeight: 4)
        XCTAssertEqual(episode.frameWeights, [1])
        let plainBatch = try WindowBatch(data, [.init(clip: 0, start: 1), .init(clip: 0, start: 4)], frames: 3, config: config)
        XCTAssertNil(plainBatch.frameWeights)

        // The weighted loss is Σ_frames w_f · (cross-entropy of the frame's codes); the plain one is unchanged.
        let (loss, plain) = try second.trainingNats(model)
        let expectedPlain = try plainBatch.nats(model).item()
        XCTAssertEqual(plain, expectedPlain, accuracy: 1e-4)
        let logits = try model.codeLogits(codes: second.codes, actions: second.actions)             // [2, 2·4, 8]
        let perToken = try F.crossEntropy(logits.reshape([-1, 8]), second.targets.reshape([-1]), reduction: .none).floats()
        let expected = perToken.enumerated().map { Double($0.element) * [1.0, 4.0, 1.0, 4.0][$0.offset / 4] }.reduce(0, +)
        XCTAssertEqual(try loss.item(), expected, accuracy: 1e-3)
        XCTAssertGreaterThan(try loss.item(), plain)
    }

    func testContextNoiseReplacesInputCodesButNeverTargets() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 40, seed: 11), randomClip(frames: 40, seed: 12)])
        let config = tinyConfig(contextFrames: 3)
        var options = PriorTrainingOptions()
        options.batch = 64
        options.seed = 9
        Torch.manualSeed(0)
        let clean = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        options.contextNoise = 0.25
        let noisy = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        var replaced = 0, total = 0
        for step in 1...4 {
            let (a, b) = (try clean.batch(step: step), try noisy.batch(step: step))
            // Same windows and actions, same (clean) targets; without noise the inputs are the true codes.
            XCTAssertEqual(try a.targets.int64s(), try b.targets.int64s())
            XCTAssertEqual(try a.actions.int64s(), try b.actions.int64s())
            let (trueCodes, noisyCodes) = (try a.codes.int64s(), try b.codes.int64s())
            XCTAssertEqual(stride(from: 0, to: trueCodes.count, by: 12).flatMap { trueCodes[($0 + 4)..<($0 + 12)] }, try a.targets.int64s())
            XCTAssertTrue(noisyCodes.allSatisfy { $0 >= 0 && $0 < Int64(config.codebookSize) })
            replaced += zip(trueCodes, noisyCodes).filter { $0 != $1 }.count
            total += trueCodes.count
            // A function of (seed, step): the same batch again.
            XCTAssertEqual(try noisy.batch(step: step).codes.int64s(), noisyCodes)
        }
        // A replacement draws any of the K = 8 codes, so 7/8 of the draws change the code: 0.25 · 7/8 ≈ 0.22.
        let fraction = Double(replaced) / Double(total)
        XCTAssertEqual(fraction, 0.25 * 7 / 8, accuracy: 0.03, "\(replaced) of \(total)")
        XCTAssertNotEqual(try noisy.batch(step: 1).codes.int64s(), try noisy.batch(step: 2).codes.int64s())
    }

    func testContextSamplesReplaceLaterInputsWithTheModelsOwnDraws() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 40, seed: 13), randomClip(frames: 40, seed: 14)])
        let config = tinyConfig(contextFrames: 3)  // 2×2 grid, K = 8
        var options = PriorTrainingOptions()
        options.batch = 128
        options.seed = 4
        options.steps = 6
        options.contextSamples = 0.5  // reached at step 6; at step 3 the probability is 0.25
        Torch.manualSeed(0)
        let trainer = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        // Make the model certain of code 5 everywhere, so every draw is 5.
        try Tensor.noGrad {
            try trainer.model.head.weight.zeroInPlace()
            try trainer.model.head.bias!.zeroInPlace()
            try trainer.model.head.bias!.addInPlace(Tensor([0, 0, 0, 0, 0, 60, 0, 0] as [Float], shape: [8]))
        }
        var changed = [Int: Int](), later = [Int: Int]()
        for step in [3, 6] {
            let plain = try trainer.batch(step: step)
            let sampled = try trainer.selfSampled(plain, step: step)
            XCTAssertEqual(try sampled.targets.int64s(), try plain.targets.int64s())
            XCTAssertEqual(try sampled.actions.int64s(), try plain.actions.int64s())
            let (before, after) = (try plain.codes.int64s(), try sampled.codes.int64s())
            for i in before.indices {
                if (i / 4) % 3 == 0 {
                    XCTAssertEqual(after[i], before[i], "frame 0 has no prediction and stays true")
                } else {
                    later[step, default: 0] += 1
                    if after[i] != before[i] { changed[step, default: 0] += 1; XCTAssertEqual(after[i], 5, "a draw from the model") }
                }
            }
            // A function of (seed, step) and the weights: the same inputs again.
            XCTAssertEqual(try trainer.selfSampled(plain, step: step).codes.int64s(), after)
        }
        // A quarter, then half, of the later inputs are drawn; 7/8 of those were not already 5.
        for (step, p) in [(3, 0.25), (6, 0.5)] {
            let fraction = Double(changed[step] ?? 0) / Double(later[step] ?? 1)
            XCTAssertEqual(fraction, p * 7 / 8, accuracy: 0.05, "step \(step): \(changed[step] ?? 0) of \(later[step] ?? 0)")
        }
        // Off: the batch is untouched.
        options.contextSamples = 0
        let off = try PriorTrainer(model: trainer.model, options: options, data: data)
        let plain = try off.batch(step: 1)
        XCTAssertEqual(try off.selfSampled(plain, step: 1).codes.int64s(), try plain.codes.int64s())
    }

    func testOptionsWithoutTheActionChangeWeightReadAsWeightOne() throws {
        var options = PriorTrainingOptions()
        options.actionChangeWeight = 3
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(json.utf8)), options)
        let old = json.replacingOccurrences(of: #","actionChangeWeight":3"#, with: "").replacingOccurrences(of: #""actionChangeWeight":3,"#, with: "")
        XCTAssertFalse(old.contains("actionChangeWeight"))
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(old.utf8)).actionChangeWeight, 1)
        // Nor does one written before context noise existed.
        options.contextNoise = 0.1
        let noisy = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        let older = noisy.replacingOccurrences(of: #","contextNoise":0.1"#, with: "").replacingOccurrences(of: #""contextNoise":0.1,"#, with: "")
        XCTAssertFalse(older.contains("contextNoise"))
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(older.utf8)).contextNoise, 0)
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(older.utf8)).contextSamples, 0)
    }

    func testResumingFromACheckpointReproducesAnUninterruptedRun() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 30, episodeStarts: [12], seed: 7), randomClip(frames: 10, seed: 8)])
        var options = PriorTrainingOptions()
        options.steps = 12
        options.batch = 4
        options.warmup = 3
        options.seed = 5
        options.contextNoise = 0.1  // its draws, too, must resume where they stopped
        options.contextSamples = 0.2  // and the model's own draws
        func fresh() throws -> PriorTrainer {
            Torch.manualSeed(99)  // the trainer seeds initialisation itself
            return try PriorTrainer(config: tinyConfig(), options: options, data: data)
        }
        let straight = try fresh()
        try straight.train()

        let dir = try temporaryDirectory(self)
        let path = dir.appendingPathComponent("prior.safetensors").path
        let first = try fresh()
        try first.train(until: 5)
        try PriorCheckpoint.save(first.model, source: data.source, trainer: first, to: path)
        let resumed = try PriorCheckpoint.resume(path, data: data)
        XCTAssertEqual(resumed.step, 5)
        try resumed.train()
        XCTAssertEqual(resumed.step, 12)
        for ((name, a), (_, b)) in zip(straight.model.namedParameters, resumed.model.namedParameters) {
            XCTAssertEqual(try a.floats(), try b.floats(), name)
        }

        // A sampling-only checkpoint loads with its source but cannot be resumed.
        let plain = dir.appendingPathComponent("plain.safetensors").path
        try PriorCheckpoint.save(straight.model, source: data.source, to: plain)
        let loaded = try PriorCheckpoint.load(plain)
        XCTAssertEqual(loaded.source, data.source)
        XCTAssertEqual(loaded.model.config, straight.model.config)
        XCTAssertEqual(loaded.metadata["tokenizer_sha256"], testHash)
        assertPriorError(try PriorCheckpoint.resume(plain, data: data), { if case .checkpoint = $0 { true } else { false } },
                         mentions: ["plain.safetensors", "not a training checkpoint"])
    }
}
