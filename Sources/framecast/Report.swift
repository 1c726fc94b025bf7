import FramecastKit
import ArgumentParser
import Foundation
import Media
import NN
import Prior
import VQVAE

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained HTML report of a tokenizer and prior: tables, plots and videos.",
        discussion: """
            Measures the tokenizer (PSNR, SSIM, codebook usage) and the prior (teacher-forced bits/token with \
            its baselines; open-loop rollout PSNR/SSIM per horizon with true and shuffled actions, copy-last-frame \
            and the tokenizer ceiling) on the validation clips, plots them with the training curves from the runs' \
            JSON-lines logs, renders a reconstruction video and one prediction video per validation clip, and writes \
            OUT/index.html (images and H.264 videos embedded, no external files) and OUT/report.json.

            Examples:
              framecast report -o report
              framecast report --tokenizer runs/tok/tokenizer.safetensors --prior runs/prior/prior.safetensors --clips Clips/manifest.json -o report
            """
    )

    @Option(help: "Tokenizer checkpoint (default: the shipped model's).")
    var tokenizer = Shipped.modelFolder + "/tokenizer.safetensors"

    @Option(help: "Prior checkpoint (default: the shipped model's).")
    var prior = Shipped.modelFolder + "/prior.safetensors"

    @Option(help: "Validation clips: folder, manifest.json (its 'validation' split) or video; with action sidecars.")
    var clips = "Clips/manifest.json"

    @Option(help: "The tokenizer's training log (default: log.jsonl beside the checkpoint, or NAME.log.jsonl).")
    var tokenizerLog: String?

    @Option(help: "The prior's training log (default: log.jsonl beside the checkpoint, or NAME.log.jsonl).")
    var priorLog: String?

    @Option(help: "Rollout windows to evaluate (evenly spaced over the clips).")
    var windows = 32

    @Option(help: "Prediction horizon in frames.")
    var horizon = 16

    @Option(help: "Frames predicted in each video.")
    var videoFrames = 32

    @OptionGroup var guidance: GuidanceOptions

    @Option(help: "Seed for sampling.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Report folder to write (index.html, report.json).")
    var output: String

    @Option(help: ArgumentHelp("Training code files (a folder or files; repeatable) to train an inverse-dynamics classifier on: then action following is scored, the share of consecutive frames whose action the classifier names, on real validation footage and on rollouts.", valueName: "codes"))
    var actionClassifier: [String] = []

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        guard windows >= 2, horizon >= 1, videoFrames >= 1 else { throw ValidationError("need --windows ≥ 2, --horizon ≥ 1, --video-frames ≥ 1") }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        var settings = ValidationReport.Settings()
        (settings.tokenizer, settings.prior, settings.clips) = (Shipped.locate(tokenizer), Shipped.locate(prior), Shipped.locate(clips))
        (settings.tokenizerLog, settings.priorLog) = (tokenizerLog, priorLog)
        (settings.windows, settings.horizon, settings.videoFrames) = (windows, horizon, videoFrames)
        settings.sampling = SamplingOptions(temperature: 1, seed: seed, actionGuidance: guidance.actionGuidance)
        settings.workers = threads ?? Torch.allCores
        settings.actionClassifierCodes = actionClassifier
        print(try ValidationReport.write(settings, to: output))
    }
}
