import FramecastKit
import ArgumentParser
import CodeFile
import Foundation
import Media
import NN
import Prior
import VQVAE

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict a shipped clip's future under several action scripts; write one labelled MP4.",
        discussion: """
            Uses the shipped default model (Models/default) and clip (Clips/my_way_home_s3.mp4) unless told \
            otherwise. The video shows, side by side: the real clip (context, then what really happened), the \
            prediction under the clip's own actions, and one prediction per action script (by default: \
            MOVE_FORWARD, TURN_LEFT and TURN_RIGHT held for every frame). Context frames are marked CONTEXT; \
            the action that led to each frame is written under each panel. Prints the MP4's path.

            Examples:
              framecast demo
              framecast demo -o left.mp4 --start 100 --frames 48 --script 'LEFT THEN FORWARD=TURN_LEFT*12,MOVE_FORWARD*36'
              framecast demo --tokenizer runs/tok/tokenizer.safetensors --prior runs/prior/prior.safetensors
            """
    )

    @Option(name: .shortAndLong, help: "The MP4 to write.")
    var output = "demo-out/demo.mp4"

    @Option(help: "Video to predict from (with its NAME.actions.csv sidecar).")
    var clip = Shipped.demoClip

    @Option(help: "Tokenizer checkpoint (default: the shipped model's).")
    var tokenizer = Shipped.modelFolder + "/tokenizer.safetensors"

    @Option(help: "Prior checkpoint (default: the shipped model's).")
    var prior = Shipped.modelFolder + "/prior.safetensors"

    @Option(help: "First context frame in the clip.")
    var start = 60

    @Option(help: "Frames to predict after the context.")
    var frames = 32

    @Option(name: .customLong("script"), help: "LABEL=ACTIONS, e.g. 'FORWARD=MOVE_FORWARD*32'; repeatable (default: forward, turn left, turn right).")
    var scripts: [String] = []

    @Option(help: "Sampling temperature; 0 picks the most likely code (greedy).")
    var temperature = Recipe.sampling.temperature

    @Option(help: "Sample only among the K most likely codes (0 = all).")
    var topK = Recipe.sampling.topK

    @OptionGroup var guidance: GuidanceOptions

    @Option(help: "Random seed: the same seed gives the same video.")
    var seed: UInt64 = 0

    @Option(help: "Enlarge frames by this factor.")
    var scale = 3

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        guard output.lowercased().hasSuffix(".mp4") else { throw ValidationError("--output must end in .mp4, got \(output)") }
        try validateRange(start, 0...100_000_000, "--start")
        guard (1...1000).contains(frames) else { throw ValidationError("--frames must be 1...1000") }
        guard temperature >= 0, topK >= 0 else { throw ValidationError("need --temperature ≥ 0 and --top-k ≥ 0") }
        guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1...8") }
        for script in scripts where !script.contains("=") {
            throw ValidationError("--script '\(script)' must be LABEL=ACTIONS, e.g. 'FORWARD=MOVE_FORWARD*32'")
        }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let (tokenizerPath, priorPath, clipPath) = (Shipped.locate(tokenizer), Shipped.locate(prior), Shipped.locate(clip))
        let tok = try VideoTokenizer(tokenizerPath)
        let loaded = try tok.loadPrior(priorPath)
        let specs = scripts.map { s in (String(s.prefix { $0 != "=" }).uppercased(), String(s.drop { $0 != "=" }.dropFirst())) }
        try makeOutputFolder(URL(fileURLWithPath: output).deletingLastPathComponent().path)
        let summary = try DemoVideo.render(clip: clipPath, tokenizer: tok, prior: loaded, start: start, frames: frames, scripts: specs,
                                      options: SamplingOptions(temperature: temperature, topK: topK, seed: seed, actionGuidance: guidance.actionGuidance),
                                      scale: scale, to: output)
        FileHandle.standardError.write(Data("demo: \(summary)\n".utf8))
        print(output)
    }
}
