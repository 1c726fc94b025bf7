import ArgumentParser
import CodeFile
import Foundation
import NN
import Prior
import VQVAE

struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer training-step throughput (frames/s, GFLOP/s) and encode/decode model throughput.",
        discussion: """
            Uses random frames, so it needs no data; --tokenizer measures a trained model's shape, else the \
            default config. FLOPs are counted from the convolution shapes (multiply-add = 2 FLOPs; forward + \
            backward ≈ 3× forward).

            Example:
              framecast bench tokenizer --steps 20 --json
            """
    )

    @Option(help: "Tokenizer checkpoint whose shape to measure (default: the default config).")
    var tokenizer: String?

    @Option(help: "Batch size.")
    var batch = 32

    @Option(help: "Timed training steps (after 3 warm-up steps).")
    var steps = 10

    @Option(help: "Machine FP32 peak in GFLOP/s, for the fraction reported.")
    var peak = 344.0

    @Flag(help: "Print one JSON line.")
    var json = false

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    struct Report: Encodable {
        var parameters: Int
        var batch: Int
        var trainFramesPerSecond: Double
        var trainGFLOPs: Double
        var peakFraction: Double
        var encodeFramesPerSecond: Double
        var decodeFramesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case parameters, batch
            case trainFramesPerSecond = "train_frames_per_second", trainGFLOPs = "train_gflop_per_second"
            case peakFraction = "peak_fraction", encodeFramesPerSecond = "encode_frames_per_second"
            case decodeFramesPerSecond = "decode_frames_per_second"
        }
    }

    func run() throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let model = try tokenizer.map { try TokenizerCheckpoint.load($0).model } ?? VQVAE(config: VQVAEConfig())
        let c = model.config
        var bank = FrameBank(width: c.frameWidth, height: c.frameHeight)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<256 { bank.append((0..<bank.frameBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        var options = TokenizerTrainingOptions()
        options.batch = batch
        options.steps = steps + 3
        let trainer = try TokenizerTrainer(model: model, options: options, data: bank)
        for _ in 0..<3 { _ = try trainer.trainStep() }
        var t0 = Date()
        for _ in 0..<steps { _ = try trainer.trainStep() }
        let trainFPS = Double(steps * batch) / Date().timeIntervalSince(t0)
        let flops = 3 * model.forwardFLOPsPerFrame
        let frames = bank.gather(Array(0..<64))
        _ = try model.encode(frames: frames, count: 64)
        t0 = Date()
        var codes: [UInt16] = []
        for _ in 0..<4 { codes = try model.encode(frames: frames, count: 64) }
        let encodeFPS = 256 / Date().timeIntervalSince(t0)
        t0 = Date()
        for _ in 0..<4 { _ = try model.decode(codes: codes, count: 64) }
        let decodeFPS = 256 / Date().timeIntervalSince(t0)
        let report = Report(parameters: model.parameterCount, batch: batch, trainFramesPerSecond: trainFPS,
                            trainGFLOPs: trainFPS * flops / 1e9, peakFraction: trainFPS * flops / 1e9 / peak,
                            encodeFramesPerSecond: encodeFPS, decodeFramesPerSecond: decodeFPS)
        if json { try printJSON(report); return }
        print(String(format: "tokenizer %d params, batch %d: training %.1f frames/s = %.0f GFLOP/s (%.0f%% of %.0f peak); encode %.0f frames/s, decode %.0f frames/s (model only)",
                     report.parameters, batch, trainFPS, report.trainGFLOPs, report.peakFraction * 100, peak, encodeFPS, decodeFPS))
    }
}

struct BenchPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Prior throughput: training tokens/s; sampling tokens/s and frames/s by engine; predict end to end.",
        discussion: """
            Sampling runs at batch 1 after a full context (C frames) and generates --frames frames, so the window \
            slides at every frame. Three engines: libtorch without a cache (a forward pass over the whole window \
            per token), libtorch with its KV cache, and the fused Swift decoder (the default for predict). \
            "predict end to end" is the fused rollout plus decoding the context, truth and predicted frames \
            with the tokenizer and writing the side-by-side MP4, per predicted frame (model loading and input \
            encoding excluded). Uses random codes: speed does not depend on them. Each figure is the best of \
            --repeats runs.

            Example:
              framecast bench prior --prior runs/prior/prior.safetensors --tokenizer runs/tok/tokenizer.safetensors
            """
    )

    @Option(help: "Prior checkpoint whose shape to measure (default: a fresh default model for an 8x8 grid, K=512, 8 actions).")
    var prior: String?

    @Option(help: "Tokenizer for the end-to-end figure (default: a fresh default tokenizer).")
    var tokenizer: String?

    @Option(help: "Frames to sample.")
    var frames = 32

    @Option(help: "Runs of each sampling measurement; the best is reported.")
    var repeats = 3

    @Option(help: "libtorch threads for the libtorch engines (default 1: batch-1 sampling is latency-bound).")
    var samplingThreads = 1

    @Option(help: "Threads for the fused decoder's window re-prefill (default: all cores, as predict).")
    var decoderThreads = Torch.allCores

    @Flag(help: "Print one JSON line.")
    var json = false

    func validate() throws {
        guard frames >= 1, repeats >= 1, samplingThreads >= 1, decoderThreads >= 1 else {
            throw ValidationError("--frames, --repeats and the thread counts must be at least 1")
        }
    }

    struct Report: Encodable {
        var parameters: Int
        var trainTokensPerSecond: Double
        var uncachedTokensPerSecond: Double
        var cachedTokensPerSecond: Double
        var fusedTokensPerSecond: Double
        var fusedFramesPerSecond: Double
        var predictFramesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case parameters
            case trainTokensPerSecond = "train_tokens_per_second", uncachedTokensPerSecond = "uncached_tokens_per_second"
            case cachedTokensPerSecond = "cached_tokens_per_second", fusedTokensPerSecond = "fused_tokens_per_second"
            case fusedFramesPerSecond = "fused_frames_per_second", predictFramesPerSecond = "predict_frames_per_second"
        }
    }

    func run() throws {
        let model: PriorModel
        let source: CodeSource
        if let prior {
            let loaded = try PriorCheckpoint.load(prior)
            (model, source) = (loaded.model, loaded.source)
        } else {
            source = CodeSource(tokenizerHash: "bench", codebookSize: 512, gridHeight: 8, gridWidth: 8,
                                actionNames: (0..<8).map { "A\($0)" }, fps: 15)
            model = try PriorModel(config: source.defaultConfig(actionCount: 8))
        }
        let c = model.config
        var rng = SplitMix64(seed: 3)
        let frameCount = c.contextFrames + frames + 1
        let clip = CodeClip(codes: (0..<(frameCount * c.codesPerFrame)).map { _ in UInt16(rng.next() % UInt64(c.codebookSize)) },
                            frames: frameCount, gridH: c.gridHeight, gridW: c.gridWidth,
                            actions: (0..<frameCount).map { _ in Int32(rng.next() % UInt64(c.actionCount)) },
                            episodeStart: [true] + Array(repeating: false, count: frameCount - 1), fps: 15,
                            frameWidth: 64, frameHeight: 64, codebookSize: c.codebookSize, tokenizerHash: source.tokenizerHash,
                            source: "bench", sourceBytes: 0, actionNames: source.actionNames)
        // Training throughput (all cores).
        Torch.setThreads(Torch.allCores)
        let data = try PriorDataset(clips: Array(repeating: clip, count: 4))
        var options = PriorTrainingOptions()
        options.steps = 8
        let trainer = try PriorTrainer(model: model, options: options, data: data)
        _ = try trainer.trainStep()
        var tokens = 0, seconds = 0.0
        for _ in 0..<5 { let s = try trainer.trainStep(); tokens += s.tokens; seconds += s.seconds }
        let trainTPS = Double(tokens) / seconds

        // Sampling at batch 1: the best of `repeats` timed runs of each engine.
        Torch.setThreads(samplingThreads)
        let context = try PriorContext(clip: clip, start: 0, frames: c.contextFrames)
        let actions = Array(clip.actions[(c.contextFrames - 1)..<(c.contextFrames - 1 + frames)].map { Int($0) })
        func best(_ body: () throws -> Void) rethrows -> Double {
            try body()                                                   // warm-up
            var fastest = Double.infinity
            for _ in 0..<repeats {
                let t0 = Date()
                try body()
                fastest = min(fastest, Date().timeIntervalSince(t0))
            }
            return fastest
        }
        func sample(_ engine: PriorSampler.Engine) throws -> Double {
            let sampler = PriorSampler(model: model, source: source, engine: engine, decoderThreads: decoderThreads)
            return Double(frames * c.tokensPerFrame) / (try best {
                _ = try sampler.rollout(context: context, actions: actions, samples: 1, options: SamplingOptions(seed: 1))
            })
        }
        let cachedTPS = try sample(.libtorch)
        let fusedTPS = try sample(.fused)
        // Uncached: one full-window forward per generated token.
        model.training = false
        let codes = try Tensor(clip.codes.prefix(c.contextFrames * c.codesPerFrame).map { Int64($0) }, shape: [1, c.contextFrames, c.codesPerFrame])
        let acts = try Tensor(clip.actions.prefix(c.contextFrames).map { Int64($0) }, shape: [1, c.contextFrames])
        let uncachedTPS = 1 / (try best { try Tensor.noGrad { _ = try model.allLogits(codes: codes, actions: acts) } })

        // predict end to end: the fused rollout, then decode and write the MP4 as `predict --mp4` does (all cores).
        Torch.setThreads(Torch.allCores)
        let predictFPS = try endToEnd(model: model, source: source, clip: clip, context: context, actions: actions, best: best)

        let report = Report(parameters: model.parameterCount, trainTokensPerSecond: trainTPS, uncachedTokensPerSecond: uncachedTPS,
                            cachedTokensPerSecond: cachedTPS, fusedTokensPerSecond: fusedTPS,
                            fusedFramesPerSecond: fusedTPS / Double(c.tokensPerFrame), predictFramesPerSecond: predictFPS)
        if json { try printJSON(report); return }
        let n = Double(c.tokensPerFrame)
        print(String(format: "prior %d params (%d layers, width %d, %dx%d grid, K=%d): training %.0f tokens/s",
                     report.parameters, c.layers, c.width, c.gridHeight, c.gridWidth, c.codebookSize, trainTPS))
        print("sampling, batch 1, \(c.contextFrames) context frames, \(frames) frames (\(c.tokensPerFrame) tokens each), best of \(repeats):")
        print(String(format: "  libtorch, no cache    %7.0f tokens/s %6.1f frames/s", uncachedTPS, uncachedTPS / n))
        print(String(format: "  libtorch, KV cache    %7.0f tokens/s %6.1f frames/s (%d thread(s))", cachedTPS, cachedTPS / n, samplingThreads))
        print(String(format: "  fused Swift decoder   %7.0f tokens/s %6.1f frames/s (%.1fx the KV cache; %d prefill thread(s))",
                     fusedTPS, fusedTPS / n, fusedTPS / cachedTPS, decoderThreads))
        print(String(format: "predict end to end (fused rollout + tokenizer decode + MP4): %.1f frames/s", predictFPS))
    }

    /// Predicted frames per second of rollout + decode + MP4 mux (with a truth panel, as `predict` on a clip).
    private func endToEnd(model: PriorModel, source: CodeSource, clip: CodeClip, context: PriorContext, actions: [Int],
                          best: (() throws -> Void) throws -> Double) throws -> Double {
        let tok = try tokenizer.map { try LoadedTokenizer($0) } ?? LoadedTokenizer(model: VQVAE(config: VQVAEConfig()), path: "fresh")
        let t = tok.config
        guard t.gridWidth == model.config.gridWidth, t.gridHeight == model.config.gridHeight, t.codebookSize == model.config.codebookSize else {
            throw ValidationError("the tokenizer's \(t.gridWidth)x\(t.gridHeight) grid and K=\(t.codebookSize) do not match the prior's")
        }
        var frameClip = clip
        (frameClip.frameWidth, frameClip.frameHeight) = (t.frameWidth, t.frameHeight)
        let sampler = PriorSampler(model: model, source: source, decoderThreads: decoderThreads)
        let mp4 = FileManager.default.temporaryDirectory.appendingPathComponent("framecast-bench-\(UUID().uuidString).mp4").path
        defer { try? FileManager.default.removeItem(atPath: mp4) }
        let seconds = try best {
            let rollout = try sampler.rollout(context: context, actions: actions, samples: 1, options: SamplingOptions(seed: 1))
            let predicted = Predict.predictedClip(sample: 0, of: rollout, context: context, actions: actions, clip: frameClip, start: 0)
            let truth = frameClip.excerpt(from: 0, to: min(frameClip.frames, context.frames + actions.count))
            try SideBySide.write(mp4, tokenizer: tok, truth: truth, predictions: [predicted], labels: ["PREDICTED"], scale: 4)
        }
        return Double(actions.count) / seconds
    }
}
