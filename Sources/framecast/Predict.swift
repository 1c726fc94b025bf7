import FramecastKit
import ArgumentParser
import CodeFile
import Foundation
import Media
import NN
import Prior
import VQVAE

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict future frames of a clip under chosen actions.",
        discussion: """
            Takes C real frames (from a video with its sidecar, or a code file) starting at --start, then samples \
            --frames future frames with the prior, each following one action: by default the clip's own actions \
            (so the ground truth is comparable), or --actions, a script of names or ids with repeats \
            (MOVE_FORWARD*10,TURN_LEFT*5) or a CSV file. Writes a code file holding the context and the \
            prediction (sample i of --samples S goes to NAME.sI.codes.safetensors when S > 1) and, with --mp4, \
            a labelled video: ground truth (when the clip has it) beside each sample.

            Examples:
              framecast predict Clips/my_way_home_s3.mp4 --tokenizer tok.safetensors --prior prior.safetensors --frames 16 -o p.codes.safetensors --mp4 p.mp4
              framecast predict s3.codes.safetensors --tokenizer tok.safetensors --prior prior.safetensors --actions 'TURN_LEFT*8,MOVE_FORWARD*8' -o left.codes.safetensors
            """
    )

    @Argument(help: "A video (with NAME.actions.csv beside it) or a .codes.safetensors file.")
    var input: String

    @Option(help: "Tokenizer checkpoint.")
    var tokenizer: String

    @Option(help: "Prior checkpoint.")
    var prior: String

    @Option(help: "Real frames given as context (default: the prior's context length).")
    var contextFrames: Int?

    @Option(help: "First context frame in the clip.")
    var start = 0

    @Option(help: "Frames to predict (default: 16, or the length of --actions).")
    var frames: Int?

    @Option(help: "Actions to follow: a script like MOVE_FORWARD*10,TURN_LEFT*5, or a CSV file. Default: the clip's own.")
    var actions: String?

    @Option(help: "Independent samples.")
    var samples = 1

    @Option(help: "Sampling temperature; 0 picks the most likely code (greedy).")
    var temperature = Recipe.sampling.temperature

    @Option(help: "Sample only among the K most likely codes (0 = all).")
    var topK = Recipe.sampling.topK

    @Option(help: "Sample only within the smallest set of codes with this total probability.")
    var topP = Recipe.sampling.topP

    @Flag(help: "Pick each code nearest to the mean code vector under the model's distribution (after --temperature, --top-k, --top-p) instead of drawing one: deterministic and smoother.")
    var nearestMean = false

    @OptionGroup var guidance: GuidanceOptions

    @Option(help: "Random seed: the same seed gives the same prediction.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Output code file (.codes.safetensors).")
    var output: String

    @Option(help: "Also write a labelled MP4 of the prediction.")
    var mp4: String?

    @Option(help: "Enlarge frames in the MP4 by this factor.")
    var scale = 4

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard output.hasSuffix(".codes.safetensors") else { throw ValidationError("--output must end in .codes.safetensors, got \(output)") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1") }
        if let contextFrames, contextFrames < 1 { throw ValidationError("--context-frames must be at least 1") }
        guard start >= 0 else { throw ValidationError("--start must be ≥ 0") }
        guard (1...64).contains(samples) else { throw ValidationError("--samples must be 1...64") }
        guard temperature >= 0, topK >= 0, topP > 0, topP <= 1 else { throw ValidationError("need --temperature ≥ 0, --top-k ≥ 0, 0 < --top-p ≤ 1") }
        if nearestMean {
            guard temperature > 0 else { throw ValidationError("--nearest-mean needs --temperature > 0 (it averages over the model's distribution)") }
            guard samples == 1 else { throw ValidationError("--nearest-mean is deterministic: --samples \(samples) would give identical samples") }
        }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16") }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let started = Date()
        let tok = try VideoTokenizer(tokenizer)
        let loaded = try tok.loadPrior(prior)
        let c = contextFrames ?? loaded.model.config.contextFrames
        // A video is encoded only as far as the context and, following its own actions, the truth.
        let needed = start + c + (actions == nil ? frames ?? 16 : 0)
        let clip: CodeClip
        if input.hasSuffix(".codes.safetensors") {
            clip = try CodeClip.read(path: input)
            try tok.check(clip, file: input)
        } else {
            clip = try tok.encode(video: input, limit: needed)
        }
        let sampler = PriorSampler(model: loaded.model, source: loaded.source, decoderThreads: threads ?? Torch.allCores,
                                   codeVectors: try tok.model.codeVectors())
        guard start + c <= clip.frames else {
            throw MediaError(input, "has \(clip.frames) frames: --start \(start) with \(c) context frames needs \(start + c)")
        }
        let context = try sampler.context(from: clip, start: start, frames: c, file: input)

        let future: [Int]
        if let actions {
            let script = try ActionScript.parse(actions, names: loaded.source.actionNames)
            let n = frames ?? script.count
            guard script.count >= n else { throw ValidationError("--actions gives \(script.count) actions but --frames is \(n)") }
            future = Array(script.prefix(n))
        } else {
            let n = frames ?? 16
            let first = start + c - 1
            guard first + n <= clip.frames else {
                throw MediaError(input, "has actions for frames up to \(clip.frames - 1); predicting \(n) frames after frame \(first) needs --actions")
            }
            future = clip.actions[first..<(first + n)].map { Int($0) }
            guard future.allSatisfy({ $0 >= 0 }) else { throw MediaError(input, "has no recorded actions for that stretch; pass --actions") }
        }
        // The MP4 is decoded and encoded on a second thread as the frames are sampled. Ground truth:
        // the input clip's own frames over the same span, when it has them.
        let labels = samples == 1 ? ["PREDICTED"] : (0..<samples).map { "SAMPLE \($0 + 1)" }
        let truth = actions == nil ? clip.excerpt(from: start, to: min(clip.frames, start + c + future.count)) : nil
        let video = try mp4.map {
            try PredictionVideo(path: $0, tokenizer: tok, clip: clip, start: start, context: context, future: future,
                                truth: truth, labels: labels, scale: scale)
        }
        let sampleStart = Date()
        let rollout = try sampler.rollout(context: context, actions: future, samples: samples,
                                          options: SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed,
                                                                   actionGuidance: guidance.actionGuidance, nearestMean: nearestMean),
                                          onFrame: video.map { video in { video.add(frame: $0, codes: $1) } })
        let sampleSeconds = Date().timeIntervalSince(sampleStart)

        var outputs: [String] = []
        for s in 0..<samples {
            let predicted = CodeClip.prediction(from: clip, start: start, context: context, future: future, rollout: rollout, sample: s)
            let path = samples == 1 ? output : output.replacingOccurrences(of: ".codes.safetensors", with: ".s\(s).codes.safetensors")
            try predicted.write(path: path)
            outputs.append(path)
        }
        if let video, let mp4 {
            try video.finish()
            outputs.append(mp4)
        }
        let total = Date().timeIntervalSince(started)
        FileHandle.standardError.write(Data(String(format: "predicted %d frames x %d samples in %.2f s (sampling %.2f s, %.1f frames/s)\n",
                                                   future.count, samples, total, sampleSeconds, Double(future.count * samples) / sampleSeconds).utf8))
        for path in outputs { print(path) }
    }
}
