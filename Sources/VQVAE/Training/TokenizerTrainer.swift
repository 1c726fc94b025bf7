import Foundation
import FrameMetrics
import NN

/// Settings of a tokenizer training run. Stored in checkpoints so `--resume` continues the same run.
/// The shipped values are FramecastKit's `Recipe.tokenizerTraining`.
public struct TokenizerTrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps in total.
    public var steps = 3000
    /// Frames per batch.
    public var batch = 32
    /// Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to 10%.
    public var learningRate = 1e-3
    public var warmup = 100
    /// Weight of the L1 loss on horizontal and vertical image gradients (sharpness); 0 disables it.
    public var edgeWeight = 0.5
    /// Global gradient-norm clip.
    public var gradientClip = 1.0
    /// Seed for initialisation, batch sampling and code restarts.
    public var seed: UInt64 = 0
    /// Compute the training forward pass's convolutions in bfloat16 (parameters, norms, losses and
    /// optimizer state stay float32). Evaluation, encoding and decoding stay float32.
    public var bfloat16Convolutions = false

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate, warmup, edgeWeight, gradientClip, seed, bfloat16Convolutions
        case ssimWeight, decoderOnly, adversarialWeight
    }

    /// Checkpoints written before `bfloat16Convolutions` existed read as false. A run that used a
    /// removed feature (the SSIM loss, decoder-only training, the patch discriminator: see
    /// docs/experiments.md) is refused with an error naming it.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        warmup = try c.decode(Int.self, forKey: .warmup)
        edgeWeight = try c.decode(Double.self, forKey: .edgeWeight)
        gradientClip = try c.decode(Double.self, forKey: .gradientClip)
        seed = try c.decode(UInt64.self, forKey: .seed)
        bfloat16Convolutions = try c.decodeIfPresent(Bool.self, forKey: .bfloat16Convolutions) ?? false
        let removed: [(String, Bool)] = [
            ("the SSIM loss (ssimWeight)", (try c.decodeIfPresent(Double.self, forKey: .ssimWeight) ?? 0) != 0),
            ("decoder-only training (decoderOnly)", try c.decodeIfPresent(Bool.self, forKey: .decoderOnly) ?? false),
            ("the patch discriminator (adversarialWeight)", (try c.decodeIfPresent(Double.self, forKey: .adversarialWeight) ?? 0) != 0),
        ]
        if let feature = removed.first(where: \.1) {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "the run uses \(feature.0), which framecast no longer has (see docs/experiments.md); start a new run"))
        }
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(batch, forKey: .batch)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(edgeWeight, forKey: .edgeWeight)
        try c.encode(gradientClip, forKey: .gradientClip)
        try c.encode(seed, forKey: .seed)
        try c.encode(bfloat16Convolutions, forKey: .bfloat16Convolutions)
    }
}

/// Figures from one training step.
public struct TokenizerStepStats: Sendable {
    public var step: Int
    public var loss: Double
    public var reconstructionMSE: Double
    public var edge: Double
    public var commitment: Double
    public var codebookLoss: Double
    /// PSNR of the batch's reconstruction MSE (not capped per frame).
    public var psnr: Double
    /// Distinct codes used in the batch.
    public var batchCodes: Int
    public var restarted: Int
    public var learningRate: Double
    public var seconds: Double
}

/// Tokenizer quality on a set of frames.
public struct TokenizerEvaluation: Codable, Sendable {
    public var frames: Int
    /// Mean per-frame PSNR, each frame capped at 50 dB.
    public var psnr: Double
    /// PSNR of the mean MSE over all frames.
    public var psnrOfMeanMSE: Double
    public var ssim: Double
    /// Edge detail of the reconstructions relative to the frames' (`ImageMetrics.gradientEnergy`
    /// summed over frames, reconstruction / source): 1 is as sharp as the source, below is blurrier.
    public var sharpness: Double
    public var codesUsed: Int
    public var codebookSize: Int
    public var usage: Double
    public var perplexity: Double
    public var bitsPerFrame: Double
    public var compressionRatio: Double
    /// How often each code was used (for histograms).
    public var codeCounts: [Int]?

    enum CodingKeys: String, CodingKey {
        case frames, psnr, ssim, sharpness, usage, perplexity
        case psnrOfMeanMSE = "psnr_of_mean_mse", codesUsed = "codes_used", codebookSize = "codebook_size"
        case bitsPerFrame = "bits_per_frame", compressionRatio = "compression_ratio", codeCounts = "code_counts"
    }
}

