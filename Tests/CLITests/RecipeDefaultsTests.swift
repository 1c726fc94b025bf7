@testable import framecast
import FramecastKit
import Prior
import VQVAE
import XCTest

/// One source of defaults: the command line, given no option, describes the recipe's run.
final class RecipeDefaultsTests: XCTestCase {
    func testTrainPriorDefaultsAreTheRecipe() throws {
        let command = try TrainPrior.parse(["--codes", "c", "--out", "o", "--steps", String(Recipe.priorTraining.steps)])
        let settings = command.settings
        XCTAssertEqual(settings.config, Recipe.prior)
        XCTAssertEqual(settings.options, Recipe.priorTraining)
        XCTAssertEqual(settings.evalWindows, Recipe.priorEvalWindows)
        // Not given: a new run takes the recipe's cadence, a resumed one its own (TrainingRun.resolve).
        XCTAssertNil(command.runOptions.cadence.evalEvery)
        XCTAssertNil(command.runOptions.cadence.checkpointEvery)
        XCTAssertNil(command.runOptions.cadence.logEvery)
    }

    func testTrainTokenizerDefaultsAreTheRecipe() throws {
        let settings = try TrainTokenizer.parse(["--clips", "c", "--out", "o", "--no-bfloat16"]).settings
        XCTAssertEqual(settings.config, Recipe.tokenizer)
        XCTAssertEqual(settings.options, Recipe.tokenizerTraining)
        XCTAssertEqual(settings.evalFrames, Recipe.tokenizerEvalFrames)
    }

    func testSamplingDefaultsAreTheRecipe() throws {
        for guidance in [try Predict.parse(["x.mp4", "--tokenizer", "t", "--prior", "p", "-o", "x.codes.safetensors"]).guidance,
                         try EvalPrior.parse(["--tokenizer", "t", "--prior", "p", "--clips", "c"]).guidance,
                         try Demo.parse([]).guidance, try Report.parse(["-o", "r"]).guidance] {
            XCTAssertEqual(guidance.actionGuidance, Recipe.sampling.actionGuidance)
        }
        let predict = try Predict.parse(["x.mp4", "--tokenizer", "t", "--prior", "p", "-o", "x.codes.safetensors"])
        XCTAssertEqual([predict.temperature, predict.topP], [Recipe.sampling.temperature, Recipe.sampling.topP])
        XCTAssertEqual(predict.topK, Recipe.sampling.topK)
    }
}
