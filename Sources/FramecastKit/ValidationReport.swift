import FileOutput
import Foundation
import Media
import NN
import Prior
import VQVAE

/// `framecast report` as a library call: the tokenizer and prior measured on validation clips,
/// written as a self-contained HTML page (tables, plots, videos) and report.json.
package enum ValidationReport {
    package struct Settings {
        package var tokenizer = Shipped.modelFolder + "/tokenizer.safetensors"
        package var prior = Shipped.modelFolder + "/prior.safetensors"
        /// Validation clips: folder, manifest.json (its "validation" split) or video, with sidecars.
        package var clips = "Clips/manifest.json"
        /// The runs' training logs (default: beside the checkpoints).
        package var tokenizerLog: String?
        package var priorLog: String?
        /// Rollout windows, horizon, and frames predicted in each video.
        package var windows = 32, horizon = 16, videoFrames = 32
        package var sampling = Recipe.sampling
        /// Threads that score rollout windows.
        package var workers = 1
        /// Training code files for the inverse-dynamics classifier that scores action following (none: not scored).
        package var actionClassifierCodes: [String] = []
        package init() {}
    }

    /// Measures, renders and writes OUTPUT/index.html and OUTPUT/report.json; returns the page's path.
    package static func write(_ settings: Settings, to output: String) throws -> String {
        let (tokenizerPath, priorPath, clipsPath) = (settings.tokenizer, settings.prior, settings.clips)
        let (windows, horizon, videoFrames, seed) = (settings.windows, settings.horizon, settings.videoFrames, settings.sampling.seed)
        let tok = try VideoTokenizer(tokenizerPath)
        let loaded = try tok.loadPrior(priorPath)
        let set = try ClipSet.resolve(clipsPath, split: "validation")
        try makeOutputFolder(output)
        let scratch = output + "/.scratch-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        // Measurements: the validation clips are decoded once, for both models.
        let data = try RolloutEvaluation.load(set, tokenizer: tok)
        var frames = FrameBank(width: tok.config.frameWidth, height: tok.config.frameHeight)
        for clip in data { for frame in clip.frames { frames.append(frame) } }
        let tokenizerEval = try tok.model.evaluate(frames, limit: 100_000, keepCounts: true)
        let classifier = settings.actionClassifierCodes.isEmpty ? nil
            : try InverseDynamics.trained(onCodes: settings.actionClassifierCodes, tokenizer: tok, prior: loaded, seed: seed)
        let rollouts = try RolloutEvaluation.measure(data, clipsName: clipsPath, tokenizer: tok, prior: loaded,
                                                     contextFrames: loaded.model.config.contextFrames,
                                                     horizon: horizon, windows: windows, seed: seed,
                                                     sampling: settings.sampling, workers: settings.workers, actionClassifier: classifier)

        // Videos: the first clip's reconstruction, then a prediction video per clip.
        var videos: [ReportPage.Video] = []
        if let first = set.videos.first {
            let path = scratch + "/reconstruction.mp4"
            let reader = try tok.reader(first)
            try SideBySide.write(path, tokenizer: tok, truth: .video(reader, skip: 0), predictions: [data[0].codes],
                                 labels: ["RECONSTRUCTION"], scale: 3)
            videos.append(.init(title: "Tokenizer: \(first) and its reconstruction", mp4: try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        for (i, video) in set.videos.enumerated() {
            let c = loaded.model.config.contextFrames
            let start = max(0, min(data[i].codes.frames - c - videoFrames - 1, data[i].codes.frames / 3))
            let path = scratch + "/predict-\(i).mp4"
            let summary = try DemoVideo.render(clip: video, tokenizer: tok, prior: loaded, start: start, frames: videoFrames,
                                          options: settings.sampling,
                                          scale: 2, to: path)
            FileHandle.standardError.write(Data("report: \(summary)\n".utf8))
            videos.append(.init(title: "Prior: \(video) from frame \(start), \(c) context frames, sampled at T = 1",
                                mp4: try Data(contentsOf: URL(fileURLWithPath: path))))
        }

        let logs = (tokenizer: TrainingLog(path: settings.tokenizerLog ?? TrainingLog.defaultPath(for: tokenizerPath)),
                    prior: TrainingLog(path: settings.priorLog ?? TrainingLog.defaultPath(for: priorPath)))
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
        return output + "/index.html"
    }

    struct ReportJSON: Encodable {
        var tokenizer: TokenizerEvaluation
        var prior: RolloutEvaluation.Report
    }
}