/// Trains a VQ-VAE on random frame batches: loss = MSE(x̂, x) + edge·L1(∇x̂, ∇x)
/// + ‖sg[z_e] − e‖² (when the codebook is not EMA-trained) + β‖z_e − sg[e]‖².
public final class TokenizerTrainer {
    public let model: VQVAE
    public private(set) var options: TokenizerTrainingOptions
    public let optimizer: AdamW
    public private(set) var schedule: WarmupCosine
    private let data: FrameBank

    /// Frames available for training.
    public var trainingFrames: Int { data.count }

    /// Steps completed.
    public var step: Int { optimizer.step }
    /// Data parallelism (`join`): the group whose ranks each take an equal share of every batch.
    public private(set) var group: ProcessGroup?

    /// Joins a data-parallel group: every rank gets rank 0's weights, codebook statistics and
    /// optimizer state, then takes frames `rank·B/N ..< (rank+1)·B/N` of each step's batch; the
    /// gradients are averaged and the codebook's EMA statistics summed over the ranks, so N
    /// processes follow one with the whole batch.
    /// - Throws: when the batch does not split evenly; the group's errors.
    public func join(_ group: ProcessGroup) throws {
        guard options.batch % group.size == 0 else {
            throw TorchError(op: "train tokenizer", message: "data-parallel training: the batch (\(options.batch) frames) must split evenly over \(group.size) processes")
        }
        try group.broadcast(model.stateDict.map(\.1))
        let state = optimizer.namedState.map(\.1)
        if !state.isEmpty { try group.broadcast(state) }
        self.group = group
    }

    public init(model: VQVAE, options: TokenizerTrainingOptions, data: FrameBank) throws {
        guard data.width == model.config.frameWidth, data.height == model.config.frameHeight else {
            throw TorchError(op: "TokenizerTrainer", message: "frames are \(data.width)x\(data.height), the model expects \(model.config.frameWidth)x\(model.config.frameHeight)")
        }
        guard data.count > 0 else { throw TorchError(op: "TokenizerTrainer", message: "no training frames") }
        self.model = model
        self.options = options
        self.data = data
        // Norm gains/biases, conv biases and the codebook are not weight-decayed.
        optimizer = AdamW(model.namedParameters, lr: options.learningRate, betas: (0.9, 0.99), weightDecay: 1e-4,
                          decays: { $0.hasSuffix(".weight") && !$0.contains("norm") })
        schedule = WarmupCosine(peak: options.learningRate, warmupSteps: options.warmup, totalSteps: options.steps,
                                floor: options.learningRate * 0.1)
    }

    /// Changes the run's length (e.g. once a time budget is converted to steps); the learning-rate
    /// schedule follows. Steps already taken are kept.
    public func setTotalSteps(_ steps: Int) {
        options.steps = max(steps, step)
        schedule = WarmupCosine(peak: options.learningRate, warmupSteps: options.warmup, totalSteps: options.steps,
                                floor: options.learningRate * 0.1)
    }

