import CodeFile
import Foundation
import Media
import FrameMetrics
import NN
import Prior
import VQVAE

/// Open-loop rollouts of a prior on validation clips, scored per horizon against the real frames
/// (shared by `eval prior` and `report`).
package enum RolloutEvaluation {
    /// PSNR and SSIM per horizon h = 1...H (index h − 1).
    package struct Curve: Codable {
        package var psnr: [Double]
        package var ssim: [Double]
    }

    /// Everything `eval prior` measures.
    package struct Report: Codable {
        package var windows: Int
        package var contextFrames: Int
        package var horizon: Int
        package var greedy: Curve
        package var greedyShuffled: Curve
        package var sampled: Curve
        package var sampledShuffled: Curve
        /// Nearest-mean picks (`SamplingOptions.nearestMean`, T = 1), true and shuffled actions.
        package var nearestMean: Curve?
        package var nearestMeanShuffled: Curve?
        package var copyLast: Curve
        /// The last context frame's codes, decoded, held for every h: copy-last through the
        /// tokenizer (what a prior that only repeats its input reaches; the gap to `copyLast` is
        /// the tokenizer's loss, the gap to the prior's rows is the prior's).
        package var copyLastCodes: Curve
        package var tokenizerCeiling: Curve
        package var deltaPSNRGreedy: Double
        package var deltaPSNRSampled: Double
        package var deltaPSNRNearestMean: Double?
        package var teacherForced: PriorEvaluation?
        /// Action following, when an inverse-dynamics classifier was given.
        package var actionAccuracy: ActionAccuracy?
        package var framesPerSecond: Double
        /// The classifier-free action guidance w of every rollout (1 = none).
        package var actionGuidance: Double
        /// Temperature and top-p of the sampled rows (the greedy rows use temperature 0).
        package var temperature: Double
        package var topP: Double

        package enum CodingKeys: String, CodingKey {
            case windows, horizon, greedy, sampled
            case contextFrames = "context_frames", greedyShuffled = "greedy_shuffled", sampledShuffled = "sampled_shuffled"
            case copyLast = "copy_last", copyLastCodes = "copy_last_codes", tokenizerCeiling = "tokenizer_ceiling", deltaPSNRGreedy = "delta_psnr_greedy_h1_8"
            case deltaPSNRSampled = "delta_psnr_sampled_h1_8", teacherForced = "teacher_forced", framesPerSecond = "rollout_frames_per_second"
            case actionGuidance = "action_guidance", nearestMean = "nearest_mean", nearestMeanShuffled = "nearest_mean_shuffled"
            case deltaPSNRNearestMean = "delta_psnr_nearest_mean_h1_8", temperature, topP = "top_p"
            case actionAccuracy = "action_accuracy"
        }
    }

    /// How often an inverse-dynamics classifier names the action between consecutive frames:
    /// of real validation footage (its ceiling) and of rollouts under the true actions.
    package struct ActionAccuracy: Codable {
        /// Real validation pairs, and the share of their most common action (chance for a guesser).
        package var real: Double
        package var majority: Double
        package var greedy: Double
        package var sampled: Double
        /// Pairs the classifier was trained on, and scored: real validation pairs, rollout pairs per row.
        package var trainingPairs: Int
        package var realPairs: Int
        package var rolloutPairs: Int

        package enum CodingKeys: String, CodingKey {
            case real, majority, greedy, sampled
            case trainingPairs = "training_pairs", realPairs = "real_pairs", rolloutPairs = "rollout_pairs"
        }

        /// The rollouts' accuracy as a share of the real footage's.
        package var sampledShareOfReal: Double { real > 0 ? sampled / real : 0 }
    }

    /// Real frames and codes of one validation clip.
    package struct Clip {
        package var frames: [[UInt8]]
        package var codes: CodeClip
    }

    /// Decodes every video of `set` once, at the tokenizer's frame size, keeping its frames and codes.
    package static func load(_ set: ClipSet, tokenizer tok: VideoTokenizer) throws -> [Clip] {
        let frameBytes = tok.config.frameWidth * tok.config.frameHeight * 3
        return try set.videos.map { video in
            var frames: [[UInt8]] = []
            let codes = try tok.encode(video: video) { batch in
                for start in stride(from: 0, to: batch.count, by: frameBytes) { frames.append(Array(batch[start..<(start + frameBytes)])) }
            }
            return Clip(frames: frames, codes: codes)
        }
    }

    /// PSNR and SSIM per horizon of every row of one window, and the time its rollouts took.
    private struct WindowScores {
        package var psnr: [String: [Double]] = [:]
        package var ssim: [String: [Double]] = [:]
        package var rolloutFrames = 0
        package var rolloutSeconds = 0.0
        /// Consecutive rollout frames and their actions, per row (greedy, sampled), for the classifier.
        package var pairs: [String: ActionPairs] = [:]
    }

    /// For evenly spaced windows of C + H frames (no episode start after their first frame), gives the
    /// prior C real frames and predicts H frames with the true and with another window's actions,
    /// greedy and sampled (at `temperature` and `topP`), and scores them; also copy-last-frame,
    /// copy-last-codes and the tokenizer ceiling. Windows are scored on `workers` threads (one libtorch thread each) and
    /// summed in window order, so the figures do not depend on the worker count.
    package static func measure(_ data: [Clip], clipsName: String, tokenizer tok: VideoTokenizer, prior loaded: PriorCheckpoint.Loaded,
                        contextFrames c: Int, horizon: Int, windows: Int, seed: UInt64,
                        sampling: SamplingOptions = Recipe.sampling, nearestMean: Bool = false, workers: Int = 1,
                        actionClassifier: (model: InverseDynamics, trainingPairs: Int)? = nil) throws -> Report {
        let (actionGuidance, temperature, topP) = (sampling.actionGuidance, sampling.temperature, sampling.topP)
        // Each clip's actions by name, into the prior's ids.
        let data = try data.map { clip in Clip(frames: clip.frames, codes: try loaded.source.mapActions(of: clip.codes, file: clip.codes.source)) }
        let all = windowStarts(data.map(\.codes), span: c + horizon)
        guard all.count >= 2 else { throw MediaError(clipsName, "has no window of \(c + horizon) frames without an episode start") }
        let chosen = evenlySpaced(all, count: windows)
        let codeVectors = try tok.model.codeVectors()
        loaded.model.training = false
        let (width, height) = (tok.config.frameWidth, tok.config.frameHeight)
        let frameBytes = width * height * 3

        /// Rolls out and scores window `k`.
        func score(_ k: Int, _ sampler: PriorSampler) throws -> WindowScores {
            var scores = WindowScores()
            func add(_ key: String, _ h: Int, _ a: [UInt8], _ b: [UInt8]) {
                scores.psnr[key, default: [Double](repeating: 0, count: horizon)][h] = ImageMetrics.psnr(a, b)
                scores.ssim[key, default: [Double](repeating: 0, count: horizon)][h] = ImageMetrics.ssim(a, b, width: width, height: height)
            }
            let window = chosen[k]
            let clip = data[window.clip], s = window.start
            let context = try sampler.context(from: clip.codes, start: s, frames: c)
            let trueActions = clip.codes.actions[(s + c - 1)..<(s + c - 1 + horizon)].map { Int($0) }
            let other = chosen[shuffledPartner(of: k, count: chosen.count)]  // another window's actions
            let shuffled = data[other.clip].codes.actions[(other.start + c - 1)..<(other.start + c - 1 + horizon)].map { Int($0) }
            let perFrame = clip.codes.codesPerFrame
            let truthCodes = Array(clip.codes.codes[((s + c) * perFrame)..<((s + c + horizon) * perFrame)])
            let ceiling = try tok.model.decode(codes: truthCodes, count: horizon)
            let lastCodes = try tok.model.decode(codes: Array(clip.codes.codes[((s + c - 1) * perFrame)..<((s + c) * perFrame)]), count: 1)
            var modes = [("greedy", trueActions, 0.0, false), ("greedy_shuffled", shuffled, 0.0, false),
                         ("sampled", trueActions, temperature, false), ("sampled_shuffled", shuffled, temperature, false)]
            if nearestMean { modes += [("mean", trueActions, 1.0, true), ("mean_shuffled", shuffled, 1.0, true)] }
            for (key, actions, t, mean) in modes {
                let t0 = Date()
                let options = SamplingOptions(temperature: t, topP: t > 0 && !mean ? topP : 1, seed: seed &+ UInt64(k),
                                              actionGuidance: actionGuidance, nearestMean: mean)
                let rollout = try sampler.rollout(context: context, actions: actions.map { max(0, $0) }, samples: 1, options: options)
                scores.rolloutSeconds += Date().timeIntervalSince(t0)
                scores.rolloutFrames += horizon
                let pixels = try tok.model.decode(codes: rollout.codes, count: horizon)
                if actionClassifier != nil, key == "greedy" || key == "sampled" {
                    var pairs = ActionPairs(tokensPerFrame: perFrame)
                    for h in 0..<horizon {
                        let before = h == 0 ? clip.codes.frame(s + c - 1) : rollout.codes[((h - 1) * perFrame)..<(h * perFrame)]
                        pairs.append(before: before, after: rollout.codes[(h * perFrame)..<((h + 1) * perFrame)], action: max(0, actions[h]))
                    }
                    scores.pairs[key] = pairs
                }
                for h in 0..<horizon {
                    add(key, h, Array(pixels[(h * frameBytes)..<((h + 1) * frameBytes)]), clip.frames[s + c + h])
                }
            }
            for h in 0..<horizon {
                add("copy_last", h, clip.frames[s + c - 1], clip.frames[s + c + h])
                add("copy_last_codes", h, lastCodes, clip.frames[s + c + h])
                add("ceiling", h, Array(ceiling[(h * frameBytes)..<((h + 1) * frameBytes)]), clip.frames[s + c + h])
            }
            return scores
        }

        let progress = ProgressReporter("eval prior", total: chosen.count, unit: "windows")
        // One sampler for every window and worker: the decoder's weights are packed once.
        let sampler = PriorSampler(model: loaded.model, source: loaded.source, codeVectors: codeVectors)
        var done = 0
        let scored = try WorkerPool.map(chosen.count, workers: workers, finished: { _, _ in done += 1; progress.update(done) }) { k in
            try score(k, sampler)
        }
        progress.finish(chosen.count)
        var sums = [String: (psnr: [Double], ssim: [Double])]()
        for window in scored {
            for (key, psnr) in window.psnr {
                var entry = sums[key] ?? ([Double](repeating: 0, count: horizon), [Double](repeating: 0, count: horizon))
                for h in 0..<horizon {
                    entry.psnr[h] += psnr[h]
                    entry.ssim[h] += window.ssim[key]![h]
                }
                sums[key] = entry
            }
        }
        let rolloutFrames = scored.map(\.rolloutFrames).reduce(0, +)
        let rolloutSeconds = scored.map(\.rolloutSeconds).reduce(0, +)
        let n = Double(chosen.count)
        func curve(_ key: String) -> Curve { Curve(psnr: sums[key]!.psnr.map { $0 / n }, ssim: sums[key]!.ssim.map { $0 / n }) }
        func delta(_ a: String, _ b: String) -> Double { deltaPSNR(curve(a).psnr, curve(b).psnr) }
        var teacherForced: PriorEvaluation?
        if let baselines = loaded.baselines {
            teacherForced = try loaded.model.evaluate(try PriorDataset(clips: data.map(\.codes)), baselines: baselines, limit: 512)
        }
        var actionAccuracy: ActionAccuracy?
        if let (classifier, trainingPairs) = actionClassifier {
            let real = ActionPairs.of(data.map(\.codes))
            func joined(_ key: String) -> ActionPairs {
                var all = ActionPairs(tokensPerFrame: real.tokensPerFrame)
                for window in scored { if let p = window.pairs[key] { all.append(contentsOf: p) } }
                return all
            }
            let (greedy, sampled) = (joined("greedy"), joined("sampled"))
            actionAccuracy = ActionAccuracy(real: try classifier.accuracy(real), majority: real.majorityShare,
                                            greedy: try classifier.accuracy(greedy), sampled: try classifier.accuracy(sampled),
                                            trainingPairs: trainingPairs, realPairs: real.count, rolloutPairs: sampled.count)
        }
        return Report(windows: chosen.count, contextFrames: c, horizon: horizon, greedy: curve("greedy"),
                      greedyShuffled: curve("greedy_shuffled"), sampled: curve("sampled"), sampledShuffled: curve("sampled_shuffled"),
                      nearestMean: nearestMean ? curve("mean") : nil, nearestMeanShuffled: nearestMean ? curve("mean_shuffled") : nil,
                      copyLast: curve("copy_last"), copyLastCodes: curve("copy_last_codes"), tokenizerCeiling: curve("ceiling"),
                      deltaPSNRGreedy: delta("greedy", "greedy_shuffled"), deltaPSNRSampled: delta("sampled", "sampled_shuffled"),
                      deltaPSNRNearestMean: nearestMean ? delta("mean", "mean_shuffled") : nil,
                      teacherForced: teacherForced, actionAccuracy: actionAccuracy, framesPerSecond: Double(rolloutFrames) / rolloutSeconds,
                      actionGuidance: actionGuidance, temperature: temperature, topP: topP)
    }

    /// Every (clip, start) whose `span` frames stay inside one episode (no episode start after
    /// the first frame), clip by clip in order.
    package static func windowStarts(_ clips: [CodeClip], span: Int) -> [(clip: Int, start: Int)] {
        var all: [(clip: Int, start: Int)] = []
        for (i, clip) in clips.enumerated() where clip.frames >= span {
            for s in 0...(clip.frames - span) where !clip.episodeStart[(s + 1)..<(s + span)].contains(true) {
                all.append((i, s))
            }
        }
        return all
    }

    /// `count` evenly spaced items of `all` (all of them when there are no more than `count`).
    package static func evenlySpaced<T>(_ all: [T], count: Int) -> [T] {
        all.count <= count ? all : (0..<count).map { all[$0 * all.count / count] }
    }

    /// The window whose actions window `k` of `count` is rolled out under as "shuffled actions":
    /// the one half the list away, so every window's partner is another window.
    package static func shuffledPartner(of k: Int, count: Int) -> Int { (k + count / 2) % count }

    /// ΔPSNR: the mean over h = 1…min(8, H) of `a[h] − b[h]`.
    package static func deltaPSNR(_ a: [Double], _ b: [Double]) -> Double {
        let k = min(8, a.count, b.count)
        return (0..<k).map { a[$0] - b[$0] }.reduce(0, +) / Double(k)
    }

    /// "T=1", or "T=0.8 top-p 0.9": the sampled rows' settings.
    package static func samplingLabel(_ r: Report) -> String {
        String(format: "T=%g", r.temperature) + (r.topP < 1 ? String(format: " top-p %g", r.topP) : "")
    }

    /// PSNR and SSIM against the horizon, side by side, as a 960×380 canvas.
    package static func plot(_ r: Report) -> Canvas {
        let named: [(String, Curve)] = [("PRIOR GREEDY", r.greedy), ("GREEDY SHUFFLED ACTIONS", r.greedyShuffled),
                                        ("PRIOR " + samplingLabel(r).uppercased(), r.sampled), ("COPY LAST FRAME", r.copyLast), ("COPY LAST CODES", r.copyLastCodes), ("TOKENIZER CEILING", r.tokenizerCeiling)]
            + (r.nearestMean.map { [("PRIOR NEAREST-MEAN", $0)] } ?? [])
        func series(_ metric: KeyPath<Curve, [Double]>) -> [LinePlot.Series] {
            named.enumerated().map { i, entry in
                LinePlot.Series(name: entry.0, color: LinePlot.palette[i],
                                points: entry.1[keyPath: metric].enumerated().map { (Double($0.offset + 1), $0.element) })
            }
        }
        var canvas = Canvas(width: 960, height: 380, fill: (255, 255, 255))
        LinePlot(title: "ROLLOUT PSNR (DB)", xLabel: "HORIZON", series: series(\.psnr)).draw(on: &canvas, x: 0, y: 0, width: 480, height: 380)
        LinePlot(title: "ROLLOUT SSIM", xLabel: "HORIZON", series: series(\.ssim)).draw(on: &canvas, x: 480, y: 0, width: 480, height: 380)
        return canvas
    }

    /// The readable table `eval prior` prints.
    package static func table(_ report: Report) -> String {
        var lines = ["rollout PSNR (dB, per frame capped at 50) over \(report.windows) windows, \(report.contextFrames) context frames"
                     + (report.actionGuidance == 1 ? ":" : String(format: ", action guidance %.2f:", report.actionGuidance))]
        var rows: [(String, Curve)] = [("prior greedy", report.greedy), ("  shuffled actions", report.greedyShuffled),
                                       ("prior " + samplingLabel(report), report.sampled), ("  shuffled actions", report.sampledShuffled)]
        if let mean = report.nearestMean, let shuffled = report.nearestMeanShuffled {
            rows += [("prior nearest-mean", mean), ("  shuffled actions", shuffled)]
        }
        rows += [("copy last frame", report.copyLast), ("copy last codes", report.copyLastCodes), ("tokenizer ceiling", report.tokenizerCeiling)]
        let shown = [1, 2, 4, 8, 16].filter { $0 <= report.horizon }
        lines.append("h".padding(toLength: 20, withPad: " ", startingAt: 0) + shown.map { String(format: "%7d", $0) }.joined())
        for (name, curve) in rows {
            lines.append(name.padding(toLength: 20, withPad: " ", startingAt: 0) + shown.map { String(format: "%7.2f", curve.psnr[$0 - 1]) }.joined())
        }
        lines.append(String(format: "ΔPSNR true − shuffled actions, mean h=1..8: greedy %.2f dB, ", report.deltaPSNRGreedy)
                     + samplingLabel(report) + String(format: " %.2f dB", report.deltaPSNRSampled)
                     + (report.deltaPSNRNearestMean.map { String(format: ", nearest-mean %.2f dB", $0) } ?? ""))
        if let t = report.teacherForced {
            lines.append(String(format: "teacher-forced bits/token: %.3f (shuffled actions %.3f, no actions %.3f; unigram %.3f, copy-previous %.3f)",
                                t.bitsPerToken, t.shuffledActionBitsPerToken, t.noActionBitsPerToken, t.unigramBitsPerToken, t.copyPreviousBitsPerToken))
        }
        if let a = report.actionAccuracy {
            lines.append(String(format: "action following (inverse dynamics, %d training pairs): real validation frames %.1f%% (most common action %.1f%%), rollouts greedy %.1f%%, ",
                                a.trainingPairs, a.real * 100, a.majority * 100, a.greedy * 100)
                         + samplingLabel(report) + String(format: " %.1f%% (%.0f%% of real)", a.sampled * 100, a.sampledShareOfReal * 100))
        }
        lines.append(String(format: "rollout speed: %.1f frames/s", report.framesPerSecond))
        return lines.joined(separator: "\n")
    }
}
