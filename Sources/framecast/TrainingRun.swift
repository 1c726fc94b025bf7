import ArgumentParser
import Foundation
import Media
import Prior
import VQVAE

/// A trainer whose length can be set once its speed is known.
protocol BudgetedTrainer: AnyObject {
    var step: Int { get }
    var totalSteps: Int { get }
    func setTotalSteps(_ steps: Int)
    func advance() throws
}

extension TokenizerTrainer: BudgetedTrainer {
    var totalSteps: Int { options.steps }
    func advance() throws { _ = try trainStep() }
}

extension PriorTrainer: BudgetedTrainer {
    var totalSteps: Int { options.steps }
    func advance() throws { _ = try trainStep() }
}

/// What every training command shares: the run folder with its resumable checkpoint, `run.json`
/// (the data sources, fixed for the life of a run), the JSON-lines log and the `--minutes` budget.
struct TrainingRun {
    let folder: String
    let resume: Bool

    var checkpoint: String { folder + "/checkpoint.safetensors" }
    var logPath: String { folder + "/log.jsonl" }
    private var infoPath: String { folder + "/run.json" }

    init(folder: String, resume: Bool) throws {
        self.folder = folder
        self.resume = resume
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if resume, !FileManager.default.fileExists(atPath: checkpoint) {
            throw CheckpointError(checkpoint, "no checkpoint to resume from")
        }
    }

    /// The run's data sources: on `--resume`, those recorded in run.json fill the ones not given.
    /// The result is recorded again.
    func sources(_ given: [String: [String]]) throws -> [String: [String]] {
        var sources = given
        if resume, let data = FileManager.default.contents(atPath: infoPath),
           let recorded = try? JSONSerialization.jsonObject(with: data) as? [String: [String]] {
            for (key, value) in recorded where sources[key]?.isEmpty ?? true { sources[key] = value }
        }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: sources, options: [.sortedKeys, .prettyPrinted]), to: infoPath)
        return sources
    }

    /// The log: new for a fresh run; for a resumed one, cut back to the checkpoint's step.
    func openLog(at step: Int) throws -> JSONLinesLog {
        if resume {
            try JSONLinesLog.truncate(logPath, after: step)
            FileHandle.standardError.write(Data("resuming at step \(step)\n".utf8))
        }
        return try JSONLinesLog(path: logPath, truncate: !resume)
    }

    /// With a time budget on a fresh run: times the first `probeSteps` steps (after a few untimed
    /// warm-up steps), then fixes the run's length
    /// (stored in checkpoints, so `--resume` keeps it).
    func applyBudget(minutes: Double?, probeSteps: Int, to trainer: BudgetedTrainer) throws {
        guard let minutes, !resume else { return }
        trainer.setTotalSteps(1_000_000)
        let warmUp = max(2, probeSteps / 4)  // the first steps are slower (allocation, caches): not timed
        while trainer.step < warmUp { try trainer.advance() }
        let start = Date()
        while trainer.step < probeSteps { try trainer.advance() }
        let perStep = Date().timeIntervalSince(start) / Double(probeSteps - warmUp)
        trainer.setTotalSteps(Int(minutes * 60 / perStep))
        FileHandle.standardError.write(Data(String(format: "%.2f s/step: %d steps fit in %g minutes\n", perStep, trainer.totalSteps, minutes).utf8))
    }
}

/// Options every training command shares.
struct TrainingRunOptions: ParsableArguments {
    @Option(help: "Run folder for checkpoints, log and report.")
    var out: String

    @Flag(help: "Continue the run in --out from its last checkpoint.")
    var resume = false

    @Option(help: "Train for about this many minutes instead of --steps (the step count is set from the speed of the first steps).")
    var minutes: Double?

    @Option(help: "Random seed (initialisation, batches, random draws).")
    var seed: UInt64 = 0

    @Option(help: "Validate every N steps.")
    var evalEvery = 500

    @Option(help: "Write a checkpoint every N steps.")
    var checkpointEvery = 250

    @Option(help: "Log a line every N steps.")
    var logEvery = 25

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let minutes, !(minutes > 0) { throw ValidationError("--minutes must be positive") }
        guard evalEvery > 0, checkpointEvery > 0, logEvery > 0 else {
            throw ValidationError("--eval-every, --checkpoint-every and --log-every must be positive")
        }
    }
}
