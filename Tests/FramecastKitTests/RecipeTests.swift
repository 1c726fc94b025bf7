import FramecastKit
import Prior
import VQVAE
import XCTest

final class RecipeTests: XCTestCase {
    /// The library's option structs default to the recipe, so code that builds them plainly trains the measured model.
    func testOptionDefaultsAreTheRecipe() {
        XCTAssertEqual(PriorTrainingOptions(), Recipe.priorTraining)
        XCTAssertEqual(TokenizerTrainingOptions().edgeWeight, Recipe.tokenizerTraining.edgeWeight)
        XCTAssertEqual(VQVAEConfig(), Recipe.tokenizer)
    }
}
