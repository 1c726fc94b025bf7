import ArgumentParser
import FramecastKit
import NN

/// Options every training command shares.
struct TrainingRunOptions: ParsableArguments {
    @Option(help: "Run folder for checkpoints, log and report.")
    var out: String

    @Flag(help: "Continue the run in --out from its last checkpoint.")
    var resume = false

    @Option(help: "Train for about this many minutes of wall time instead of --steps, the final validation included: the step count is set from the speed of the first steps and revised as the run goes; --resume keeps the decided count.")
    var minutes: Double?

    @Option(help: "Random seed (initialisation, batches, random draws).")
    var seed: UInt64 = 0

    @Option(help: "Validate every N steps (default: \(Recipe.evalEvery), or the resumed run's).")
    var evalEvery: Int?

    @Option(help: "Write a checkpoint every N steps (default: \(Recipe.checkpointEvery), or the resumed run's).")
    var checkpointEvery: Int?

    @Option(help: "Log a line every N steps (default: \(Recipe.logEvery), or the resumed run's).")
    var logEvery: Int?

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @OptionGroup var device: DeviceOption

    func validate() throws {
        try validateThreads(threads)
        if let minutes, !(minutes > 0) { throw ValidationError("--minutes must be positive") }
        guard [evalEvery, checkpointEvery, logEvery].allSatisfy({ ($0 ?? 1) > 0 }) else {
            throw ValidationError("--eval-every, --checkpoint-every and --log-every must be positive")
        }
    }

    /// The loop's cadence and budget.
    var cadence: TrainingCadence {
        var c = TrainingCadence()
        (c.logEvery, c.evalEvery, c.checkpointEvery, c.minutes) = (logEvery, evalEvery, checkpointEvery, minutes)
        return c
    }
}
