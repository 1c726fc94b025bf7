import FramecastKit
import ArgumentParser
import Foundation
import Media
import NN
import VQVAE

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on your clips.",
        subcommands: [TrainTokenizer.self, TrainPrior.self]
    )
}

struct TrainTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train the per-frame VQ-VAE tokenizer on clips.",
        discussion: """
            Frames are read at --size (fitted by --fit) into memory and sampled in random batches. Every \
            --checkpoint-every steps RUN_DIR/checkpoint.safetensors is replaced atomically (model, optimizer \
            state, options); --resume continues from it to the same result as an uninterrupted run. At the end \
            RUN_DIR/tokenizer.safetensors holds the model alone and RUN_DIR/report.json its validation figures; \
            RUN_DIR/log.jsonl has one line per logged step.

            --init starts from a trained tokenizer (its shape; the shape options are ignored, --fit applies).

            On a CPU with AMX or AVX512-BF16 the training convolutions run in bfloat16 (faster, the same \
            quality per step: docs/numerics.md); --no-bfloat16 keeps them float32. Evaluation, encoding and decoding are \
            always float32, so a model's codes do not depend on it.

            Examples:
              framecast train tokenizer --clips Clips/manifest.json --steps 2000 --out runs/tok
              framecast train tokenizer --clips .data/train --validation Clips/manifest.json --minutes 30 --out runs/tok
              framecast train tokenizer --out runs/tok --resume
            """
    )

    @OptionGroup var runOptions: TrainingRunOptions

    @Option(help: "Training clips: a folder of videos, a manifest.json (its 'train' split), or a video.")
    var clips: String?

    @Option(help: "Validation clips: folder, manifest (its 'validation' split) or video. Default: the --clips manifest's validation split.")
    var validation: String?

    @Option(help: "Optimizer steps.")
    var steps = Recipe.tokenizerTraining.steps

    @Option(help: "Frames per batch.")
    var batch = Recipe.tokenizerTraining.batch

    @Option(help: "Frame size WIDTHxHEIGHT the tokenizer works at.")
    var size = FrameSize(width: Recipe.tokenizer.frameWidth, height: Recipe.tokenizer.frameHeight)

    @Option(help: "How videos of another aspect ratio become frames: stretch (the whole frame, scaled) or crop (the middle); recorded in the tokenizer, which encodes with it.")
    var fit: FitMode = Recipe.tokenizer.fitMode

    @Option(help: "Code grid WIDTHxHEIGHT (frame size / 4 or / 8).")
    var grid = FrameSize(width: Recipe.tokenizer.gridWidth, height: Recipe.tokenizer.gridHeight)

    @Option(help: "Codebook KxD: number of codes and their dimension.")
    var codebook = FrameSize(width: Recipe.tokenizer.codebookSize, height: Recipe.tokenizer.codeDim)

    @Option(help: "Channels at the highest resolution (doubled at lower ones, up to --max-channels).")
    var channels = Recipe.tokenizer.baseChannels

    @Option(help: "Channel limit at the lower-resolution levels.")
    var maxChannels = Recipe.tokenizer.maxChannels

    @Option(help: "Decoder residual blocks per resolution level (plus one at the grid level).")
    var blocks = Recipe.tokenizer.blocksPerLevel

    @Option(help: "Encoder residual blocks per level (plus one at the grid level); fewer encode faster.")
    var encoderBlocks = Recipe.tokenizer.encoderBlocks

    @Option(help: "Peak learning rate.")
    var lr = Recipe.tokenizerTraining.learningRate

    @Option(help: "Weight of the image-gradient (edge) L1 loss, for sharpness; 0 turns it off.")
    var edgeWeight = Recipe.tokenizerTraining.edgeWeight

    @Option(help: "EMA decay for codebook updates; 0 trains the codebook with its loss term instead.")
    var emaDecay = Recipe.tokenizer.emaDecay

    @Option(help: "Validation frames per evaluation (evenly spaced).")
    var evalFrames = Recipe.tokenizerEvalFrames

    @Option(name: .customLong("init"), help: "Start from this tokenizer checkpoint's weights and shape.")
    var initFrom: String?

    @Option(help: "Train in this many local processes (data parallel: each takes an equal share of every batch; gradients are averaged and the codebook statistics summed with c10d/Gloo). Without it, RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (as torchrun sets them) join a group across machines.")
    var nproc: Int?

    @Flag(inversion: .prefixedNo, help: "Compute the training convolutions in bfloat16 (weights, norms, losses stay float32; evaluation and codes stay float32). Default: on where the CPU has AMX or AVX512-BF16, off elsewhere.")
    var bfloat16: Bool?

    func validate() throws {
        guard runOptions.resume || clips != nil else { throw ValidationError("--clips is required (unless --resume)") }
        if let nproc {
            try validateRange(nproc, 1...64, "--nproc")
            guard batch % nproc == 0 else { throw ValidationError("--batch \(batch) must split evenly over --nproc \(nproc) processes") }
        }
        if runOptions.resume {
            // The checkpoint holds the run's model and training settings: changing them is refused, not ignored.
            let r = Recipe.tokenizer, o = Recipe.tokenizerTraining
            let fixed: [(String, Bool)] = [("--steps", steps != o.steps), ("--batch", batch != o.batch),
                                           ("--size", size.width != r.frameWidth || size.height != r.frameHeight),
                                           ("--grid", grid.width != r.gridWidth || grid.height != r.gridHeight),
                                           ("--fit", fit != r.fitMode),
                                           ("--codebook", codebook.width != r.codebookSize || codebook.height != r.codeDim),
                                           ("--channels", channels != r.baseChannels), ("--max-channels", maxChannels != r.maxChannels),
                                           ("--blocks", blocks != r.blocksPerLevel), ("--encoder-blocks", encoderBlocks != r.encoderBlocks),
                                           ("--lr", lr != o.learningRate), ("--edge-weight", edgeWeight != o.edgeWeight),
                                           ("--ema-decay", emaDecay != r.emaDecay), ("--minutes", runOptions.minutes != nil)]
            if let (option, _) = fixed.first(where: \.1) {
                throw ValidationError("\(option) is fixed when a run starts; --resume continues the run with its own settings")
            }
        }
        guard fit != .pad else { throw ValidationError("--fit must be stretch or crop (letterboxing measured worse than stretch: docs/experiments.md)") }
        guard steps > 0, batch > 0 else { throw ValidationError("--steps and --batch must be positive") }
        try size.validate("--size", max: 1024)
        try grid.validate("--grid", max: 256)
        guard codebook.width >= 2, codebook.height >= 1 else { throw ValidationError("--codebook must be KxD with K >= 2, got \(codebook)") }
        if let problem = modelConfig.problems.first { throw ValidationError(problem) }
        guard evalFrames > 0 else { throw ValidationError("--eval-frames must be positive") }
        guard edgeWeight >= 0, edgeWeight.isFinite else { throw ValidationError("--edge-weight must not be negative, got \(edgeWeight)") }
        try validateRange(steps, 1...100_000_000, "--steps")
        try validateRange(batch, 1...4096, "--batch")
        guard lr.isFinite, lr > 0, lr < 1 else { throw ValidationError("--lr must be in (0, 1), got \(lr)") }
        guard bfloat16 == nil || !runOptions.resume else { throw ValidationError("--bfloat16 / --no-bfloat16 is chosen when a run starts; --resume keeps the run's setting") }
        guard initFrom == nil || !runOptions.resume else { throw ValidationError("--init starts a new run; --resume continues one (its checkpoint already holds the weights)") }
    }

    var modelConfig: VQVAEConfig {
        var c = Recipe.tokenizer
        (c.frameWidth, c.frameHeight) = (size.width, size.height)
        (c.gridWidth, c.gridHeight) = (grid.width, grid.height)
        (c.codebookSize, c.codeDim) = (codebook.width, codebook.height)
        (c.baseChannels, c.maxChannels) = (channels, maxChannels)
        c.blocksPerLevel = blocks
        c.encoderBlocksPerLevel = encoderBlocks
        c.emaDecay = emaDecay
        c.fit = fit.rawValue
        return c
    }

    /// The run these options describe (the recipe where no option is given).
    var settings: TokenizerTraining.Settings {
        var s = TokenizerTraining.Settings()
        (s.clips, s.validation, s.initFrom, s.evalFrames) = (clips, validation, initFrom, evalFrames)
        s.config = modelConfig
        s.options.steps = steps
        s.options.batch = batch
        s.options.learningRate = lr
        s.options.warmup = runOptions.minutes == nil ? min(Recipe.tokenizerTraining.warmup, steps / 10) : Recipe.tokenizerTraining.warmup
        s.options.edgeWeight = edgeWeight
        s.options.seed = runOptions.seed
        s.options.bfloat16Convolutions = bfloat16 ?? (CPUFlags.bfloat16Support != nil)
        return s
    }

    func run() throws {
        let group = try DataParallel.start(processes: nproc ?? 1, threads: runOptions.threads, device: runOptions.device.device, label: "train tokenizer")
        if let report = try TokenizerTraining.run(settings, folder: runOptions.out, resume: runOptions.resume, cadence: runOptions.cadence, group: group) {
            print(report)
        }
    }
}
