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

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard windows >= 2, horizon >= 1, videoFrames >= 1 else { throw ValidationError("need --windows ≥ 2, --horizon ≥ 1, --video-frames ≥ 1") }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let (tokenizerPath, priorPath, clipsPath) = (Shipped.locate(tokenizer), Shipped.locate(prior), Shipped.locate(clips))
        let tok = try LoadedTokenizer(tokenizerPath)
        let loaded = try tok.loadPrior(priorPath)
        let set = try ClipSet.resolve(clipsPath, split: "validation")
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let scratch = output + "/.scratch-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        // Measurements.
        let frames = try loadFrames(set, width: tok.config.frameWidth, height: tok.config.frameHeight, label: "validation clips")
        let tokenizerEval = try tok.model.evaluate(frames, limit: 100_000, keepCounts: true)
        let data = try RolloutEvaluation.load(set, tokenizer: tok)
        let rollouts = try RolloutEvaluation.measure(data, clipsName: clipsPath, tokenizer: tok, prior: loaded,
                                                     contextFrames: loaded.model.config.contextFrames,
                                                     horizon: horizon, windows: windows, seed: seed,
                                                     actionGuidance: guidance.actionGuidance, guidanceBaseline: guidance.guidanceBaseline,
                                                     workers: threads ?? Torch.allCores)

        // Videos: the first clip's reconstruction, then a prediction video per clip.
        var videos: [ReportPage.Video] = []
        if let first = set.videos.first {
            let path = scratch + "/reconstruction.mp4"
            let reader = try VideoReader(path: first, size: (tok.config.frameWidth, tok.config.frameHeight), fit: .crop)
            try SideBySide.write(path, tokenizer: tok, truth: .video(reader, skip: 0), predictions: [data[0].codes],
                                 labels: ["RECONSTRUCTION"], scale: 3)
            videos.append(.init(title: "Tokenizer: \(first) and its reconstruction", mp4: try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        for (i, video) in set.videos.enumerated() {
            let c = loaded.model.config.contextFrames
            let start = max(0, min(data[i].codes.frames - c - videoFrames - 1, data[i].codes.frames / 3))
            let path = scratch + "/predict-\(i).mp4"
            let summary = try Demo.render(clip: video, tokenizer: tok, prior: loaded, start: start, frames: videoFrames,
                                          options: SamplingOptions(temperature: 1, seed: seed, actionGuidance: guidance.actionGuidance,
                                                                   guidanceBaseline: guidance.guidanceBaseline),
                                          scale: 2, to: path)
            FileHandle.standardError.write(Data("report: \(summary)\n".utf8))
            videos.append(.init(title: "Prior: \(video) from frame \(start), \(c) context frames, sampled at T = 1",
                                mp4: try Data(contentsOf: URL(fileURLWithPath: path))))
        }

        let logs = (tokenizer: TrainingLog(path: tokenizerLog ?? TrainingLog.defaultPath(for: tokenizerPath)),
                    prior: TrainingLog(path: priorLog ?? TrainingLog.defaultPath(for: priorPath)))
        let page = ReportPage(tokenizerPath: tokenizerPath, priorPath: priorPath, clips: set.videos,
                              tokenizerConfig: tok.config, priorConfig: loaded.model.config,
                              tokenizerParameters: tok.model.parameterCount, priorParameters: loaded.model.parameterCount,
                              tokenizer: tokenizerEval, rollouts: rollouts, tokenizerLog: logs.tokenizer, priorLog: logs.prior,
                              videos: videos)
        try AtomicFile.write(Data(try page.html().utf8), to: output + "/index.html")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var tokenizerSummary = tokenizerEval
        tokenizerSummary.codeCounts = nil
        try AtomicFile.write(try encoder.encode(ReportJSON(tokenizer: tokenizerSummary, prior: rollouts)), to: output + "/report.json")
        FileHandle.standardError.write(Data((RolloutEvaluation.table(rollouts) + "\n").utf8))
        print(output + "/index.html")
    }

    struct ReportJSON: Encodable {
        var tokenizer: TokenizerEvaluation
        var prior: RolloutEvaluation.Report
    }
}
