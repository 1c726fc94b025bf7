import FramecastKit
import ArgumentParser
import Foundation
import Media
import NN
import VQVAE

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model on validation clips.",
        subcommands: [EvalTokenizer.self, EvalPrior.self]
    )
}

struct EvalTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Reconstruction quality and codebook use of a tokenizer on clips.",
        discussion: """
            PSNR is per frame, capped at 50 dB, averaged; also the PSNR of the mean MSE. SSIM uses an 11×11 \
            Gaussian window (σ 1.5) and averages RGB channels. Usage is the fraction of the K codes used; \
            perplexity is exp(entropy) of code frequencies.

            Examples:
              framecast eval tokenizer --tokenizer runs/tok/tokenizer.safetensors --clips Clips/manifest.json
              framecast eval tokenizer --tokenizer runs/tok/tokenizer.safetensors --clips Clips/basic_s9.mp4 --json
              framecast eval tokenizer --tokenizer runs/tok/tokenizer.safetensors --clips Clips/manifest.json --split train
            """
    )

    @Option(help: "Tokenizer checkpoint.")
    var tokenizer: String

    @Option(help: "Clips: folder, manifest.json (its 'validation' split) or video.")
    var clips: String

    @Option(help: "Which split of a manifest to evaluate: validation or train (to choose between models without touching the validation clips).")
    var split = "validation"

    @Option(help: "Evaluate at most this many frames (evenly spaced).")
    var limit = 100_000

    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        try ManifestSplit.validate(split)
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let tok = try VideoTokenizer(tokenizer)
        let set = try ClipSet.resolve(clips, split: split)
        let frames = try loadFrames(set, config: tok.config, label: "clips")
        let e = try tok.model.evaluate(frames, limit: limit)
        if json {
            try printJSON(e)
            return
        }
        let c = tok.config
        let rows: [(String, String)] = [
            ("tokenizer", tokenizer),
            ("clips", "\(set.videos.count) videos, \(e.frames) frames"),
            ("grid", "\(c.gridWidth)x\(c.gridHeight), K=\(c.codebookSize), D=\(c.codeDim)"),
            ("PSNR", String(format: "%.2f dB (per frame, capped at 50); %.2f dB of the mean MSE", e.psnr, e.psnrOfMeanMSE)),
            ("SSIM", String(format: "%.4f", e.ssim)),
            ("sharpness", String(format: "%.3f (edge detail of the reconstructions / the frames')", e.sharpness)),
            ("codes used", String(format: "%d/%d (%.1f%%)", e.codesUsed, e.codebookSize, e.usage * 100)),
            ("perplexity", String(format: "%.1f", e.perplexity)),
            ("bits/frame", String(format: "%.0f (compression %.1fx vs 8-bit RGB)", e.bitsPerFrame, e.compressionRatio)),
        ]
        for (k, v) in rows { print(k.padding(toLength: 12, withPad: " ", startingAt: 0) + v) }
    }
}
