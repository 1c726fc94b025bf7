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
            XCTAssertEqual(batch.codes.shape, [64, 6, 4])   // windows of twice the context
        }
        let allowed = Set(data.windows(length: 6))
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

    /// Trains a 2-layer, width-64 prior on the moving-square world (windows of 4 frames banded to
    /// 2); greedy next frames on held-out clips must move the square the commanded way.
    func testATinyPriorLearnsTheActionEffect() throws {
        Torch.manualSeed(21)
        let train = try PriorDataset(clips: (0..<8).map { SquareWorld.clip(frames: 200, seed: UInt64(100 + $0)) })
        var config = train.defaultConfig()
        config.layers = 2
        config.width = 64
        config.heads = 4
        config.contextFrames = 2
        config.trainingFrames = 4
        config.dropout = 0
        var options = PriorTrainingOptions()
        options.steps = 1500
        options.batch = 16
        options.learningRate = 3e-3
        options.warmup = 20
        options.weightDecay = 0
        options.contextNoise = 0
        let trainer = try PriorTrainer(model: PriorModel(config: config), options: options, data: train)
        let started = Date()
        var last: PriorStepStats?
        try trainer.train { last = $0 }
        let seconds = Date().timeIntervalSince(started)

        let validation = try PriorDataset(clips: [SquareWorld.clip(frames: 120, seed: 999)])
        let evaluation = try trainer.evaluate(validation)
        print("square world: \(options.steps) steps in \(String(format: "%.1f", seconds)) s, train \(last!.bitsPerToken) bits; val",
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
        print("square world: \(correct)/\(cases) one-step predictions correct, \(followed)/\(names.count) rollout frames follow the commands")
        XCTAssertGreaterThanOrEqual(Double(correct) / Double(cases), 0.9)
    }

    func testContextNoiseReplacesInputCodesButNeverTargets() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 40, seed: 11), randomClip(frames: 40, seed: 12)])
        let config = tinyConfig(contextFrames: 3)
        var options = PriorTrainingOptions()
        options.batch = 64
        options.seed = 9
        options.contextNoise = 0
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
            XCTAssertEqual(stride(from: 0, to: trueCodes.count, by: 24).flatMap { trueCodes[($0 + 4)..<($0 + 24)] }, try a.targets.int64s())  // windows of 6 frames of 4 codes
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

    func testOptionsRoundTripAndRunsWithRemovedFeaturesAreRefused() throws {
        var options = PriorTrainingOptions()
        options.contextNoise = 0.2
        var fields = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: JSONSerialization.data(withJSONObject: fields)), options)
        // Written before context noise existed: none.
        fields["contextNoise"] = nil
        XCTAssertEqual(try JSONDecoder().decode(PriorTrainingOptions.self, from: JSONSerialization.data(withJSONObject: fields)).contextNoise, 0)
        // The action-change weight and scheduled sampling were removed: a run that used them is refused by name.
        for (key, value, name) in [("actionChangeWeight", 3.0, "action-change loss weight"), ("contextSamples", 0.2, "scheduled sampling")] {
            var old = fields
            old[key] = value
            XCTAssertThrowsError(try JSONDecoder().decode(PriorTrainingOptions.self, from: JSONSerialization.data(withJSONObject: old))) {
                XCTAssertTrue("\($0)".contains(name), "\($0)")
            }
            old[key] = key == "actionChangeWeight" ? 1.0 : 0.0
            XCTAssertNoThrow(try JSONDecoder().decode(PriorTrainingOptions.self, from: JSONSerialization.data(withJSONObject: old)))
        }
    }

    func testResumingFromACheckpointReproducesAnUninterruptedRun() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 30, episodeStarts: [12], seed: 7), randomClip(frames: 10, seed: 8)])
        var options = PriorTrainingOptions()
        options.steps = 12
        options.batch = 4
        options.warmup = 3
        options.seed = 5
        options.contextNoise = 0.1  // its draws, too, must resume where they stopped
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
