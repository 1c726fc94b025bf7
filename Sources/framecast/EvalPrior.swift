import FramecastKit
import ArgumentParser
import CodeFile
import Foundation
import Media
import FrameMetrics
import NN
import Prior
import VQVAE

struct EvalPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Rollout quality and action control of a prior on validation clips.",
        discussion: """
            For evenly spaced windows of the clips (no episode start inside), gives the prior C real frames and \
            predicts H frames open-loop, with the true actions and with shuffled actions (another window's), \
            greedy (temperature 0) and sampled (--temperature, default 1, and --top-p). Per horizon h = 1..H it reports PSNR (per frame, \
            capped at 50 dB) and SSIM against the real frames, for the predictions, for copying the last real \
            frame, and for the tokenizer's reconstruction of the truth (the ceiling). ΔPSNR = true − shuffled \
            measures action control. Also teacher-forced bits/token against the unigram and copy-previous \
            baselines. With --action-classifier, action following: an inverse-dynamics classifier trained on those \
            code files names the action between consecutive frames of real validation footage (its ceiling) \
            and of the rollouts under the true actions. Writes JSON to stdout (--json) or a table, and --plot a PNG.

            Example:
              framecast eval prior --tokenizer tok.safetensors --prior prior.safetensors --clips Clips/manifest.json --plot rollout.png
              framecast eval prior --tokenizer tok.safetensors --prior prior.safetensors --clips footage/manifest.json \
                  --action-classifier codes/train
            """
    )

    @Option(help: "Tokenizer checkpoint.")
    var tokenizer: String

    @Option(help: "Prior checkpoint.")
    var prior: String

    @Option(help: "Validation clips: folder, manifest.json (its 'validation' split) or video; with action sidecars.")
    var clips: String

    @Option(help: "Prediction horizon H in frames.")
    var horizon = 16

    @Option(help: "Context frames C (default: the prior's).")
    var contextFrames: Int?

    @Option(help: "Windows to evaluate (evenly spaced over the clips).")
    var windows = 48

    @OptionGroup var guidance: GuidanceOptions

    @Option(help: "Temperature of the sampled rollouts (the greedy ones use 0).")
    var temperature = Recipe.sampling.temperature

    @Option(help: "Top-p (nucleus) of the sampled rollouts; 1 = off.")
    var topP = Recipe.sampling.topP

    @Flag(help: "Also roll out with nearest-mean picks (predict --nearest-mean, T = 1), true and shuffled actions.")
    var nearestMean = false

    @Option(help: "Which split of a manifest to evaluate: validation or train.")
    var split = "validation"

    @Option(help: "Seed for sampling and the action shuffle.")
    var seed: UInt64 = 0

    @Option(help: "Write a PNG plot of PSNR and SSIM against the horizon.")
    var plot: String?

    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Training code files (a folder or files; repeatable) to train an inverse-dynamics classifier on: then action following is scored, the share of consecutive frames whose action the classifier names, on real validation footage and on rollouts.", valueName: "codes"))
    var actionClassifier: [String] = []

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        guard horizon >= 1, windows >= 2 else { throw ValidationError("--horizon must be ≥ 1 and --windows ≥ 2") }
        try ManifestSplit.validate(split)
        guard temperature > 0, topP > 0, topP <= 1 else { throw ValidationError("need --temperature > 0 and 0 < --top-p ≤ 1") }
        if let plot, !plot.lowercased().hasSuffix(".png") { throw ValidationError("--plot must end in .png") }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let tok = try VideoTokenizer(tokenizer)
        let loaded = try tok.loadPrior(prior)
        let data = try RolloutEvaluation.load(try ClipSet.resolve(clips, split: split), tokenizer: tok)
        let classifier = actionClassifier.isEmpty ? nil : try InverseDynamics.trained(onCodes: actionClassifier, tokenizer: tok, prior: loaded, seed: seed)
        let report = try RolloutEvaluation.measure(data, clipsName: clips, tokenizer: tok, prior: loaded,
                                                   contextFrames: contextFrames ?? loaded.model.config.contextFrames,
                                                   horizon: horizon, windows: windows, seed: seed,
                                                   sampling: SamplingOptions(temperature: temperature, topP: topP, seed: seed, actionGuidance: guidance.actionGuidance),
                                                   nearestMean: nearestMean, workers: threads ?? Torch.allCores, actionClassifier: classifier)
        if let plot {
            let canvas = RolloutEvaluation.plot(report)
            try PNGWriter.write(rgb: canvas.rgb, width: canvas.width, height: canvas.height, to: plot)
        }
        if json {
            try printJSON(report)
        } else {
            print(RolloutEvaluation.table(report))
        }
    }
}
