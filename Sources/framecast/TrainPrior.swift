import FramecastKit
import ArgumentParser
import Foundation
import Media
import NN
import Prior
import VQVAE

struct TrainPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Train the action-conditioned transformer prior on code files.",
        discussion: """
            Trains on windows of --training-frames frames (default twice --context; attention banded to \
            --context frames, rotary frame positions) that never cross an episode start, teacher-forced, with cross-entropy on code tokens. Validation \
            reports bits/token with the true actions, shuffled actions and no actions, against two baselines: \
            unigram code frequencies and the smoothed "same token as the previous frame". By default 10% of \
            the input codes (never the targets) are replaced by random codes (--context-noise), so the model \
            learns to continue imperfect pasts like its own rollouts. RUN_DIR gets checkpoint.safetensors \
            (resumable), prior.safetensors, log.jsonl and report.json.

            Examples:
              framecast encode .data/train --tokenizer runs/tok8/tokenizer.safetensors -o codes/train
              framecast train prior --codes codes/train --validation codes/val --minutes 60 --out runs/prior
              framecast train prior --out runs/prior --resume
              framecast train prior --codes codes/mine --init Models/default/prior.safetensors --minutes 20 --out runs/tuned
            """
    )

    @OptionGroup var runOptions: TrainingRunOptions

    @Option(help: "Training code files: a folder of .codes.safetensors files or files.")
    var codes: [String] = []

    @Option(help: "Validation code files (folder or files), kept out of training.")
    var validation: [String] = []

    @Option(help: "Optimizer steps.")
    var steps = Recipe.priorTraining.steps

    @Option(help: "Windows per batch.")
    var batch = Recipe.priorTraining.batch

    @Option(help: "Frames the model attends to (its context window).")
    var context = Recipe.prior.contextFrames

    @Option(help: "Frames per training window, at least --context (default: twice --context, \(2 * Recipe.prior.contextFrames)); attention stays banded to --context frames.")
    var trainingFrames: Int?

    @Option(help: "Transformer layers.")
    var layers = Recipe.prior.layers

    @Option(help: "Model width.")
    var width = Recipe.prior.width

    @Option(help: "Attention heads.")
    var heads = Recipe.prior.heads

    @Option(help: "Dropout.")
    var dropout = Recipe.prior.dropout

    @Flag(inversion: .prefixedNo, help: "Scale and shift every block's LayerNorm outputs per action (adaptive LayerNorm), besides the action tokens.")
    var actionModulation = Recipe.prior.actionModulation

    @Option(help: "Fraction of actions replaced by the learned no-action id in training.")
    var actionDropout = Recipe.priorTraining.actionDropout

    @Option(help: "Probability of replacing each input code (never a target) by a random code in training, so the model learns to predict from imperfect pasts like its own rollouts.")
    var contextNoise = Recipe.priorTraining.contextNoise

    @Option(help: "Peak learning rate.")
    var lr = Recipe.priorTraining.learningRate

    @Option(name: .customLong("init"), help: "Start from this prior checkpoint: its shape (--layers, --width, --heads, --context are ignored) and weights, actions matched by name (actions it never saw start fresh). Its grid and K must be the codes'.")
    var initFrom: String?

    @Option(help: "Validation windows per evaluation.")
    var evalWindows = Recipe.priorEvalWindows

    @Option(help: "Train in this many local processes (data parallel: each takes an equal share of every batch; gradients are averaged with c10d/Gloo). Default: 2 on a machine with 2 or more cores when --threads is not given (faster than one process with all the cores: docs/benchmarks.md), else 1. RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (as torchrun sets them) join a group across machines instead.")
    var nproc: Int?

    /// The local processes a run uses: `--nproc`, else 2 where there are 2 or more cores, no
    /// `--threads`, the CPU and an even batch (a resumed run's own), else 1.
    var processes: Int {
        if let nproc { return nproc }
        guard runOptions.threads == nil, runOptions.device.device == .cpu, Torch.allCores >= 2 else { return 1 }
        // A resumed run's batch is its checkpoint's (an unreadable one: one process, whose resume says why).
        let windows = runOptions.resume ? (try? PriorCheckpoint.trainingOptions(at: runOptions.out + "/checkpoint.safetensors"))?.batch : batch
        return (windows ?? 1) % 2 == 0 ? 2 : 1
    }

    func validate() throws {
        guard runOptions.resume || !codes.isEmpty else { throw ValidationError("--codes is required (unless --resume)") }
        if runOptions.resume {
            // The checkpoint holds the run's model and training settings: changing them is refused, not ignored.
            let r = Recipe.prior, o = Recipe.priorTraining
            let fixed: [(String, Bool)] = [("--steps", steps != o.steps), ("--batch", batch != o.batch), ("--context", context != r.contextFrames),
                                           ("--training-frames", trainingFrames != nil), ("--layers", layers != r.layers), ("--width", width != r.width),
                                           ("--heads", heads != r.heads), ("--dropout", dropout != r.dropout),
                                           ("--no-action-modulation", actionModulation != r.actionModulation),
                                           ("--action-dropout", actionDropout != o.actionDropout), ("--context-noise", contextNoise != o.contextNoise),
                                           ("--lr", lr != o.learningRate), ("--minutes", runOptions.minutes != nil)]
            if let (option, _) = fixed.first(where: \.1) {
                throw ValidationError("\(option) is fixed when a run starts; --resume continues the run with its own settings")
            }
        }
        guard initFrom == nil || !runOptions.resume else { throw ValidationError("--init starts a new run; --resume continues one (its checkpoint already holds the weights)") }
        guard steps > 0, batch > 0, context >= 2 else { throw ValidationError("--steps and --batch must be positive, --context at least 2") }
        guard layers > 0, width > 0, heads > 0, width % heads == 0 else { throw ValidationError("--width must be a positive multiple of --heads") }
        guard (width / heads) % 2 == 0 else { throw ValidationError("rotary frame positions need an even head width (--width / --heads)") }
        guard contextNoise >= 0, contextNoise < 1 else { throw ValidationError("--context-noise must be in [0, 1)") }
        guard actionDropout >= 0, actionDropout <= 1 else { throw ValidationError("--action-dropout must be in [0, 1]") }
        guard dropout >= 0, dropout < 1 else { throw ValidationError("--dropout must be in [0, 1)") }
        guard evalWindows > 0 else { throw ValidationError("--eval-windows must be positive") }
        if let nproc {
            try validateRange(nproc, 1...64, "--nproc")
            guard batch % nproc == 0 else { throw ValidationError("--batch \(batch) must split evenly over --nproc \(nproc) processes") }
        }
        try validateRange(steps, 1...100_000_000, "--steps")
        try validateRange(batch, 1...4096, "--batch")
        try validateRange(layers, 1...64, "--layers")
        try validateRange(width, 1...4096, "--width")
        try validateRange(heads, 1...64, "--heads")
        try validateRange(context, 2...256, "--context")
        if let trainingFrames { try validateRange(trainingFrames, 2...1024, "--training-frames") }
        guard lr.isFinite, lr > 0, lr < 1 else { throw ValidationError("--lr must be in (0, 1), got \(lr)") }
        if let trainingFrames, trainingFrames < context {
            throw ValidationError("--training-frames \(trainingFrames) must be at least --context \(context)")
        }
    }

    /// The run these options describe (the recipe where no option is given).
    var settings: PriorTraining.Settings {
        var s = PriorTraining.Settings()
        (s.codes, s.validation, s.evalWindows, s.initFrom) = (codes, validation, evalWindows, initFrom)
        (s.config.layers, s.config.width, s.config.heads) = (layers, width, heads)
        s.config.contextFrames = context
        s.config.trainingFrames = trainingFrames ?? 2 * context
        s.config.dropout = dropout
        s.config.actionModulation = actionModulation
        s.options.steps = steps
        s.options.batch = batch
        s.options.learningRate = lr
        s.options.warmup = runOptions.minutes == nil ? min(Recipe.priorTraining.warmup, steps / 10) : Recipe.priorTraining.warmup
        s.options.actionDropout = actionDropout
        s.options.contextNoise = contextNoise
        s.options.seed = runOptions.seed
        return s
    }

    func run() throws {
        let group = try DataParallel.start(processes: processes, threads: runOptions.threads, device: runOptions.device.device, label: "train prior")
        if let report = try PriorTraining.run(settings, folder: runOptions.out, resume: runOptions.resume, cadence: runOptions.cadence, group: group) {
            print(report)
        }
    }
}
