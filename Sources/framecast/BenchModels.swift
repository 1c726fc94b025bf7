import FramecastKit
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
            backward ≈ 3× forward). Encode is RGB bytes already in memory → codes (no video decoding), decode is \
            codes → RGB bytes, both in batches of 64. With --runs N every figure is measured N times; the \
            report gives the median and, in JSON, each run.

            Example:
              framecast bench tokenizer --steps 20 --json
            """
    )

    @Option(help: "Tokenizer checkpoint whose shape to measure (default: the default config).")
    var tokenizer: String?

    @Option(help: "Batch size.")
    var batch = 32

    @Option(help: "Timed training steps per run (after 3 warm-up steps).")
    var steps = 10

    @Option(help: "Encode and decode batches of 64 frames per run.")
    var codingBatches = 4

    @Option(help: "Measurements of each figure.")
    var runs = 1

    @Option(help: "Machine FP32 peak in GFLOP/s, for the fraction reported (default: measured, the best of five 2048³ float32 matrix products on the compute threads).")
    var peak: Double?

    @Flag(help: "Print one JSON line.")
    var json = false

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Train with the convolutions in bfloat16, as train tokenizer --bfloat16 (encode and decode stay float32).")
    var bfloat16 = false

    func validate() throws {
        try validateThreads(threads)
        guard batch >= 1, steps >= 1, codingBatches >= 1, runs >= 1 else {
            throw ValidationError("--batch, --steps, --coding-batches and --runs must be at least 1")
        }
        if let peak, !(peak > 0) { throw ValidationError("--peak must be > 0 GFLOP/s") }
    }

    /// The machine's practical float32 peak in GFLOP/s: the best of five 2048³ matrix products
    /// (libtorch's GEMM, routed to oneDNN) on the current threads.
    static func measuredPeak() throws -> Double {
        let n = 2048
        let a = try Tensor.randn([n, n]), b = try Tensor.randn([n, n])
        _ = try a.matmul(b)
        var best = 0.0
        for _ in 0..<5 {
            let t0 = Date()
            _ = try a.matmul(b)
            best = max(best, 2 * pow(Double(n), 3) / Date().timeIntervalSince(t0) / 1e9)
        }
        return best
    }

    struct Report: Encodable {
        var parameters: Int
        var batch: Int
        var threads: Int
        var forwardFLOPsPerFrame: Double
        var encoderFLOPsPerFrame: Double
        var trainFramesPerSecond: Double
        var trainGFLOPs: Double
        var peakFraction: Double
        /// The FP32 peak the fraction is of, in GFLOP/s, and whether it was measured or given.
        var peakGFLOPs: Double
        var peakSource: String
        var encodeFramesPerSecond: Double
        var decodeFramesPerSecond: Double
        var runs: [String: [Double]]

        enum CodingKeys: String, CodingKey {
            case parameters, batch, threads, runs
            case forwardFLOPsPerFrame = "forward_flops_per_frame", encoderFLOPsPerFrame = "encoder_flops_per_frame"
            case trainFramesPerSecond = "train_frames_per_second", trainGFLOPs = "train_gflop_per_second"
            case peakFraction = "peak_fraction", peakGFLOPs = "peak_gflop_per_second", peakSource = "peak_source"
            case encodeFramesPerSecond = "encode_frames_per_second"
            case decodeFramesPerSecond = "decode_frames_per_second"
        }
    }

    func run() throws {
        let threadCount = threads ?? Torch.allCores
        Torch.setThreads(threadCount)
        let model = try tokenizer.map { try TokenizerCheckpoint.load($0).model } ?? VQVAE(config: VQVAEConfig())
        let c = model.config
        var bank = FrameBank(width: c.frameWidth, height: c.frameHeight)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<256 { bank.append((0..<bank.frameBytes).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        var options = TokenizerTrainingOptions()
        options.batch = batch
        options.steps = runs * steps + 3
        options.bfloat16Convolutions = bfloat16
        let measured = self.peak == nil
        let peak = try self.peak ?? Self.measuredPeak()
        let trainer = try TokenizerTrainer(model: model, options: options, data: bank)
        for _ in 0..<3 { _ = try trainer.trainStep() }
        let frames = bank.gather(Array(0..<64))
        var codes = try model.encode(frames: frames, count: 64)
        _ = try model.decode(codes: codes, count: 64)
        var train: [Double] = [], encode: [Double] = [], decode: [Double] = []
        for _ in 0..<runs {
            var t0 = Date()
            for _ in 0..<steps { _ = try trainer.trainStep() }
            train.append(Double(steps * batch) / Date().timeIntervalSince(t0))
            t0 = Date()
            for _ in 0..<codingBatches { codes = try model.encode(frames: frames, count: 64) }
            encode.append(Double(64 * codingBatches) / Date().timeIntervalSince(t0))
            t0 = Date()
            for _ in 0..<codingBatches { _ = try model.decode(codes: codes, count: 64) }
            decode.append(Double(64 * codingBatches) / Date().timeIntervalSince(t0))
        }
        let trainFPS = median(train), encodeFPS = median(encode), decodeFPS = median(decode)
        let flops = 3 * model.forwardFLOPsPerFrame
        let report = Report(parameters: model.parameterCount, batch: batch, threads: threadCount,
                            forwardFLOPsPerFrame: model.forwardFLOPsPerFrame, encoderFLOPsPerFrame: model.encoderFLOPsPerFrame,
                            trainFramesPerSecond: trainFPS, trainGFLOPs: trainFPS * flops / 1e9,
                            peakFraction: trainFPS * flops / 1e9 / peak, peakGFLOPs: peak,
                            peakSource: measured ? "measured: best of five 2048^3 float32 matrix products" : "given (--peak)",
                            encodeFramesPerSecond: encodeFPS, decodeFramesPerSecond: decodeFPS,
                            runs: ["train_frames_per_second": train, "encode_frames_per_second": encode,
                                   "decode_frames_per_second": decode])
        if json { try printJSON(report); return }
        print(String(format: "tokenizer %d params, batch %d: training %.1f frames/s = %.0f GFLOP/s (%.0f%% of %.0f peak, ",
                     report.parameters, batch, trainFPS, report.trainGFLOPs, report.peakFraction * 100, peak)
              + (measured ? "measured" : "given")
              + String(format: "); encode %.0f frames/s, decode %.0f frames/s (model only)", encodeFPS, decodeFPS))
    }
}

struct BenchPrior: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prior",
        abstract: "Prior throughput: training tokens/s; sampling by engine; predict with decoding and with the MP4.",
        discussion: """
            Sampling runs at batch 1 after a full context (C frames) and generates --frames frames, so the window \
            slides at every frame. Engines: libtorch without a cache (a forward pass over the whole window per \
            token), libtorch with its KV cache, and the fused Swift decoder (what predict uses). "predict" is the \
            fused sampling followed by decoding the sampled frames to RGB with the tokenizer (--tokenizer, else a \
            fresh one for the prior's grid); "predict + MP4" also decodes the context and truth panels and writes \
            the side-by-side MP4 as `predict --mp4` does (model loading and input encoding excluded). Uses random \
            codes: speed does not depend on them. With --runs N each figure is measured N times; the report gives \
            the median and, in JSON, each run.

            Example:
              framecast bench prior --prior Models/default/prior.safetensors --tokenizer Models/default/tokenizer.safetensors
            """
    )

    @Option(help: "Prior checkpoint whose shape to measure (default: a fresh default model for an 8x8 grid, K=512, 8 actions).")
    var prior: String?

    @Option(help: "Tokenizer checkpoint whose decoder turns predicted codes into frames (default: a fresh one).")
    var tokenizer: String?

    @Option(help: "Frames to sample per measurement.")
    var frames = 32

    @Option(help: "Timed training steps per run (after 1 warm-up step).")
    var trainSteps = 5

    @Option(help: "Measurements of each figure.")
    var runs = 1

    @Option(help: "Compute threads for training, decoding and the MP4 (default: all cores).")
    var threads: Int?

    @Option(help: "libtorch threads for the libtorch sampling engines (default 1: batch-1 sampling is latency-bound); decoding uses --threads, as predict does.")
    var samplingThreads = 1

    @Option(help: "Threads for the fused decoder's window re-prefill.")
    var decoderThreads = PriorSampler.defaultDecoderThreads

    @Flag(help: "Print one JSON line.")
    var json = false

    func validate() throws {
        try validateThreads(threads)
        try validateThreads(samplingThreads, option: "--sampling-threads")
        try validateThreads(decoderThreads, option: "--decoder-threads")
        guard frames >= 1, trainSteps >= 1, runs >= 1 else {
            throw ValidationError("--frames, --train-steps, --runs and the thread counts must be at least 1")
        }
    }

    struct Report: Encodable {
        var parameters: Int
        var threads: Int
        var samplingThreads: Int
        var trainTokensPerStep: Int
        var trainTokensPerSecond: Double
        var uncachedTokensPerSecond: Double
        var cachedTokensPerSecond: Double
        var fusedTokensPerSecond: Double
        var framesPerSecond: Double
        var predictFramesPerSecond: Double
        var predictMP4FramesPerSecond: Double
        var runs: [String: [Double]]

        enum CodingKeys: String, CodingKey {
            case parameters, threads, runs
            case samplingThreads = "sampling_threads", trainTokensPerStep = "train_tokens_per_step"
            case trainTokensPerSecond = "train_tokens_per_second", uncachedTokensPerSecond = "uncached_tokens_per_second"
            case cachedTokensPerSecond = "cached_tokens_per_second", fusedTokensPerSecond = "fused_tokens_per_second"
            case framesPerSecond = "sampled_frames_per_second", predictFramesPerSecond = "predict_frames_per_second"
            case predictMP4FramesPerSecond = "predict_mp4_frames_per_second"
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
        let tok: VideoTokenizer
        if let tokenizer {
            tok = try VideoTokenizer(tokenizer)
        } else {
            var tc = VQVAEConfig()
            (tc.gridWidth, tc.gridHeight, tc.codebookSize) = (c.gridWidth, c.gridHeight, c.codebookSize)
            (tc.frameWidth, tc.frameHeight) = (8 * c.gridWidth, 8 * c.gridHeight)
            tok = try VideoTokenizer(model: VQVAE(config: tc), path: "fresh")
        }
        let t = tok.config
        guard t.gridWidth == c.gridWidth, t.gridHeight == c.gridHeight, t.codebookSize == c.codebookSize else {
            throw ValidationError("--tokenizer has a \(t.gridHeight)x\(t.gridWidth) grid with K = \(t.codebookSize); the prior expects \(c.gridHeight)x\(c.gridWidth), K = \(c.codebookSize)")
        }
        var rng = SplitMix64(seed: 3)
        let frameCount = max(c.contextFrames + frames + 1, c.trainingWindow + 1)
        let clip = CodeClip(codes: (0..<(frameCount * c.codesPerFrame)).map { _ in UInt16(rng.next() % UInt64(c.codebookSize)) },
                            frames: frameCount, gridH: c.gridHeight, gridW: c.gridWidth,
                            actions: (0..<frameCount).map { _ in Int32(rng.next() % UInt64(max(1, c.actionCount))) },
                            episodeStart: [true] + Array(repeating: false, count: frameCount - 1), fps: 15,
                            frameWidth: t.frameWidth, frameHeight: t.frameHeight, codebookSize: c.codebookSize,
                            tokenizerHash: source.tokenizerHash, source: "bench", sourceBytes: 0, actionNames: source.actionNames)
        let trainThreads = threads ?? Torch.allCores
        Torch.setThreads(trainThreads)
        let data = try PriorDataset(clips: Array(repeating: clip, count: 4))
        var options = PriorTrainingOptions()
        options.steps = 1 + runs * trainSteps
        options.batch = PriorTrainingOptions.batch(holding128FramesOf: c.trainingWindow)   // as `train prior`
        let trainer = try PriorTrainer(model: model, options: options, data: data)
        let fused = PriorSampler(model: model, source: source, engine: .fused, decoderThreads: decoderThreads)
        let libtorch = PriorSampler(model: model, source: source, engine: .libtorch)
        let context = try fused.context(from: clip, start: 0, frames: c.contextFrames)
        let actions = Array(clip.actions[(c.contextFrames - 1)..<(c.contextFrames - 1 + frames)].map { Int($0) })
        let mp4 = FileManager.default.temporaryDirectory.appendingPathComponent("framecast-bench-\(UUID().uuidString).mp4").path
        defer { try? FileManager.default.removeItem(atPath: mp4) }
        var train: [Double] = [], cached: [Double] = [], fusedTPS: [Double] = [], sampled: [Double] = []
        var predicted: [Double] = [], predictedMP4: [Double] = []
        var tokensPerStep = 0
        func seconds(_ body: () throws -> Void) rethrows -> Double {
            let t0 = Date()
            try body()
            return Date().timeIntervalSince(t0)
        }
        for r in 0..<runs {
            // Training throughput.
            Torch.setThreads(trainThreads)
            if r == 0 { _ = try trainer.trainStep() }
            var tokens = 0, trainSeconds = 0.0
            for _ in 0..<trainSteps { let s = try trainer.trainStep(); tokens += s.tokens; trainSeconds += s.seconds }
            tokensPerStep = tokens / trainSteps
            train.append(Double(tokens) / trainSeconds)

            // Sampling with each engine, then predict = fused sampling + decoding the frames (+ the MP4).
            Torch.setThreads(samplingThreads)
            let options = SamplingOptions(seed: UInt64(r + 1))
            if r == 0 {
                _ = try libtorch.rollout(context: context, actions: Array(actions.prefix(2)), samples: 1, options: options)
                _ = try fused.rollout(context: context, actions: Array(actions.prefix(2)), samples: 1, options: options)
                _ = try tok.model.decode(codes: Array(clip.codes.prefix(frames * c.codesPerFrame)), count: frames)
            }
            let torchSeconds = try seconds { _ = try libtorch.rollout(context: context, actions: actions, samples: 1, options: options) }
            cached.append(Double(frames * c.tokensPerFrame) / torchSeconds)
            var rollout: Rollout?
            let sampleSeconds = try seconds { rollout = try fused.rollout(context: context, actions: actions, samples: 1, options: options) }
            fusedTPS.append(Double(frames * c.tokensPerFrame) / sampleSeconds)
            sampled.append(Double(frames) / sampleSeconds)
            Torch.setThreads(trainThreads)  // as in `predict`: decoding and the MP4 use every core
            let decodeSeconds = try seconds { _ = try tok.model.decode(codes: rollout!.codes, count: frames) }
            predicted.append(Double(frames) / (sampleSeconds + decodeSeconds))
            // As `predict --mp4`: the video is decoded and written on a second thread during sampling.
            let mp4Seconds = try seconds {
                let truth = clip.excerpt(from: 0, to: min(clip.frames, context.frames + actions.count))
                let video = try PredictionVideo(path: mp4, tokenizer: tok, clip: clip, start: 0, context: context, future: actions,
                                                truth: truth, labels: ["PREDICTED"], scale: 4)
                _ = try fused.rollout(context: context, actions: actions, samples: 1, options: options,
                                      onFrame: { video.add(frame: $0, codes: $1) })
                try video.finish()
            }
            predictedMP4.append(Double(frames) / mp4Seconds)
        }
        // Uncached: one full-window forward per generated token.
        Torch.setThreads(samplingThreads)
        model.training = false
        let codes = try Tensor(clip.codes.prefix(c.contextFrames * c.codesPerFrame).map { Int64($0) }, shape: [1, c.contextFrames, c.codesPerFrame])
        let acts = try Tensor(clip.actions.prefix(c.contextFrames).map { Int64($0) }, shape: [1, c.contextFrames])
        try Tensor.noGrad { _ = try model.allLogits(codes: codes, actions: acts) }
        let reps = 5
        let uncachedTPS = Double(reps) / (try seconds { try Tensor.noGrad { for _ in 0..<reps { _ = try model.allLogits(codes: codes, actions: acts) } } })
        let report = Report(parameters: model.parameterCount, threads: trainThreads, samplingThreads: samplingThreads,
                            trainTokensPerStep: tokensPerStep, trainTokensPerSecond: median(train),
                            uncachedTokensPerSecond: uncachedTPS, cachedTokensPerSecond: median(cached),
                            fusedTokensPerSecond: median(fusedTPS), framesPerSecond: median(sampled),
                            predictFramesPerSecond: median(predicted), predictMP4FramesPerSecond: median(predictedMP4),
                            runs: ["train_tokens_per_second": train, "cached_tokens_per_second": cached,
                                   "fused_tokens_per_second": fusedTPS, "sampled_frames_per_second": sampled,
                                   "predict_frames_per_second": predicted, "predict_mp4_frames_per_second": predictedMP4])
        if json { try printJSON(report); return }
        let n = Double(c.tokensPerFrame)
        print(String(format: "prior %d params (%d layers, width %d, %dx%d grid, K=%d): training %.0f tokens/s (%d thread(s))",
                     report.parameters, c.layers, c.width, c.gridHeight, c.gridWidth, c.codebookSize, report.trainTokensPerSecond, trainThreads))
        print("sampling, batch 1, \(c.contextFrames) context frames, \(frames) frames (\(c.tokensPerFrame) tokens each)"
              + ", median of \(runs):")
        print(String(format: "  libtorch, no cache    %7.0f tokens/s %6.1f frames/s", uncachedTPS, uncachedTPS / n))
        print(String(format: "  libtorch, KV cache    %7.0f tokens/s %6.1f frames/s (%.1fx uncached; %d thread(s))",
                     report.cachedTokensPerSecond, report.cachedTokensPerSecond / n, report.cachedTokensPerSecond / uncachedTPS, samplingThreads))
        print(String(format: "  fused Swift decoder   %7.0f tokens/s %6.1f frames/s (%.1fx the KV cache; %d prefill thread(s))",
                     report.fusedTokensPerSecond, report.framesPerSecond, report.fusedTokensPerSecond / report.cachedTokensPerSecond, decoderThreads))
        print(String(format: "predict: sampling + tokenizer decode %.1f frames/s; + side-by-side MP4 %.1f frames/s",
                     report.predictFramesPerSecond, report.predictMP4FramesPerSecond))
    }
}
