import ArgumentParser
import CodeFile
import Foundation
import Media
import Metrics
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
            greedy (temperature 0) and sampled (temperature 1). Per horizon h = 1..H it reports PSNR (per frame, \
            capped at 50 dB) and SSIM against the real frames, for the predictions, for copying the last real \
            frame, and for the tokenizer's reconstruction of the truth (the ceiling). ΔPSNR = true − shuffled \
            measures action control. Also teacher-forced bits/token against the unigram and copy-previous \
            baselines. Writes JSON to stdout (--json) or a table, and --plot a PNG.

            Example:
              framecast eval prior --tokenizer tok.safetensors --prior prior.safetensors --clips Clips/manifest.json --plot rollout.png
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

    @Option(help: "Seed for sampling and the action shuffle.")
    var seed: UInt64 = 0

    @Option(help: "Write a PNG plot of PSNR and SSIM against the horizon.")
    var plot: String?

    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard horizon >= 1, windows >= 2 else { throw ValidationError("--horizon must be ≥ 1 and --windows ≥ 2") }
        if let plot, !plot.lowercased().hasSuffix(".png") { throw ValidationError("--plot must end in .png") }
    }

    /// Real frames and codes of one validation clip.
    struct Clip {
        var frames: [[UInt8]]
        var codes: CodeClip
    }

    struct Curve: Codable {
        var psnr: [Double]
        var ssim: [Double]
    }

    struct Report: Codable {
        var windows: Int
        var contextFrames: Int
        var horizon: Int
        var greedy: Curve
        var greedyShuffled: Curve
        var sampled: Curve
        var sampledShuffled: Curve
        var copyLast: Curve
        var tokenizerCeiling: Curve
        var deltaPSNRGreedy: Double
        var deltaPSNRSampled: Double
        var teacherForced: PriorEvaluation?
        var framesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case windows, horizon, greedy, sampled
            case contextFrames = "context_frames", greedyShuffled = "greedy_shuffled", sampledShuffled = "sampled_shuffled"
            case copyLast = "copy_last", tokenizerCeiling = "tokenizer_ceiling", deltaPSNRGreedy = "delta_psnr_greedy_h1_8"
            case deltaPSNRSampled = "delta_psnr_sampled_h1_8", teacherForced = "teacher_forced", framesPerSecond = "rollout_frames_per_second"
        }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let loaded = try PriorCheckpoint.load(prior)
        let tok = try LoadedTokenizer(tokenizer)
        guard tok.hash == loaded.source.tokenizerHash else {
            throw CheckpointError(prior, "was trained on codes of another tokenizer than \(tokenizer)")
        }
        let c = contextFrames ?? loaded.model.config.contextFrames
        let set = try ClipSet.resolve(clips, split: "validation")
        var data: [Clip] = []
        for video in set.videos {
            let reader = try VideoReader(path: video, size: (tok.config.frameWidth, tok.config.frameHeight), fit: .crop)
            var frames: [[UInt8]] = []
            while let f = try reader.next() { frames.append(f.rgb) }
            data.append(Clip(frames: frames, codes: try tok.encode(video: video)))
        }
        // Windows of C + H frames with no episode start after their first frame.
        var all: [(clip: Int, start: Int)] = []
        for (i, clip) in data.enumerated() where clip.codes.frames >= c + horizon {
            for s in 0...(clip.codes.frames - c - horizon) where !clip.codes.episodeStart[(s + 1)..<(s + c + horizon)].contains(true) {
                all.append((i, s))
            }
        }
        guard all.count >= 2 else { throw MediaError(clips, "has no window of \(c + horizon) frames without an episode start") }
        let chosen = all.count <= windows ? all : (0..<windows).map { all[$0 * all.count / windows] }
        let sampler = PriorSampler(model: loaded.model, source: loaded.source, decoderThreads: threads ?? Torch.allCores)
        let n = Double(chosen.count)
        var sums = [String: (psnr: [Double], ssim: [Double])]()
        func add(_ key: String, _ h: Int, _ a: [UInt8], _ b: [UInt8]) {
            var entry = sums[key] ?? ([Double](repeating: 0, count: horizon), [Double](repeating: 0, count: horizon))
            entry.psnr[h] += ImageMetrics.psnr(a, b)
            entry.ssim[h] += ImageMetrics.ssim(a, b, width: tok.config.frameWidth, height: tok.config.frameHeight)
            sums[key] = entry
        }
        let progress = Progress("eval prior", total: chosen.count, unit: "windows")
        var rolloutFrames = 0
        var rolloutSeconds = 0.0
        for (k, window) in chosen.enumerated() {
            let clip = data[window.clip], s = window.start
            let context = try sampler.context(from: clip.codes, start: s, frames: c)
            let trueActions = clip.codes.actions[(s + c - 1)..<(s + c - 1 + horizon)].map { Int($0) }
            let other = chosen[(k + chosen.count / 2) % chosen.count]  // another window's actions
            let shuffled = data[other.clip].codes.actions[(other.start + c - 1)..<(other.start + c - 1 + horizon)].map { Int($0) }
            let truthCodes = Array(clip.codes.codes[((s + c) * clip.codes.codesPerFrame)..<((s + c + horizon) * clip.codes.codesPerFrame)])
            let ceiling = try tok.model.decode(codes: truthCodes, count: horizon)
            let frameBytes = tok.config.frameWidth * tok.config.frameHeight * 3
            for (key, actions, temperature) in [("greedy", trueActions, 0.0), ("greedy_shuffled", shuffled, 0.0),
                                                ("sampled", trueActions, 1.0), ("sampled_shuffled", shuffled, 1.0)] {
                let t0 = Date()
                let rollout = try sampler.rollout(context: context, actions: actions.map { max(0, $0) }, samples: 1,
                                                  options: SamplingOptions(temperature: temperature, seed: seed &+ UInt64(k)))
                rolloutSeconds += Date().timeIntervalSince(t0)
                rolloutFrames += horizon
                let pixels = try tok.model.decode(codes: rollout.codes, count: horizon)
                for h in 0..<horizon {
                    add(key, h, Array(pixels[(h * frameBytes)..<((h + 1) * frameBytes)]), clip.frames[s + c + h])
                }
            }
            for h in 0..<horizon {
                add("copy_last", h, clip.frames[s + c - 1], clip.frames[s + c + h])
                add("ceiling", h, Array(ceiling[(h * frameBytes)..<((h + 1) * frameBytes)]), clip.frames[s + c + h])
            }
            progress.update(k + 1)
        }
        progress.finish(chosen.count)
        func curve(_ key: String) -> Curve { Curve(psnr: sums[key]!.psnr.map { $0 / n }, ssim: sums[key]!.ssim.map { $0 / n }) }
        func delta(_ a: String, _ b: String) -> Double {
            let k = min(8, horizon)
            return (0..<k).map { curve(a).psnr[$0] - curve(b).psnr[$0] }.reduce(0, +) / Double(k)
        }
        var teacherForced: PriorEvaluation?
        if let baselines = loaded.baselines {
            teacherForced = try loaded.model.evaluate(try PriorDataset(clips: data.map(\.codes)), baselines: baselines, limit: 512)
        }
        let report = Report(windows: chosen.count, contextFrames: c, horizon: horizon, greedy: curve("greedy"),
                            greedyShuffled: curve("greedy_shuffled"), sampled: curve("sampled"), sampledShuffled: curve("sampled_shuffled"),
                            copyLast: curve("copy_last"), tokenizerCeiling: curve("ceiling"),
                            deltaPSNRGreedy: delta("greedy", "greedy_shuffled"), deltaPSNRSampled: delta("sampled", "sampled_shuffled"),
                            teacherForced: teacherForced, framesPerSecond: Double(rolloutFrames) / rolloutSeconds)
        if let plot { try writePlot(report, to: plot) }
        if json {
            try printJSON(report)
            return
        }
        print("rollout PSNR (dB, per frame capped at 50) over \(report.windows) windows, \(c) context frames:")
        let rows: [(String, Curve)] = [("prior greedy", report.greedy), ("  shuffled actions", report.greedyShuffled),
                                       ("prior T=1", report.sampled), ("  shuffled actions", report.sampledShuffled),
                                       ("copy last frame", report.copyLast), ("tokenizer ceiling", report.tokenizerCeiling)]
        let shown = [1, 2, 4, 8, 16].filter { $0 <= horizon }
        print("h".padding(toLength: 20, withPad: " ", startingAt: 0) + shown.map { String(format: "%7d", $0) }.joined())
        for (name, curve) in rows {
            print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + shown.map { String(format: "%7.2f", curve.psnr[$0 - 1]) }.joined())
        }
        print(String(format: "ΔPSNR true − shuffled actions, mean h=1..8: greedy %.2f dB, T=1 %.2f dB", report.deltaPSNRGreedy, report.deltaPSNRSampled))
        if let t = teacherForced {
            print(String(format: "teacher-forced bits/token: %.3f (shuffled actions %.3f, no actions %.3f; unigram %.3f, copy-previous %.3f)",
                         t.bitsPerToken, t.shuffledActionBitsPerToken, t.noActionBitsPerToken, t.unigramBitsPerToken, t.copyPreviousBitsPerToken))
        }
        print(String(format: "rollout speed: %.1f frames/s", report.framesPerSecond))
    }

    private func writePlot(_ r: Report, to path: String) throws {
        let named: [(String, Curve)] = [("PRIOR GREEDY", r.greedy), ("GREEDY SHUFFLED ACTIONS", r.greedyShuffled),
                                        ("PRIOR T=1", r.sampled), ("COPY LAST FRAME", r.copyLast), ("TOKENIZER CEILING", r.tokenizerCeiling)]
        func series(_ metric: KeyPath<Curve, [Double]>) -> [LinePlot.Series] {
            named.enumerated().map { i, entry in
                LinePlot.Series(name: entry.0, color: LinePlot.palette[i],
                                points: entry.1[keyPath: metric].enumerated().map { (Double($0.offset + 1), $0.element) })
            }
        }
        var canvas = Canvas(width: 960, height: 380, fill: (255, 255, 255))
        LinePlot(title: "ROLLOUT PSNR (DB)", xLabel: "HORIZON", series: series(\.psnr)).draw(on: &canvas, x: 0, y: 0, width: 480, height: 380)
        LinePlot(title: "ROLLOUT SSIM", xLabel: "HORIZON", series: series(\.ssim)).draw(on: &canvas, x: 480, y: 0, width: 480, height: 380)
        try PNGWriter.write(rgb: canvas.rgb, width: canvas.width, height: canvas.height, to: path)
    }
}
