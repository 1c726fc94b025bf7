import CodeFile
import FileOutput
import Foundation
import Media
import NN
import Prior

/// `framecast predict` as a library call: C real frames of a clip, then predicted frames under
/// its own actions or an action script, written as code files and, optionally, a labelled MP4.
package struct Prediction {
    /// A video (with its sidecar) or a code file.
    package var input: String
    package var tokenizer: String
    package var prior: String
    /// Real frames given as context (default: the prior's context length), from frame `start`.
    package var contextFrames: Int?
    package var start = 0
    /// Frames to predict (default: 16, or the script's length).
    package var frames: Int?
    /// An action script (`ActionScript`) or CSV file; nil follows the clip's own actions.
    package var actions: String?
    package var samples = 1
    package var sampling = Recipe.sampling
    /// Output code file (sample i goes to NAME.sI.codes.safetensors when there are several).
    package var output: String
    /// Also a labelled MP4, frames enlarged by `scale`.
    package var mp4: String?
    package var scale = 4
    /// Threads of the decoder's prefill.
    package var decoderThreads = 1

    package init(input: String, tokenizer: String, prior: String, output: String) {
        (self.input, self.tokenizer, self.prior, self.output) = (input, tokenizer, prior, output)
    }

    /// Predicts and writes the outputs; returns their paths and a one-line summary with the speed.
    package func run() throws -> (outputs: [String], summary: String) {
        let started = Date()
        // Every output is checked before any work: its folder exists, it is a regular file, not the input.
        for path in outputPaths + (mp4.map { [$0] } ?? []) { try AtomicFile.checkOutput(path, notAny: [input]) }
        let tok = try VideoTokenizer(tokenizer)
        let loaded = try tok.loadPrior(prior)
        let c = contextFrames ?? loaded.model.config.contextFrames
        // A video is encoded only as far as the context and, following its own actions, the truth.
        var clip: CodeClip
        if input.hasSuffix(".codes.safetensors") {
            clip = try CodeClip.read(path: input)
            try tok.check(clip, file: input)
        } else {
            clip = try tok.encode(video: input, limit: start + c + (actions == nil ? frames ?? 16 : 0))
        }
        if clip.actionNames.isEmpty && clip.actions.allSatisfy({ $0 < 0 }) {
            // No sidecar: the context's actions are unknown; an action script names the prior's actions.
            guard actions != nil else {
                throw MediaError(input, "has no actions (no NAME.actions.csv sidecar): pass --actions to predict under chosen ones")
            }
            clip.actionNames = loaded.source.actionNames
        }
        clip = try loaded.source.mapActions(of: clip, file: input)     // the clip's actions by name, into the prior's ids
        let sampler = PriorSampler(model: loaded.model, source: loaded.source, decoderThreads: decoderThreads,
                                   codeVectors: try tok.model.codeVectors())
        guard start + c <= clip.frames else {
            throw MediaError(input, "has \(clip.frames) frames: --start \(start) with \(c) context frames needs \(start + c)")
        }
        let context = try sampler.context(from: clip, start: start, frames: c, file: input)
        let future = try futureActions(clip, names: loaded.source.actionNames, lastContextFrame: start + c - 1)

        // The MP4 is decoded and encoded on a second thread as the frames are sampled. Ground truth:
        // the input clip's own frames over the same span, when it has them.
        let labels = samples == 1 ? ["PREDICTED"] : (0..<samples).map { "SAMPLE \($0 + 1)" }
        let truth = actions == nil ? clip.excerpt(from: start, to: min(clip.frames, start + c + future.count)) : nil
        let video = try mp4.map {
            try PredictionVideo(path: $0, tokenizer: tok, clip: clip, start: start, context: context, future: future,
                                truth: truth, labels: labels, scale: scale)
        }
        do {
            return try finish(started: started, clip: clip, context: context, future: future, sampler: sampler, video: video)
        } catch {
            video?.cancel()
            throw error
        }
    }

    /// The code files' paths: `output`, or one per sample.
    private var outputPaths: [String] {
        samples == 1 ? [output] : (0..<samples).map { output.replacingOccurrences(of: ".codes.safetensors", with: ".s\($0).codes.safetensors") }
    }

    /// Samples, writes the code files and completes the video.
    private func finish(started: Date, clip: CodeClip, context: PriorContext, future: [Int], sampler: PriorSampler,
                        video: PredictionVideo?) throws -> (outputs: [String], summary: String) {
        let sampleStart = Date()
        let rollout = try sampler.rollout(context: context, actions: future, samples: samples, options: sampling,
                                          onFrame: video.map { video in { video.add(frame: $0, codes: $1) } })
        let sampleSeconds = Date().timeIntervalSince(sampleStart)

        var outputs: [String] = []
        for (s, path) in outputPaths.enumerated() {
            let predicted = CodeClip.prediction(from: clip, start: start, context: context, future: future, rollout: rollout, sample: s)
            try predicted.write(path: path)
            outputs.append(path)
        }
        if let video, let mp4 {
            try video.finish()
            outputs.append(mp4)
        }
        let summary = String(format: "predicted %d frames x %d samples in %.2f s (sampling %.2f s, %.1f frames/s)", future.count, samples,
                             Date().timeIntervalSince(started), sampleSeconds, Double(future.count * samples) / sampleSeconds)
        return (outputs, summary)
    }

    /// The actions to predict under: the script's (as many as `frames`), or the clip's own after
    /// its last context frame.
    private func futureActions(_ clip: CodeClip, names: [String], lastContextFrame first: Int) throws -> [Int] {
        if let actions {
            let script = try ActionScript.parse(actions, names: names)
            let n = frames ?? script.count
            guard script.count == n else { throw ActionScriptError("--actions gives \(script.count) actions but --frames is \(n)") }
            return Array(script.prefix(n))
        }
        let n = frames ?? 16
        guard first + n <= clip.frames else {
            throw MediaError(input, "has actions for frames up to \(clip.frames - 1); predicting \(n) frames after frame \(first) needs --actions")
        }
        let future = clip.actions[first..<(first + n)].map { Int($0) }
        guard future.allSatisfy({ $0 >= 0 }) else { throw MediaError(input, "has no recorded actions for that stretch; pass --actions") }
        return future
    }
}
