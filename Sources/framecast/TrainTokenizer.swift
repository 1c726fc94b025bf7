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
            Frames are read at --size (center crop) into memory and sampled in random batches. Every \
            --checkpoint-every steps RUN_DIR/checkpoint.safetensors is replaced atomically (model, optimizer \
            state, options); --resume continues from it to the same result as an uninterrupted run. At the end \
            RUN_DIR/tokenizer.safetensors holds the model alone and RUN_DIR/report.json its validation figures; \
            RUN_DIR/log.jsonl has one line per logged step.

            --init starts from a trained tokenizer (its shape; the shape options are ignored). With \
            --decoder-only only its decoder trains: the encoder and codebook stay fixed, so every frame keeps \
            its codes, and the code files and priors made with that tokenizer work with the new one (it records \
            the same codes hash). On the default model it sharpened reconstructions (+0.48 dB) but not the \
            prior's predicted frames (README).

            --adversarial-weight W adds a patch discriminator (hinge loss) from step --adversarial-start on; \
            its gradient at the reconstruction is scaled to W times the reconstruction losses' there. On the \
            default recipe it did not pay: W = 0.1 left PSNR, SSIM and sharpness where they were (a step costs \
            ~40% more), W = 0.3 made them sharper but 1.2 dB and 0.03 SSIM further from the frames, W = 1 \
            wrecked them for 1000+ steps (README).

            On a CPU with AMX or AVX512-BF16 the training convolutions run in bfloat16 (1.3-1.8x a step, the \
            same quality per step); --no-bfloat16 keeps them float32. Evaluation, encoding and decoding are \
            always float32, so a model's codes do not depend on it.

            Examples:
              framecast train tokenizer --clips Clips/manifest.json --steps 2000 --out runs/tok
              framecast train tokenizer --clips .data/train --validation Clips/manifest.json --grid 16x16 --out runs/tok16
              framecast train tokenizer --out runs/tok --resume
              framecast train tokenizer --clips .data/train --validation Clips/manifest.json --adversarial-weight 0.1 --adversarial-start 2000 --out runs/gan
              framecast train tokenizer --clips .data/train --validation Clips/manifest.json --init Models/default/tokenizer.safetensors --decoder-only --minutes 20 --out runs/dec
            """
    )

    @OptionGroup var runOptions: TrainingRunOptions

    @Option(help: "Training clips: a folder of videos, a manifest.json (its 'train' split), or a video.")
    var clips: String?

    @Option(help: "Validation clips: folder, manifest (its 'validation' split) or video. Default: the --clips manifest's validation split.")
    var validation: String?

    @Option(help: "Optimizer steps.")
    var steps = 3000

    @Option(help: "Frames per batch.")
    var batch = 32

    @Option(help: "Frame size WIDTHxHEIGHT the tokenizer works at.")
    var size = FrameSize(width: 64, height: 64)

    @Option(help: "Code grid WIDTHxHEIGHT (frame size / 4 or / 8).")
    var grid = FrameSize(width: 8, height: 8)

    @Option(help: "Codebook KxD: number of codes and their dimension.")
    var codebook = FrameSize(width: 512, height: 16)

    @Option(help: "Channels at the highest resolution (doubled at lower ones, up to 4x).")
    var channels = 64

    @Option(help: "Channel limit at the lower-resolution levels.")
    var maxChannels = 128

    @Option(help: "Decoder residual blocks per resolution level (plus one at the grid level).")
    var blocks = 1

    @Option(help: "Encoder residual blocks per level (plus one at the grid level); fewer encode faster.")
    var encoderBlocks = 0

    @Option(help: "Peak learning rate.")
    var lr = 1e-3

    @Option(help: "Weight of the image-gradient (edge) L1 loss, for sharpness; 0 turns it off.")
    var edgeWeight = 0.0

    @Option(help: "Weight of the 1 − SSIM loss (structural similarity, the metric's window); 0 turns it off.")
    var ssimWeight = 0.0

    @Option(help: "Weight of a patch discriminator's adversarial loss, relative to the reconstruction gradient (VQGAN-style); 0 turns it off.")
    var adversarialWeight = 0.0

    @Option(help: "Step after which the discriminator trains and its loss applies.")
    var adversarialStart = 0

    @Option(help: "EMA decay for codebook updates; 0 trains the codebook with its loss term instead.")
    var emaDecay = 0.99

    @Option(help: "Validation frames per evaluation (evenly spaced).")
    var evalFrames = 512

    @Option(name: .customLong("init"), help: "Start from this tokenizer checkpoint's weights and shape.")
    var initFrom: String?

    @Flag(help: "Train only the decoder of the --init tokenizer; its encoder and codebook (so its codes) stay fixed.")
    var decoderOnly = false

    @Flag(inversion: .prefixedNo, help: "Compute the training convolutions in bfloat16 (weights, norms, losses stay float32; evaluation and codes stay float32). Default: on where the CPU has AMX or AVX512-BF16 (1.3-1.8x a step there), off elsewhere.")
    var bfloat16: Bool?

    func validate() throws {
        guard runOptions.resume || clips != nil else { throw ValidationError("--clips is required (unless --resume)") }
        guard steps > 0, batch > 0 else { throw ValidationError("--steps and --batch must be positive") }
        try size.validate("--size")
        try grid.validate("--grid")
        guard codebook.width >= 2, codebook.height >= 1 else { throw ValidationError("--codebook must be KxD with K >= 2, got \(codebook)") }
        if let problem = modelConfig.problems.first { throw ValidationError(problem) }
        guard evalFrames > 0 else { throw ValidationError("--eval-frames must be positive") }
        for (name, weight) in [("--edge-weight", edgeWeight), ("--ssim-weight", ssimWeight), ("--adversarial-weight", adversarialWeight)]
        where !(weight >= 0) {
            throw ValidationError("\(name) must not be negative, got \(weight)")
        }
        guard adversarialStart >= 0 else { throw ValidationError("--adversarial-start must not be negative") }
        guard adversarialWeight == 0 || adversarialStart == 0 || runOptions.minutes == nil else {
            throw ValidationError("--minutes sets the step count from the speed of the first steps, which run without the discriminator when --adversarial-start is above 0; give --steps instead")
        }
        guard !decoderOnly || initFrom != nil || runOptions.resume else { throw ValidationError("--decoder-only needs --init TOKENIZER (the tokenizer whose decoder to train)") }
        guard bfloat16 == nil || !runOptions.resume else { throw ValidationError("--bfloat16 / --no-bfloat16 is chosen when a run starts; --resume keeps the run's setting") }
        guard initFrom == nil || !runOptions.resume else { throw ValidationError("--init starts a new run; --resume continues one (its checkpoint already holds the weights)") }
    }

    var modelConfig: VQVAEConfig {
        var c = VQVAEConfig()
        c.frameWidth = size.width
        c.frameHeight = size.height
        c.gridWidth = grid.width
        c.gridHeight = grid.height
        c.codebookSize = codebook.width
        c.codeDim = codebook.height
        c.baseChannels = channels
        c.maxChannels = maxChannels
        c.blocksPerLevel = blocks
        c.encoderBlocksPerLevel = encoderBlocks
        c.emaDecay = emaDecay
        return c
    }

    func run() throws {
        Torch.setThreads(runOptions.threads ?? Torch.allCores)
        let run = try TrainingRun(folder: runOptions.out, resume: runOptions.resume)
        let checkpointPath = run.checkpoint
        let sources = try run.sources(["clips": clips.map { [$0] } ?? [], "validation": validation.map { [$0] } ?? []])
        guard let clipsArg = sources["clips"]?.first else { throw ValidationError("--clips is required") }
        // A manifest holds its own validation split.
        let validationArg = sources["validation"]?.first ?? (clipsArg.hasSuffix(".json") ? clipsArg : nil)

        let initial = try initFrom.map { try TokenizerCheckpoint.load($0) }
        let config = runOptions.resume ? try TokenizerCheckpoint.config(of: checkpointPath) : initial?.model.config ?? modelConfig
        let trainSet = try ClipSet.resolve(clipsArg, split: "train")
        let validationSet = try validationArg.map { try ClipSet.resolve($0, split: "validation") }
        if let validationSet {
            let overlap = Set(trainSet.videos.map { URL(fileURLWithPath: $0).standardized.path })
                .intersection(validationSet.videos.map { URL(fileURLWithPath: $0).standardized.path })
            guard overlap.isEmpty else { throw ValidationError("validation clips are also training clips: \(overlap.sorted().joined(separator: ", "))") }
        }

        let trainer: TokenizerTrainer
        let log: JSONLinesLog
        // Set when the codes are another tokenizer's (decoder-only training): saved with every checkpoint.
        var codesMetadata: [String: String] = [:]
        if runOptions.resume {
            let data = try loadFrames(trainSet, width: config.frameWidth, height: config.frameHeight, label: "training clips")
            let resumed = try TokenizerCheckpoint.resume(checkpointPath, data: data)
            trainer = resumed.trainer
            codesMetadata[TokenizerCheckpoint.codesHashKey] = resumed.metadata[TokenizerCheckpoint.codesHashKey]
            log = try run.openLog(at: trainer.step)
        } else {
            let data = try loadFrames(trainSet, width: config.frameWidth, height: config.frameHeight, label: "training clips")
            var options = TokenizerTrainingOptions()
            options.steps = steps
            options.batch = batch
            options.learningRate = lr
            options.warmup = runOptions.minutes == nil ? min(100, steps / 10) : 100
            options.edgeWeight = edgeWeight
            options.ssimWeight = ssimWeight
            options.adversarialWeight = adversarialWeight
            options.adversarialStart = adversarialStart
            options.seed = runOptions.seed
            options.decoderOnly = decoderOnly
            options.bfloat16Convolutions = bfloat16 ?? (CPUFlags.bfloat16Support != nil)
            Torch.manualSeed(runOptions.seed)
            let model = try initial?.model ?? VQVAE(config: config)
            if let initial, decoderOnly {
                codesMetadata[TokenizerCheckpoint.codesHashKey] = try TokenizerCheckpoint.codesHash(initial.model, metadata: initial.metadata)
            }
            trainer = try TokenizerTrainer(model: model, options: options, data: data)
            log = try run.openLog(at: 0)
        }
        let validationFrames = try validationSet.map {
            try loadFrames($0, width: config.frameWidth, height: config.frameHeight, label: "validation clips")
        }
        let model = trainer.model
        FileHandle.standardError.write(Data("tokenizer: \(model.parameterCount) parameters, grid \(config.gridWidth)x\(config.gridHeight), K=\(config.codebookSize), D=\(config.codeDim), \(Torch.threads) threads\n".utf8))

        if trainer.options.bfloat16Convolutions {
            let note = CPUFlags.bfloat16Support.map { "convolutions in bfloat16 (this CPU has \($0))" }
                ?? "warning: convolutions in bfloat16, but this CPU has neither AMX nor AVX512-BF16: expect them slower than float32"
            FileHandle.standardError.write(Data("tokenizer: \(note)\n".utf8))
        }
        try run.applyBudget(minutes: runOptions.minutes, probeSteps: 20, to: trainer)
        let total = trainer.options.steps
        let progress = Progress("train tokenizer", total: total, unit: "steps", from: trainer.step)
        var window: [TokenizerStepStats] = []
        let started = Date()
        while trainer.step < total {
            let s = try trainer.trainStep()
            window.append(s)
            let step = s.step
            if step % runOptions.logEvery == 0 || step == total {
                let n = Double(window.count)
                let mse = window.map(\.reconstructionMSE).reduce(0, +) / n
                let framesPerSecond = Double(window.count * trainer.options.batch) / window.map(\.seconds).reduce(0, +)
                log.write([
                    "step": step, "loss": round4(window.map(\.loss).reduce(0, +) / n), "mse": round4(mse),
                    "psnr": round4(s.psnr), "edge": round4(window.map(\.edge).reduce(0, +) / n),
                    "ssim": round4(window.map(\.ssim).reduce(0, +) / n),
                    "commitment": round4(window.map(\.commitment).reduce(0, +) / n),
                    "adversarial": round4(window.map(\.adversarial).reduce(0, +) / n),
                    "adversarial_scale": round4(window.map(\.adversarialScale).reduce(0, +) / n),
                    "discriminator": round4(window.map(\.discriminator).reduce(0, +) / n),
                    "batch_codes": s.batchCodes, "restarted": window.map(\.restarted).reduce(0, +),
                    "lr": s.learningRate, "frames_per_second": round4(framesPerSecond),
                    "elapsed": round4(Date().timeIntervalSince(started)),
                ])
                progress.update(step, extra: String(format: "loss %.4f, PSNR %.2f dB, %d codes/batch, %.0f frames/s",
                                                    window.map(\.loss).reduce(0, +) / n, s.psnr, s.batchCodes, framesPerSecond))
                window.removeAll()
            }
            if let validationFrames, step % runOptions.evalEvery == 0 || step == total {
                let e = try model.evaluate(validationFrames, limit: evalFrames)
                log.write(["step": step, "val_psnr": round4(e.psnr), "val_ssim": round4(e.ssim), "val_sharpness": round4(e.sharpness),
                           "val_usage": round4(e.usage), "val_perplexity": round4(e.perplexity)])
                FileHandle.standardError.write(Data(String(format: "\nstep %d validation: PSNR %.2f dB, SSIM %.3f, sharpness %.3f, %d/%d codes, perplexity %.1f\n",
                                                           step, e.psnr, e.ssim, e.sharpness, e.codesUsed, e.codebookSize, e.perplexity).utf8))
            }
            if step % runOptions.checkpointEvery == 0 || step == total {
                try TokenizerCheckpoint.save(model, trainer: trainer, metadata: codesMetadata, to: checkpointPath)
            }
        }
        progress.finish(trainer.step)
        let hash = try TokenizerCheckpoint.contentHash(model)
        try TokenizerCheckpoint.save(model, metadata: codesMetadata.merging(["steps": String(trainer.step)]) { $1 },
                                     to: runOptions.out + "/tokenizer.safetensors")
        var report: [String: Any] = ["tokenizer": runOptions.out + "/tokenizer.safetensors", "tokenizer_sha256": hash,
                                     "codes_hash": codesMetadata[TokenizerCheckpoint.codesHashKey] ?? hash,
                                     "steps": trainer.step, "parameters": model.parameterCount,
                                     "train_frames": trainer.trainingFrames, "seconds": round4(Date().timeIntervalSince(started))]
        if let validationFrames {
            let e = try model.evaluate(validationFrames, limit: validationFrames.count)
            let data = try JSONEncoder().encode(e)
            report["validation"] = try JSONSerialization.jsonObject(with: data)
        }
        let reportData = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
        try AtomicFile.write(reportData, to: runOptions.out + "/report.json")
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}
