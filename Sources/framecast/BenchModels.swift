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
        abstract: "Prior throughput: training tokens/s, and sampling tokens/s with and without the KV cache.",
        discussion: """
            Without the cache every new token needs a forward pass over the whole window (C frames); with it, one \
            token. Sampling is measured at batch 1 over --frames frames after a full context. Uses random codes: \
            speed does not depend on them.

            Example:
              framecast bench prior --prior runs/prior/prior.safetensors
            """
    )

    @Option(help: "Prior checkpoint whose shape to measure (default: a fresh default model for an 8x8 grid, K=512, 8 actions).")
    var prior: String?

    @Option(help: "Frames to sample for the cached figure.")
    var frames = 16

    @Option(help: "Compute threads for sampling (default 1: batch-1 sampling is latency-bound).")
    var samplingThreads = 1

    @Flag(help: "Print one JSON line.")
    var json = false

    struct Report: Encodable {
        var parameters: Int
        var trainTokensPerSecond: Double
        var cachedTokensPerSecond: Double
        var uncachedTokensPerSecond: Double
        var cacheSpeedup: Double
        var framesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case parameters
            case trainTokensPerSecond = "train_tokens_per_second", cachedTokensPerSecond = "cached_tokens_per_second"
            case uncachedTokensPerSecond = "uncached_tokens_per_second", cacheSpeedup = "cache_speedup"
            case framesPerSecond = "sampled_frames_per_second"
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
        // Training throughput (2 threads).
        Torch.setThreads(Torch.allCores)
        let data = try PriorDataset(clips: Array(repeating: clip, count: 4))
        var options = PriorTrainingOptions()
        options.steps = 8
        let trainer = try PriorTrainer(model: model, options: options, data: data)
        _ = try trainer.trainStep()
        var tokens = 0, seconds = 0.0
        for _ in 0..<5 { let s = try trainer.trainStep(); tokens += s.tokens; seconds += s.seconds }
        let trainTPS = Double(tokens) / seconds

        Torch.setThreads(samplingThreads)
        let sampler = PriorSampler(model: model, source: source)
        let context = try sampler.context(from: clip, start: 0, frames: c.contextFrames)
        let actions = Array(clip.actions[(c.contextFrames - 1)..<(c.contextFrames - 1 + frames)].map { Int($0) })
        _ = try sampler.rollout(context: context, actions: Array(actions.prefix(1)), samples: 1, options: SamplingOptions())
        var t0 = Date()
        _ = try sampler.rollout(context: context, actions: actions, samples: 1, options: SamplingOptions(seed: 1))
        let cachedSeconds = Date().timeIntervalSince(t0)
        let cachedTPS = Double(frames * c.tokensPerFrame) / cachedSeconds
        // Uncached: one full-window forward per generated token.
        model.training = false
        let codes = try Tensor(clip.codes.prefix(c.contextFrames * c.codesPerFrame).map { Int64($0) }, shape: [1, c.contextFrames, c.codesPerFrame])
        let acts = try Tensor(clip.actions.prefix(c.contextFrames).map { Int64($0) }, shape: [1, c.contextFrames])
        try Tensor.noGrad { _ = try model.allLogits(codes: codes, actions: acts) }
        t0 = Date()
        let reps = 5
        try Tensor.noGrad { for _ in 0..<reps { _ = try model.allLogits(codes: codes, actions: acts) } }
        let uncachedTPS = Double(reps) / Date().timeIntervalSince(t0)
        let report = Report(parameters: model.parameterCount, trainTokensPerSecond: trainTPS, cachedTokensPerSecond: cachedTPS,
                            uncachedTokensPerSecond: uncachedTPS, cacheSpeedup: cachedTPS / uncachedTPS,
                            framesPerSecond: Double(frames) / cachedSeconds)
        if json { try printJSON(report); return }
        print(String(format: "prior %d params: training %.0f tokens/s; sampling (batch 1, %d thread(s)) %.0f tokens/s with the KV cache = %.1f frames/s, %.0f tokens/s without (%.1fx)",
                     report.parameters, trainTPS, samplingThreads, cachedTPS, report.framesPerSecond, uncachedTPS, report.cacheSpeedup))
    }
}
