@testable import FramecastKit
import Foundation
import TestSupport
import XCTest

final class TrainingRunTests: XCTestCase {
    func testTheCadenceIsRecordedAndKeptOnResume() throws {
        let dir = TemporaryDirectory(), folder = dir.file("run")
        var given = TrainingCadence()
        given.checkpointEvery = 3
        do {
            let run = try TrainingRun(folder: folder, resume: false)
            let c = try run.resolve(given)
            XCTAssertEqual([c.log, c.eval, c.checkpoint], [Recipe.logEvery, Recipe.evalEvery, 3])
        }
        try Data().write(to: URL(fileURLWithPath: folder + "/checkpoint.safetensors"))   // as if a checkpoint was written
        let resumed = try TrainingRun(folder: folder, resume: true)
        let c = try resumed.resolve(TrainingCadence())
        XCTAssertEqual([c.log, c.eval, c.checkpoint], [Recipe.logEvery, Recipe.evalEvery, 3], "the run's own cadence, not the default")
    }

    func testOneRunAtATimeInAFolder() throws {
        let dir = TemporaryDirectory(), folder = dir.file("run")
        do {
            let first = try TrainingRun(folder: folder, resume: false)
            XCTAssertThrowsError(try TrainingRun(folder: folder, resume: false)) {
                XCTAssertTrue("\($0)".contains("another framecast is training in this folder"), "\($0)")
            }
            withExtendedLifetime(first) {}
        }
        // Released with the first run: a new one may start (the folder holds no checkpoint yet).
        XCTAssertNoThrow(try TrainingRun(folder: folder, resume: false))
    }
}

final class TrainingBudgetTests: XCTestCase {
    /// Steps that fit: each step's time plus its share of the validation passes.
    func testStepsFittingCountsValidationPasses() {
        XCTAssertEqual(TrainingRun.stepsFitting(seconds: 100, perStep: 1, evalEvery: 10, perValidation: 0), 100)
        XCTAssertEqual(TrainingRun.stepsFitting(seconds: 100, perStep: 1, evalEvery: 10, perValidation: 10), 50)   // 10 steps + 1 pass = 20 s
        XCTAssertEqual(TrainingRun.stepsFitting(seconds: -5, perStep: 1, evalEvery: 10, perValidation: 0), 0)
        XCTAssertEqual(TrainingRun.stepsFitting(seconds: 60, perStep: 0.5, evalEvery: 500, perValidation: 20), 111)  // 60 / (0.5 + 0.04)
    }
}
