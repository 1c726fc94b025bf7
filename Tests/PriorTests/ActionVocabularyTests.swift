import CodeFile
import Foundation
import NN
@testable import Prior
import XCTest

/// Clips whose scenarios name different but overlapping action sets train one prior: its
/// vocabulary is their union by name, and clips are read through names.
final class ActionVocabularyTests: XCTestCase {
    func testMixedVocabulariesJoinByNameInOrderOfAppearance() throws {
        var first = randomClip(frames: 20, actions: ["A", "B"], seed: 1)
        first.actions = [0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 0]
        var second = randomClip(frames: 20, actions: ["C", "B"], seed: 2)
        second.actions = Array(repeating: [0, 1, -1, 1], count: 5).flatMap { $0 }
        let data = try PriorDataset(clips: [first, second], names: ["first", "second"])
        XCTAssertEqual(data.source.actionNames, ["A", "B", "C"])
        XCTAssertEqual(data.actionCount, 3)
        XCTAssertEqual(data.clips[0].actions, first.actions, "the first clip's ids stay")
        XCTAssertEqual(Array(data.clips[1].actions.prefix(4)), [2, 1, -1, 1], "C → 2, B → 1, unknown stays −1")
        XCTAssertEqual(data.clips[1].actionNames, ["A", "B", "C"])

        // A prior trained on them reads a clip of either vocabulary (another order, a subset) by name...
        Torch.manualSeed(3)
        var options = PriorTrainingOptions()
        (options.steps, options.batch) = (2, 2)
        let trainer = try PriorTrainer(config: data.defaultConfig().with { $0.contextFrames = 3; $0.trainingFrames = 6; $0.layers = 1; $0.width = 16; $0.heads = 2 },
                                       options: options, data: data)
        try trainer.train()
        var validation = randomClip(frames: 12, actions: ["B", "A"], seed: 4)
        validation.actions = Array(repeating: [0, 1], count: 6).flatMap { $0 }
        let mapped = try PriorDataset(clips: [validation]).mapped(to: data.source)
        XCTAssertEqual(Array(mapped.clips[0].actions.prefix(2)), [1, 0])
        XCTAssertNoThrow(try trainer.evaluate(PriorDataset(clips: [validation])))
        let sampler = PriorSampler(model: trainer.model, source: data.source)
        XCTAssertNoThrow(try sampler.context(from: data.source.mapActions(of: validation), start: 0, frames: 3))
        // ... and refuses a clip with an action it never saw, by name.
        let stranger = randomClip(frames: 12, actions: ["A", "JUMP"], seed: 5)
        XCTAssertThrowsError(try PriorDataset(clips: [stranger], names: ["stranger.codes.safetensors"]).mapped(to: data.source)) {
            XCTAssertTrue("\($0)".contains("JUMP") && "\($0)".contains("stranger.codes.safetensors"), "\($0)")
        }
        XCTAssertThrowsError(try data.source.mapActions(of: stranger, file: "s"))
    }
}

private extension PriorConfig {
    func with(_ change: (inout PriorConfig) -> Void) -> PriorConfig {
        var copy = self
        change(&copy)
        return copy
    }
}
