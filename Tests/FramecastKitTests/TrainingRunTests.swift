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

/// A job whose loss turns NaN at `failAt`: the loop must stop there with the last checkpoint kept.
private final class FailingJob: TrainingJob, StepTrainer {
    let label = "test job"
    var step = 0
    var totalSteps = 10
    let failAt: Int
    var checkpoints: [Int] = []
    init(failAt: Int) { self.failAt = failAt }
    var stepper: any StepTrainer { self }
    func setTotalSteps(_ steps: Int) { totalSteps = steps }
    struct Stats: StepStats { var step: Int; var loss: Double; var learningRate: Double }
    func advance() throws {
        step += 1
        _ = try finiteStep(Stats(step: step, loss: step == failAt ? .nan : 1, learningRate: 0.5))
    }
    func logRow(elapsed: Double) -> (row: [String: Any], progress: String) { (["step": step], "") }
    func validate() throws -> (row: [String: Any], line: String)? { nil }
    func saveCheckpoint(to path: String) throws {
        checkpoints.append(step)
        try Data("checkpoint at \(step)".utf8).write(to: URL(fileURLWithPath: path))
    }
    var finalValidationPasses: Double { 0 }
}

final class NonFiniteLossTests: XCTestCase {
    func testTrainingStopsAtTheFirstNonFiniteLossAndKeepsTheLastCheckpoint() throws {
        let dir = TemporaryDirectory(), folder = dir.file("run")
        let run = try TrainingRun(folder: folder, resume: false)
        let job = FailingJob(failAt: 5)
        var cadence = TrainingCadence()
        (cadence.logEvery, cadence.evalEvery, cadence.checkpointEvery) = (1, 100, 2)
        XCTAssertThrowsError(try run.train(job, cadence: cadence, probeSteps: 2, log: try run.openLog(at: 0))) { error in
            XCTAssertTrue("\(error)".contains("test job: the loss is not finite at step 5 (learning rate 0.5); training stopped and the last checkpoint"), "\(error)")
        }
        XCTAssertEqual(job.step, 5)
        XCTAssertEqual(job.checkpoints, [2, 4])
        XCTAssertEqual(try String(contentsOfFile: run.checkpoint, encoding: .utf8), "checkpoint at 4")
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
