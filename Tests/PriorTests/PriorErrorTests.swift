import CodeFile
import Foundation
import NN
@testable import Prior
import TestSupport
import XCTest

final class PriorErrorTests: TwoThreadTestCase {
    func makeSampler() throws -> (PriorSampler, CodeClip) {
        Torch.manualSeed(31)
        let clip = randomClip(frames: 4, seed: 1)
        return (PriorSampler(model: try PriorModel(config: tinyConfig()), source: CodeSource(clip)), clip)
    }

    func testUnknownActionNamesAreNamed() throws {
        let (sampler, clip) = try makeSampler()
        XCTAssertEqual(try sampler.actionIDs(["C", "A"]), [2, 0])
        assertPriorError(try sampler.actionIDs(["A", "JUMP"]), { $0 == .unknownActionName("JUMP", known: ["A", "B", "C"]) },
                         mentions: ["JUMP", "A, B, C"])
        let context = try sampler.context(from: clip, frames: 2)
        assertPriorError(try sampler.rollout(context: context, actionNames: ["JUMP"]), { if case .unknownActionName = $0 { true } else { false } })
    }

    func testActionIDsOutOfRangeAreRejected() throws {
        let (sampler, clip) = try makeSampler()
        let context = try sampler.context(from: clip, frames: 2)
        assertPriorError(try sampler.rollout(context: context, actions: [0, 3]), { $0 == .actionOutOfRange(id: 3, actionCount: 3) },
                         mentions: ["action id 3", "3 actions"])
        assertPriorError(try sampler.rollout(context: context, actions: [-2]), { $0 == .actionOutOfRange(id: -2, actionCount: 3) })
        XCTAssertNoThrow(try sampler.rollout(context: context, actions: [-1, 2]))  // −1 = unknown is fine
        // In training data too, naming the file.
        var bad = randomClip(frames: 6, seed: 2)
        bad.actions = [0, 1, 2, 5, 0, 1]
        let data = try PriorDataset(clips: [bad], names: ["bad.codes.safetensors"])
        assertPriorError(try PriorTrainer(model: sampler.model, options: PriorTrainingOptions(), data: data),
                         { $0 == .actionOutOfRange(id: 5, actionCount: 3) }, mentions: ["bad.codes.safetensors"])
    }

    func testContextLongerThanTheClipIsRejected() throws {
        let (sampler, clip) = try makeSampler()
        assertPriorError(try sampler.context(from: clip, start: 2, frames: 3, file: "c.codes.safetensors"),
                         { $0 == .contextTooLong(start: 2, frames: 3, clipFrames: 4) }, mentions: ["c.codes.safetensors", "longer than the clip"])
        assertPriorError(try sampler.rollout(context: PriorContext(codes: [1, 2, 3], actions: [0]), actions: [0]),
                         { if case .invalidContext = $0 { true } else { false } })
        assertPriorError(try sampler.rollout(context: PriorContext(codes: [1, 2, 3, 9], actions: [0]), actions: [0]),
                         { if case .invalidContext = $0 { true } else { false } }, mentions: ["code 9"])
        let context = try sampler.context(from: clip, frames: 1)
        assertPriorError(try sampler.rollout(context: context, actions: [0], topP: 0), { if case .invalidSampling = $0 { true } else { false } })
    }

    func testCodebookAndTokenizerMismatchesAreNamed() throws {
        let (sampler, _) = try makeSampler()
        // Clips from another tokenizer than the prior's.
        let other = randomClip(frames: 4, seed: 3, hash: "bbbbbbbbbbbbbbbbbbbbbbbb")
        assertPriorError(try sampler.context(from: other, frames: 2, file: "other.codes.safetensors"),
                         { if case .tokenizerMismatch = $0 { true } else { false } }, mentions: ["other.codes.safetensors", "bbbbbbbbbbbb…"])
        // Clips of one data set that disagree.
        assertPriorError(try PriorDataset(clips: [randomClip(frames: 4, seed: 1), other], names: ["a", "b"]),
                         { if case .tokenizerMismatch = $0 { true } else { false } }, mentions: ["b: "])
        assertPriorError(try PriorDataset(clips: [randomClip(frames: 4, seed: 1), randomClip(frames: 4, k: 16, seed: 2)], names: ["a", "b"]),
                         { $0 == .codebookSizeMismatch(expected: 8, found: 16) }, mentions: ["b: "])
        // A prior of another K or grid than the codes.
        let k16 = try PriorDataset(clips: [randomClip(frames: 8, k: 16, seed: 4)])
        assertPriorError(try PriorTrainer(model: sampler.model, options: PriorTrainingOptions(), data: k16),
                         { if case .codebookSizeMismatch = $0 { true } else { false } }, mentions: ["16", "K = 8"])
        let grid3 = try PriorDataset(clips: [randomClip(frames: 8, grid: 3, seed: 4)])
        assertPriorError(try PriorTrainer(model: sampler.model, options: PriorTrainingOptions(), data: grid3),
                         { if case .gridMismatch = $0 { true } else { false } }, mentions: ["3x3", "2x2"])
        // Resuming on codes from another tokenizer.
        let data = try PriorDataset(clips: [randomClip(frames: 8, seed: 5)])
        let trainer = try PriorTrainer(model: sampler.model, options: PriorTrainingOptions(), data: data)
        let path = try temporaryDirectory(self).appendingPathComponent("p.safetensors").path
        try PriorCheckpoint.save(trainer.model, source: data.source, trainer: trainer, to: path)
        let foreign = try PriorDataset(clips: [randomClip(frames: 8, seed: 6, hash: "cccc")], names: ["foreign.codes.safetensors"])
        assertPriorError(try PriorCheckpoint.resume(path, data: foreign), { if case .tokenizerMismatch = $0 { true } else { false } },
                         mentions: ["foreign.codes.safetensors"])
        assertPriorError(try trainer.evaluate(foreign), { if case .tokenizerMismatch = $0 { true } else { false } })
    }

    func testDataWithoutAnyWindowAndBadCheckpointsAreRejected() throws {
        let (sampler, _) = try makeSampler()
        let short = try PriorDataset(clips: [randomClip(frames: 5, episodeStarts: [1, 2, 3, 4], seed: 1)])
        assertPriorError(try PriorTrainer(model: sampler.model, options: PriorTrainingOptions(), data: short),
                         { $0 == .noWindows(frames: 6) })   // windows of twice the context
        assertPriorError(try PriorDataset(clips: []), { $0 == .noClips })
        let dir = try temporaryDirectory(self)
        assertPriorError(try PriorDataset(paths: [dir.path]), { $0 == .noClips }, mentions: [dir.path])
        assertPriorError(try PriorCheckpoint.load(dir.appendingPathComponent("none.safetensors").path),
                         { if case .checkpoint = $0 { true } else { false } }, mentions: ["none.safetensors", "no such"])
        // A code file is not a prior checkpoint.
        let codes = dir.appendingPathComponent("x.codes.safetensors")
        try randomClip(frames: 4, seed: 1).write(to: codes)
        assertPriorError(try PriorCheckpoint.load(codes.path), { if case .checkpoint = $0 { true } else { false } },
                         mentions: ["not a framecast prior checkpoint"])
        // ... but the directory now loads as a data set.
        XCTAssertEqual(try PriorDataset(paths: [dir.path]).names, [codes.path])
    }
}
