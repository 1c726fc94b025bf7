import FileOutput
import Foundation
import NN
import Media
import Prior
import VQVAE

/// A trainer whose run length can be changed once its speed is known.
package protocol StepTrainer: AnyObject {
    /// Steps completed.
    var step: Int { get }
    /// The run's length.
    var totalSteps: Int { get }
    /// Changes the run's length (a time budget converted to steps); the schedule follows.
    func setTotalSteps(_ steps: Int)
}

extension TokenizerTrainer: StepTrainer {
    package var totalSteps: Int { options.steps }
}

extension PriorTrainer: StepTrainer {
    package var totalSteps: Int { options.steps }
}

/// One model being trained, as the shared training loop (`TrainingRun.train`) drives it: the
/// generic trainer of IRIS's components, here for the tokenizer and the prior.
package protocol TrainingJob: AnyObject {
    /// "train tokenizer", "train prior": the progress label.
    var label: String { get }
    /// The model's trainer: its step and run length.
    var stepper: any StepTrainer { get }
    /// One optimizer step; the job keeps its figures until `logRow`.
    func advance() throws
    /// The log row and progress text of the steps since the last call.
    func logRow(elapsed: Double) -> (row: [String: Any], progress: String)
    /// Validation figures at this step (nil without validation data): a log row and a line for stderr.
    func validate() throws -> (row: [String: Any], line: String)?
    /// Writes the resumable checkpoint.
    func saveCheckpoint(to path: String) throws
    /// How many regular validation passes the final validation costs (for a time budget).
    var finalValidationPasses: Double { get }
}

extension TrainingJob {
    var step: Int { stepper.step }
    var totalSteps: Int { stepper.totalSteps }
    func setTotalSteps(_ steps: Int) { stepper.setTotalSteps(steps) }
}

/// What a training step reports, as far as the loop needs it.
package protocol StepStats {
    var step: Int { get }
    var loss: Double { get }
    var learningRate: Double { get }
}

extension TokenizerStepStats: StepStats {}
extension PriorStepStats: StepStats {}

/// `stats`, unless its loss is NaN or infinite.
/// - Throws: `NonFiniteLoss` with the step and learning rate.
package func finiteStep<S: StepStats>(_ stats: S) throws -> S {
    guard stats.loss.isFinite else { throw NonFiniteLoss(step: stats.step, learningRate: stats.learningRate) }
    return stats
}

/// A training step whose loss was NaN or infinite.
package struct NonFiniteLoss: Error {
    package let step: Int
    package let learningRate: Double
}

/// How often a run logs, validates and checkpoints (nil: as recorded for a resumed run, else the
/// recipe's), and its time budget.
package struct TrainingCadence {
    package var logEvery: Int?
    package var evalEvery: Int?
    package var checkpointEvery: Int?
    /// Train for about this many minutes instead of the step count.
    package var minutes: Double?
    package init() {}
}

