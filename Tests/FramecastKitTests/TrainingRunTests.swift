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

/// A job on a simulated clock whose steps take 1 s until `slowFrom` seconds, then 2 s (a machine
/// that gets busy half-way through a run).
private final class SlowingJob: TrainingJob, StepTrainer {
    let label = "slowing job"
    var step = 0
    var totalSteps = 10
    var clock: TimeInterval = 0
    let slowFrom: TimeInterval
    init(slowFrom: TimeInterval) { self.slowFrom = slowFrom }
    var stepper: any StepTrainer { self }
    func setTotalSteps(_ steps: Int) { totalSteps = steps }
    func advance() throws {
        step += 1
        clock += clock < slowFrom ? 1 : 2
    }
    func logRow(elapsed: Double) -> (row: [String: Any], progress: String) { ([:], "") }
    func validate() throws -> (row: [String: Any], line: String)? { nil }
    func saveCheckpoint(to path: String) throws {}
    var finalValidationPasses: Double { 0 }
}

extension TrainingBudgetTests {
    /// A run whose steps get twice as slow at two thirds of its budget still ends within it: the
    /// length is revised late in the run, not only in its first half.
    func testABudgetHoldsWhenTheMachineSlowsDownLate() throws {
        let dir = TemporaryDirectory()
        let run = try TrainingRun(folder: dir.file("run"), resume: false)
        let job = SlowingJob(slowFrom: 400)
        let start = Date(timeIntervalSince1970: 0)
        let budget = TrainingRun.Budget(minutes: 10, from: start, finalValidations: 0, clock: { start.addingTimeInterval(job.clock) })
        _ = try run.trainSteps(job, cadence: (log: 1000, eval: 1000, checkpoint: 1000), budget: budget, probeSteps: 8, log: try run.openLog(at: 0))
        XCTAssertLessThanOrEqual(job.clock, 600 + 4, "ended \(job.clock - 600) s after its 600 s budget (\(job.step) steps)")
        XCTAssertGreaterThan(job.clock, 580, "ended \(600 - job.clock) s before its 600 s budget (\(job.step) steps)")
    }
}
