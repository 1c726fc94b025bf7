import NN
@testable import Prior
import XCTest

/// `train prior --init`: a trained prior's weights move into a model for other action names,
/// rows matched by name.
final class PriorTransferTests: XCTestCase {
    func testActionRowsFollowTheirNamesAndEverythingElseIsCopied() throws {
        var oldConfig = tinyConfig()
        oldConfig.actionModulation = true
        Torch.manualSeed(1)
        let trained = try PriorModel(config: oldConfig)            // actions A, B, C (+ no action)
        try randomiseModulation(trained)
        var newConfig = oldConfig
        newConfig.actionCount = 4                                  // actions C, X, A, Y (+ no action)
        Torch.manualSeed(2)
        let model = try PriorModel(config: newConfig)
        try randomiseModulation(model)
        let freshBefore = Dictionary(try model.namedParameters.map { ($0.0, try $0.1.floats()) }, uniquingKeysWith: { a, _ in a })
        let matched = try model.transfer(from: trained, actionNames: ["A", "B", "C"], to: ["C", "X", "A", "Y"])
        XCTAssertEqual(matched, ["C", "A"])

        let old = Dictionary(trained.namedParameters, uniquingKeysWith: { a, _ in a })
        var perActionTensors = 0
        for (name, tensor) in model.namedParameters {
            let now = try tensor.floats(), before = try old[name]!.floats()
            guard name == "action_embedding.weight" || name.hasSuffix(".modulation.weight") else {
                XCTAssertEqual(now, before, name)
                continue
            }
            perActionTensors += 1
            let width = tensor.shape[1]
            func row(_ values: [Float], _ r: Int) -> [Float] { Array(values[(r * width)..<((r + 1) * width)]) }
            XCTAssertEqual(row(now, 0), row(before, 2), "\(name): C")
            XCTAssertEqual(row(now, 2), row(before, 0), "\(name): A")
            XCTAssertEqual(row(now, 4), row(before, 3), "\(name): no action")
            XCTAssertEqual(row(now, 1), row(freshBefore[name]!, 1), "\(name): X is new and keeps its fresh row")
            XCTAssertEqual(row(now, 3), row(freshBefore[name]!, 3), "\(name): Y is new")
            XCTAssertNotEqual(row(now, 1), row(before, 1), "\(name): X did not take B's row")
        }
        XCTAssertEqual(perActionTensors, 1 + oldConfig.layers)
    }

    func testAnotherShapeIsRefusedByTensorName() throws {
        let trained = try PriorModel(config: tinyConfig())
        var wider = tinyConfig()
        wider.width = 64
        XCTAssertThrowsError(try PriorModel(config: wider).transfer(from: trained, actionNames: ["A", "B", "C"], to: ["A", "B", "C"])) { error in
            XCTAssertTrue("\(error)".contains("code_embedding.weight"), "\(error)")
        }
    }
}
