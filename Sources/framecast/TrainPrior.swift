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
            --context frames, rotary frame positions) or, with --frame-positions learned, of --context frames, \
            that never cross an episode start, teacher-forced, with cross-entropy on code tokens. Validation \
            reports bits/token with the true actions, shuffled actions and no actions, against two baselines: \
            unigram code frequencies and the smoothed "same token as the previous frame". By default 10% of \
            the input codes (never the targets) are replaced by random codes (--context-noise), so the model \
            learns to continue imperfect pasts like its own rollouts. RUN_DIR gets checkpoint.safetensors \
            (resumable), prior.safetensors, log.jsonl and report.json.

            Examples:
              framecast encode .data/train --tokenizer runs/tok8/tokenizer.safetensors -o codes/train
              framecast train prior --codes codes/train --validation codes/val --minutes 60 --out runs/prior
              framecast train prior --codes codes/train --validation codes/val --frame-positions learned --out runs/learned
              framecast train prior --out runs/prior --resume
            """
    )

    @OptionGroup var runOptions: TrainingRunOptions

    @Option(help: "Training code files: a folder of .codes.safetensors files or files.")
    var codes: [String] = []

    @Option(help: "Validation code files (folder or files), kept out of training.")
    var validation: [String] = []

    @Option(help: "Optimizer steps.")
    var steps = 5000

    @Option(help: "Windows per batch (default: 128 frames' worth, 8 windows of 16 frames with rotary positions, 16 of 8 with learned ones).")
    var batch: Int?

    @Option(help: "Frames the model attends to (its context window); with --frame-positions learned, training windows have this many.")
    var context = 8

    @Option(help: "How tokens know their frame: rotary (RoPE of the frame index, banded attention; a sliding window keeps its cache, so sampling is faster) or learned (an embedding per window position; a sliding window is fed again each frame; the shipped prior's before 2026-12-05).")
    var framePositions = FramePositions.rotary

    @Option(help: "Frames per training window with --frame-positions rotary (at least --context; default twice --context): attention stays banded to --context frames.")
    var trainingFrames: Int?

    @Option(help: "Transformer layers.")
    var layers = 4

    @Option(help: "Model width.")
    var width = 256

    @Option(help: "Attention heads.")
    var heads = 4

    @Option(help: "Dropout.")
    var dropout = 0.1

    @Flag(inversion: .prefixedNo, help: "Scale and shift every block's LayerNorm outputs per action (adaptive LayerNorm), besides the action tokens.")
    var actionModulation = true

    @Option(help: "Fraction of actions replaced by the learned no-action id in training.")
    var actionDropout = 0.1

    @Option(help: "Loss weight of the codes of frames whose action differs from the previous frame's (1 = plain cross-entropy).")
    var actionChangeWeight = 1.0

    @Option(help: "Probability of replacing each input code (never a target) by a random code in training, so the model learns to predict from imperfect pasts like its own rollouts (0 = off).")
    var contextNoise = 0.1

    @Option(help: "Final probability (rising linearly from 0 over the run) of replacing each input code after a window's first frame by a code the model itself draws for that position (one extra forward pass a step; scheduled sampling). 0 = off.")
    var contextSamples = 0.0

    @Option(help: "Peak learning rate.")
    var lr = 5e-4

    @Option(help: "Validation windows per evaluation.")
    var evalWindows = 256

    func validate() throws {
        guard runOptions.resume || !codes.isEmpty else { throw ValidationError("--codes is required (unless --resume)") }
        guard steps > 0, (batch ?? 1) > 0, context >= 2 else { throw ValidationError("--steps and --batch must be positive, --context at least 2") }
        guard layers > 0, width > 0, heads > 0, width % heads == 0 else { throw ValidationError("--width must be a positive multiple of --heads") }
        guard actionChangeWeight > 0, actionChangeWeight <= 100 else { throw ValidationError("--action-change-weight must be in (0, 100]") }
        guard contextNoise >= 0, contextNoise < 1 else { throw ValidationError("--context-noise must be in [0, 1)") }
        guard contextSamples >= 0, contextSamples <= 1 else { throw ValidationError("--context-samples must be in [0, 1]") }
        guard evalWindows > 0 else { throw ValidationError("--eval-windows must be positive") }
        if let trainingFrames {
            guard framePositions == .rotary else { throw ValidationError("--training-frames needs --frame-positions rotary (learned positions train on --context frames)") }
            guard trainingFrames >= context else { throw ValidationError("--training-frames \(trainingFrames) must be at least --context \(context)") }
        }
        if framePositions == .rotary && (width / heads) % 2 != 0 {
            throw ValidationError("--frame-positions rotary needs an even head width (--width / --heads)")
        }
    }

    func run() throws {
        Torch.setThreads(runOptions.threads ?? Torch.allCores)
        let run = try TrainingRun(folder: runOptions.out, resume: runOptions.resume)
        let checkpointPath = run.checkpoint
        let sources = try run.sources(["codes": codes, "validation": validation])
        let codesArg = sources["codes"] ?? [], validationArg = sources["validation"] ?? []
        guard !codesArg.isEmpty else { throw ValidationError("--codes is required") }
        let data = try PriorDataset(paths: codesArg)
        let validationData = validationArg.isEmpty ? nil : try PriorDataset(paths: validationArg)
        try validationData?.check(against: data.source)

        let trainer: PriorTrainer
        let log: JSONLinesLog
        if runOptions.resume {
            trainer = try PriorCheckpoint.resume(checkpointPath, data: data)
            log = try run.openLog(at: trainer.step)
        } else {
            var config = data.defaultConfig()
            config.layers = layers
            config.width = width
            config.heads = heads
            config.contextFrames = context
            config.framePositions = framePositions
            config.trainingFrames = framePositions == .rotary ? trainingFrames ?? 2 * context : context
            config.dropout = dropout
            config.actionModulation = actionModulation
            var options = PriorTrainingOptions()
            options.steps = steps
            options.batch = batch ?? PriorTrainingOptions.batch(holding128FramesOf: config.trainingWindow)
            options.learningRate = lr
            options.warmup = runOptions.minutes == nil ? min(100, steps / 10) : 100
            options.actionDropout = actionDropout
            options.actionChangeWeight = actionChangeWeight
            options.contextNoise = contextNoise
            options.contextSamples = contextSamples
            options.seed = runOptions.seed
            trainer = try PriorTrainer(config: config, options: options, data: data)
            log = try run.openLog(at: 0)
        }
        let model = trainer.model
        FileHandle.standardError.write(Data("prior: \(model.parameterCount) parameters, \(model.config.layers) layers, width \(model.config.width), context \(model.config.contextFrames) frames, \(trainer.windows.count) training windows from \(data.clips.count) clips, \(Torch.threads) threads\n".utf8))

        try run.applyBudget(minutes: runOptions.minutes, probeSteps: 10, to: trainer)
        let total = trainer.options.steps
        let progress = Progress("train prior", total: total, unit: "steps", from: trainer.step)
        var window: [PriorStepStats] = []
        let started = Date()
        while trainer.step < total {
            let s = try trainer.trainStep()
            window.append(s)
            if s.step % runOptions.logEvery == 0 || s.step == total {
                let n = Double(window.count)
                let bits = window.map(\.bitsPerToken).reduce(0, +) / n
                let tokensPerSecond = Double(window.map(\.tokens).reduce(0, +)) / window.map(\.seconds).reduce(0, +)
                log.write(["step": s.step, "loss": round4(window.map(\.loss).reduce(0, +) / n), "bits_per_token": round4(bits),
                           "grad_norm": round4(window.map(\.gradientNorm).reduce(0, +) / n), "lr": s.learningRate,
                           "tokens_per_second": round4(tokensPerSecond), "elapsed": round4(Date().timeIntervalSince(started))])
                progress.update(s.step, extra: String(format: "%.3f bits/token, %.0f tokens/s", bits, tokensPerSecond))
                window.removeAll()
            }
            if let validationData, s.step % runOptions.evalEvery == 0 || s.step == total {
                let e = try trainer.evaluate(validationData, limit: evalWindows)
                log.write(["step": s.step, "val_bits_per_token": round4(e.bitsPerToken),
                           "val_shuffled_bits_per_token": round4(e.shuffledActionBitsPerToken),
                           "val_no_action_bits_per_token": round4(e.noActionBitsPerToken)])
                FileHandle.standardError.write(Data(String(format: "\nstep %d validation: %.3f bits/token (shuffled actions %.3f, no actions %.3f; unigram %.3f, copy-previous %.3f)\n",
                                                           s.step, e.bitsPerToken, e.shuffledActionBitsPerToken, e.noActionBitsPerToken,
                                                           e.unigramBitsPerToken, e.copyPreviousBitsPerToken).utf8))
            }
            if s.step % runOptions.checkpointEvery == 0 || s.step == total {
                try PriorCheckpoint.save(model, source: data.source, trainer: trainer, to: checkpointPath)
            }
        }
        progress.finish(trainer.step)
        try PriorCheckpoint.save(model, source: data.source, trainer: nil, metadata: ["steps": String(trainer.step)],
                                 baselines: trainer.baselines, to: runOptions.out + "/prior.safetensors")
        var report: [String: Any] = ["prior": runOptions.out + "/prior.safetensors", "steps": trainer.step, "parameters": model.parameterCount,
                                     "training_windows": trainer.windows.count, "seconds": round4(Date().timeIntervalSince(started))]
        if let validationData {
            // Every validation window, not --eval-windows: minutes on a 16x16 grid, so say so.
            FileHandle.standardError.write(Data("train prior: final validation on every window of the validation clips (report.json)...\n".utf8))
            let e = try trainer.evaluate(validationData, limit: 100_000)
            report["validation"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(e))
        }
        try AtomicFile.write(try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted]), to: runOptions.out + "/report.json")
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}