/// What every training run shares: the run folder with its resumable checkpoint, `run.json`
/// (the data sources, fixed for the life of a run), the JSON-lines log, the `--minutes` budget
/// and the loop of steps, logging, validation and checkpoints.
package struct TrainingRun {
    package let folder: String
    package let resume: Bool
    /// When the run started (a `--minutes` budget counts from here: loading, steps, validations).
    package let started = Date()
    /// Held for the life of the run, so two runs never share a folder (by the leader alone).
    private let lock: RunLock?
    /// Data parallelism: the group of processes training together (nil: this process alone).
    package let group: ProcessGroup?
    /// Whether this process writes the run folder: the only one, or rank 0 of a group. The other
    /// ranks train in step with it and write nothing.
    package var isLeader: Bool { (group?.rank ?? 0) == 0 }

    package var checkpoint: String { folder + "/checkpoint.safetensors" }
    package var logPath: String { folder + "/log.jsonl" }
    private var infoPath: String { folder + "/run.json" }

    /// Opens the run folder (made when missing) and takes its lock.
    /// - Throws: `CheckpointError` when another process trains in it, when a new run would
    ///   overwrite a run already there, or when `resume` finds no checkpoint.
    package init(folder: String, resume: Bool, group: ProcessGroup? = nil) throws {
        self.folder = folder
        self.resume = resume
        self.group = group
        let leader = (group?.rank ?? 0) == 0
        if leader { try makeOutputFolder(folder) }
        lock = leader ? try RunLock(folder: folder) : nil
        let exists = FileManager.default.fileExists(atPath: folder + "/checkpoint.safetensors")
        if resume, !exists {
            throw CheckpointError(folder + "/checkpoint.safetensors", "no checkpoint to resume from")
        }
        if !resume, exists {
            throw CheckpointError(folder, "already holds a run (checkpoint.safetensors): --resume continues it; give another --out for a new one")
        }
        // A new run in a folder without a checkpoint: a run.json there is from a run that never
        // saved one, and is replaced.
        if !resume, leader { try? FileManager.default.removeItem(atPath: infoPath) }
    }

    /// What run.json holds (empty when it is missing).
    /// - Throws: `CheckpointError` naming the file when it is not a JSON object of string lists.
    private func recorded() throws -> [String: [String]] {
        guard let data = FileManager.default.contents(atPath: infoPath) else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: [String]] else {
            throw CheckpointError(infoPath, "is not a run record (a JSON object whose values are lists of strings); it was edited or damaged")
        }
        return object
    }

    /// Records `entries` in run.json, keeping what it holds under other keys.
    private func record(_ entries: [String: [String]]) throws {
        guard isLeader else { return }
        let merged = try recorded().merging(entries) { $1 }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys, .prettyPrinted]), to: infoPath)
    }

    /// The run's data sources: on `--resume`, those recorded in run.json fill the ones not given.
    /// The result is recorded again.
    package func sources(_ given: [String: [String]]) throws -> [String: [String]] {
        var sources = given
        if resume {
            for (key, value) in try recorded() where sources[key]?.isEmpty ?? true { sources[key] = value }
        }
        try record(sources)
        return sources
    }

    /// The cadence: what is given, else (resuming) what the run recorded, else the recipe's. Recorded.
    package func resolve(_ given: TrainingCadence) throws -> (log: Int, eval: Int, checkpoint: Int) {
        let stored = resume ? try recorded() : [:]
        func value(_ given: Int?, _ key: String, _ recipe: Int) -> Int {
            given ?? stored[key]?.first.flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? recipe
        }
        let resolved = (log: value(given.logEvery, "log_every", Recipe.logEvery), eval: value(given.evalEvery, "eval_every", Recipe.evalEvery),
                        checkpoint: value(given.checkpointEvery, "checkpoint_every", Recipe.checkpointEvery))
        try record(["log_every": [String(resolved.log)], "eval_every": [String(resolved.eval)], "checkpoint_every": [String(resolved.checkpoint)]])
        return resolved
    }

    /// The log: new for a fresh run; for a resumed one, cut back to the checkpoint's step.
    package func openLog(at step: Int) throws -> JSONLinesLog {
        guard isLeader else { return try JSONLinesLog(path: "/dev/null", truncate: false) }
        if resume {
            try JSONLinesLog.truncate(logPath, after: step)
            FileHandle.standardError.write(Data("resuming at step \(step)\n".utf8))
        }
        return try JSONLinesLog(path: logPath, truncate: !resume)
    }

    /// A run length every rank of the group takes: rank 0's (this process's alone without a group).
    func agreed(_ steps: Int) throws -> Int {
        guard let group else { return steps }
        let value = try Tensor([Int64(steps)], shape: [1])
        try group.broadcast([value])
        return Int(try value.item())
    }

    /// Steps that fit in `seconds` at `perStep` seconds a step, with a validation pass of
    /// `perValidation` seconds every `evalEvery` steps.
    package static func stepsFitting(seconds: Double, perStep: Double, evalEvery: Int, perValidation: Double) -> Int {
        guard seconds > 0, perStep > 0 else { return 0 }
        return Int(seconds / (perStep + perValidation / Double(max(1, evalEvery))))
    }

    /// With a time budget on a fresh run: times the first `probeSteps` steps (after a few untimed
    /// warm-up steps), then sets the run's length from the time left (stored in checkpoints, so
    /// `--resume` keeps it; `Budget.revise` corrects it while the run goes on).
    package func applyBudget(_ budget: Budget?, probeSteps: Int, evalEvery: Int, to job: TrainingJob, log: JSONLinesLog) throws {
        guard let budget else { return }
        job.setTotalSteps(1_000_000)
        let warmUp = max(2, probeSteps / 4)  // the first steps are slower (allocation, caches): not timed
        while job.step < warmUp { try job.advance() }
        let start = budget.now()
        while job.step < probeSteps { try job.advance() }
        let perStep = budget.now().timeIntervalSince(start) / Double(probeSteps - warmUp)
        // One validation pass, timed (and logged: the barely trained model's figures), so the
        // budget can hold the regular ones, the one at the last step and the final validation.
        let validationStart = budget.now()
        if isLeader, let (row, line) = try job.validate() {
            budget.perValidation = budget.now().timeIntervalSince(validationStart)
            log.write(row.merging(["step": job.step]) { $1 })
            FileHandle.standardError.write(Data(String(format: "step %d validation (%.1f s): %@\n", job.step, budget.perValidation, line).utf8))
        }
        let seconds = budget.remaining() - budget.perValidation       // the last step's pass
        let decided = job.step + Self.stepsFitting(seconds: seconds, perStep: perStep, evalEvery: evalEvery, perValidation: budget.perValidation)
        job.setTotalSteps(try agreed(decided))
        if isLeader {
            FileHandle.standardError.write(Data(String(format: "%.2f s/step: %d steps fit in %g minutes\n", perStep, job.totalSteps, budget.minutes).utf8))
        }
    }

    /// A `--minutes` budget: the run's wall time from its start, with the final validation (counted
    /// as `finalValidations` regular passes) inside it. The run's length is revised at fixed
    /// fractions of the run (`revisions`) from the speed measured since the last revision, so a
    /// machine that gets busier (or idler) as the run goes on still ends it on time.
    package final class Budget {
        /// The fractions of the run at which its length is revised.
        static let revisions = [0.1, 0.25, 0.5, 0.75, 0.9]
        package let minutes: Double
        let deadline: Date
        /// The time of one validation pass, once measured.
        var perValidation = 0.0
        let finalValidations: Double
        private var lastRevision: (step: Int, time: Date)?
        /// The clock (tests give a simulated one).
        let now: () -> Date

        init(minutes: Double, from start: Date, finalValidations: Double, clock: @escaping () -> Date = Date.init) {
            self.minutes = minutes
            deadline = start.addingTimeInterval(minutes * 60)
            self.finalValidations = finalValidations
            now = clock
        }

        /// Seconds left for steps and regular validations.
        func remaining() -> Double { deadline.timeIntervalSince(now()) - perValidation * finalValidations }

        /// At each of `revisions`' fractions of the run, sets its length from the time left and the
        /// speed since the previous revision (the first after the probe); `agree` makes every rank
        /// of a group take rank 0's decision. Returns a line to print when it changed.
        func revise(_ job: TrainingJob, evalEvery: Int, agree: (Int) throws -> Int = { $0 }) rethrows -> String? {
            let step = job.step, now = now()
            guard let (lastStep, lastTime) = lastRevision else { lastRevision = (step, now); return nil }
            let total = job.totalSteps
            guard Self.revisions.contains(where: { Int(Double(total) * $0) == step }), step > lastStep else { return nil }
            let perStep = now.timeIntervalSince(lastTime) / Double(step - lastStep)
            lastRevision = (step, now)
            let revised = try agree(step + TrainingRun.stepsFitting(seconds: remaining() - perValidation, perStep: perStep, evalEvery: evalEvery,
                                                                    perValidation: perValidation))
            guard revised != total else { return nil }
            job.setTotalSteps(max(step + 1, revised))
            return String(format: "budget: %.2f s/step, %.1f s/validation: %d steps in all (was %d) to end within %g minutes",
                          perStep, perValidation, job.totalSteps, total, minutes)
        }
    }

    /// Trains `job` to its last step: logs every `logEvery` steps, validates every `evalEvery` and
    /// checkpoints every `checkpointEvery` (and at the last step). Returns the seconds it took.
    /// - Throws: at the first non-finite loss, an error that says so and that the last checkpoint
    ///   (written before it) is intact.
    package func train(_ job: TrainingJob, cadence: TrainingCadence, probeSteps: Int, log: JSONLinesLog) throws -> Double {
        do {
            return try budgetedSteps(job, cadence: cadence, probeSteps: probeSteps, log: log)
        } catch let error as NonFiniteLoss {
            let kept = FileManager.default.fileExists(atPath: checkpoint)
                ? "the last checkpoint, \(checkpoint), is intact" : "no checkpoint was written"
            throw CheckpointError(folder, "\(job.label): the loss is not finite at step \(error.step) (learning rate \(error.learningRate)); training stopped and \(kept)")
        }
    }

    private func budgetedSteps(_ job: TrainingJob, cadence given: TrainingCadence, probeSteps: Int, log: JSONLinesLog) throws -> Double {
        let cadence = try resolve(given)
        // A budget is spent only by a fresh run; a resumed one keeps the length its checkpoint decided.
        let budget = given.minutes.flatMap { resume ? nil : Budget(minutes: $0, from: self.started, finalValidations: job.finalValidationPasses) }
        return try trainSteps(job, cadence: cadence, budget: budget, probeSteps: probeSteps, log: log)
    }

    /// The loop of `train`, spending `budget` (nil: the job's own step count).
    func trainSteps(_ job: TrainingJob, cadence: (log: Int, eval: Int, checkpoint: Int), budget: Budget?, probeSteps: Int, log: JSONLinesLog) throws -> Double {
        try applyBudget(budget, probeSteps: probeSteps, evalEvery: cadence.eval, to: job, log: log)
        let progress = isLeader ? ProgressReporter(job.label, total: job.totalSteps, unit: "steps", from: job.step) : nil
        let trainingStart = Date()
        while job.step < job.totalSteps {
            try job.advance()
            let step = job.step, total = job.totalSteps
            if step % cadence.log == 0 || step == total {
                let (row, text) = job.logRow(elapsed: Date().timeIntervalSince(trainingStart))
                log.write(row.merging(["step": step]) { $1 })
                progress?.update(step, extra: text)
            }
            let validationStart = budget?.now() ?? Date()
            if isLeader, step % cadence.eval == 0 || step == total, let (row, line) = try job.validate() {
                budget?.perValidation = (budget?.now() ?? Date()).timeIntervalSince(validationStart)
                log.write(row.merging(["step": step]) { $1 })
                FileHandle.standardError.write(Data("\nstep \(step) validation: \(line)\n".utf8))
            }
            if let budget, let line = try budget.revise(job, evalEvery: cadence.eval, agree: agreed), let progress {
                progress.setTotal(job.totalSteps)
                FileHandle.standardError.write(Data("\n\(line)\n".utf8))
            }
            if isLeader, step % cadence.checkpoint == 0 || step == total {
                try job.saveCheckpoint(to: checkpoint)
            }
        }
        progress?.finish(job.step)
        return Date().timeIntervalSince(trainingStart)
    }

    /// Writes `report` to the run's report.json and returns it as one JSON line.
    package func writeReport(_ report: [String: Any]) throws -> String {
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted]), to: folder + "/report.json")
        return String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self)
    }
}

/// An exclusive lock on a run folder (`flock` on RUN/.lock), released when the process ends,
/// however it ends.
private final class RunLock {
    private let descriptor: Int32

    init(folder: String) throws {
        descriptor = open(folder + "/.lock", O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else { throw CheckpointError(folder, "cannot make its lock file .lock (\(String(cString: strerror(errno))))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw CheckpointError(folder, "another framecast is training in this folder (it holds .lock); wait for it or give another --out")
        }
    }

    deinit { close(descriptor) }
}
