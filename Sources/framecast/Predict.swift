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
        try validateThreads(threads)
        guard output.hasSuffix(".codes.safetensors") else { throw ValidationError("--output must end in .codes.safetensors, got \(output)") }
        if let frames { try validateRange(frames, 1...100_000, "--frames") }
        if let contextFrames { try validateRange(contextFrames, 1...1_000, "--context-frames") }
        try validateRange(start, 0...100_000_000, "--start")
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
        var prediction = Prediction(input: input, tokenizer: tokenizer, prior: prior, output: output)
        (prediction.contextFrames, prediction.start, prediction.frames, prediction.actions) = (contextFrames, start, frames, actions)
        (prediction.samples, prediction.mp4, prediction.scale) = (samples, mp4, scale)
        prediction.sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed,
                                              actionGuidance: guidance.actionGuidance, nearestMean: nearestMean)
        prediction.decoderThreads = threads ?? Torch.allCores
        let (outputs, summary) = try prediction.run()
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        for path in outputs { print(path) }
    }
}