    /// Indices of step `step`'s batch: a function of (seed, step) only, so resumed runs see the same data.
    /// In a group, this rank's share of them.
    func batchIndices(step: Int) -> [Int] {
        var rng = SplitMix64(seed: options.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step))
        let all = (0..<options.batch).map { _ in Int(rng.next() % UInt64(data.count)) }
        guard let group else { return all }
        let n = options.batch / group.size
        return Array(all[(group.rank * n)..<((group.rank + 1) * n)])
    }

    /// One optimizer step.
    public func trainStep() throws -> TokenizerStepStats {
        let started = Date()
        let next = step + 1
        Torch.manualSeed(options.seed &+ UInt64(next) &* 7919)
        let indices = batchIndices(step: next)
        let x = try FrameTensor.fromBytes(data.gather(indices), count: indices.count,
                                          width: data.width, height: data.height)                     // [B, 3, H, W] (B/N in a group)
        let out = try Tensor.convolutionsInBFloat16(options.bfloat16Convolutions) { try model.forward(x) }
        let mse = try F.mseLoss(out.reconstruction, x)
        var loss = mse
        var edge = 0.0
        if options.edgeWeight > 0 {
            let e = try Self.edgeLoss(out.reconstruction, x)
            edge = try e.item()
            loss = try loss + options.edgeWeight * e
        }
        var quantizerLoss = try model.config.beta * out.quantized.commitment
        if model.config.emaDecay == 0 { quantizerLoss = try quantizerLoss + out.quantized.codebookLoss }
        var lossValue = try loss.item() + quantizerLoss.item()
        loss = try loss + quantizerLoss
        optimizer.zeroGrad()
        try loss.backward()
        var mseValue = try mse.item()
        if let group {
            // Each rank's loss is a mean over its frames: the whole batch's gradient is the mean of theirs.
            let figures = try Tensor([Float(lossValue), Float(mseValue)], shape: [2])
            try group.sumGradients(of: model.namedParameters, with: [figures], step: next)
            for (_, p) in model.namedParameters { try p.grad?.mulInPlace(1 / Double(group.size)) }
            let means = try figures.floats().map { Double($0) / Double(group.size) }
            (lossValue, mseValue) = (means[0], means[1])
        }
        _ = try optimizer.clipGradNorm(options.gradientClip)
        let lr = schedule(next)
        try optimizer.step(lr: lr)
        let cells = options.batch * model.config.gridWidth * model.config.gridHeight
        let restarted = try model.quantizer.update(
            out.latents, out.quantized.indices.reshape([-1]), deadThreshold: 0.1 * Double(cells) / Double(model.config.codebookSize),
            group: group)
        let used = try out.quantized.indices.reshape([-1]).bincount(minLength: model.config.codebookSize).to(.float32)
        try group?.allReduceSum([used])
        let codes = try used.gt(0).to(.float32).sum().item()
        return TokenizerStepStats(
            step: next, loss: lossValue, reconstructionMSE: mseValue, edge: edge,
            commitment: try out.quantized.commitment.item(), codebookLoss: try out.quantized.codebookLoss.item(),
            psnr: ImageMetrics.psnr(mse: mseValue * 127.5 * 127.5), batchCodes: Int(codes), restarted: restarted,
            learningRate: lr, seconds: Date().timeIntervalSince(started))
    }

    /// Mean |Δ| between the horizontal and vertical differences of two image batches.
    static func edgeLoss(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        func dx(_ t: Tensor) throws -> Tensor { try t.slice(dim: 3, start: 1) - t.slice(dim: 3, end: t.size(3) - 1) }
        func dy(_ t: Tensor) throws -> Tensor { try t.slice(dim: 2, start: 1) - t.slice(dim: 2, end: t.size(2) - 1) }
        return try F.l1Loss(dx(a), dx(b)) + F.l1Loss(dy(a), dy(b))
    }
}

extension VQVAE {
    /// PSNR, SSIM and codebook figures of this model on `frames` (at most `limit`, evenly spaced).
    public func evaluate(_ frames: FrameBank, limit: Int = 1024, batch: Int = 64, keepCounts: Bool = false) throws -> TokenizerEvaluation {
        let indices = frames.evenlySpaced(limit)
        var stats = CodebookStats(size: config.codebookSize)
        var psnrSum = 0.0, mseSum = 0.0, ssimSum = 0.0, sourceEdges = 0.0, reconstructionEdges = 0.0
        for start in stride(from: 0, to: indices.count, by: batch) {
            let chunk = Array(indices[start..<min(start + batch, indices.count)])
            let input = frames.gather(chunk)
            let codes = try encode(frames: input, count: chunk.count)
            stats.add(codes)
            let output = try decode(codes: codes, count: chunk.count)
            let n = frames.frameBytes
            for i in 0..<chunk.count {
                let a = Array(input[(i * n)..<((i + 1) * n)]), b = Array(output[(i * n)..<((i + 1) * n)])
                let mse = ImageMetrics.mse(a, b)
                mseSum += mse
                psnrSum += ImageMetrics.psnr(mse: mse)
                ssimSum += ImageMetrics.ssim(a, b, width: frames.width, height: frames.height)
                sourceEdges += ImageMetrics.gradientEnergy(a, width: frames.width, height: frames.height)
                reconstructionEdges += ImageMetrics.gradientEnergy(b, width: frames.width, height: frames.height)
            }
        }
        let count = Double(indices.count)
        let cells = config.gridWidth * config.gridHeight
        return TokenizerEvaluation(
            frames: indices.count, psnr: psnrSum / count, psnrOfMeanMSE: ImageMetrics.psnr(mse: mseSum / count),
            ssim: ssimSum / count, sharpness: sourceEdges > 0 ? reconstructionEdges / sourceEdges : 1, codesUsed: stats.used, codebookSize: config.codebookSize, usage: stats.usage,
            perplexity: stats.perplexity, bitsPerFrame: stats.bitsPerFrame(cells: cells),
            compressionRatio: stats.compressionRatio(width: config.frameWidth, height: config.frameHeight, cells: cells),
            codeCounts: keepCounts ? stats.counts : nil)
    }
}
