import Foundation
import Metrics
import NN

/// Settings of a tokenizer training run. Stored in checkpoints so `--resume` continues the same run.
public struct TokenizerTrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps in total.
    public var steps = 3000
    /// Frames per batch.
    public var batch = 32
    /// Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to 10%.
    public var learningRate = 1e-3
    public var warmup = 100
    /// Weight of the L1 loss on horizontal and vertical image gradients (sharpness); 0 disables it.
    /// Off by default: in a fixed time budget it cost PSNR and did not buy SSIM at 8×8 (it costs
    /// ~15% a step).
    public var edgeWeight = 0.0
    /// Weight of 1 − SSIM (the metric's 11×11 Gaussian window) in the loss; 0 disables it.
    public var ssimWeight = 0.0
    /// Global gradient-norm clip.
    public var gradientClip = 1.0
    /// Seed for initialisation, batch sampling and code restarts.
    public var seed: UInt64 = 0
    /// Train only the decoder: the encoder and codebook stay fixed (no gradient, no EMA updates, no
    /// restarts), so every frame keeps its codes and code files and priors made with them stay valid.
    public var decoderOnly = false
    /// Compute the training forward pass's convolutions in bfloat16 (parameters, norms, losses and
    /// optimizer state stay float32). Evaluation, encoding and decoding stay float32.
    public var bfloat16Convolutions = false
    /// Weight of a patch discriminator's adversarial (hinge) loss; 0 disables it. The weight is
    /// relative: the term's gradient at the reconstruction is scaled to this fraction of the
    /// reconstruction losses' gradient there (VQGAN's adaptive weight, taken at the output).
    public var adversarialWeight = 0.0
    /// Step after which the discriminator trains and its loss applies (a reconstruction warm-up).
    public var adversarialStart = 0

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate, warmup, edgeWeight, ssimWeight, gradientClip, seed, decoderOnly
        case bfloat16Convolutions, adversarialWeight, adversarialStart
    }

    /// Checkpoints written before `ssimWeight` / `decoderOnly` / `bfloat16Convolutions` /
    /// `adversarialWeight` / `adversarialStart` existed read as 0 / false.
    public init(from decoder: any Swift.Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        warmup = try c.decode(Int.self, forKey: .warmup)
        edgeWeight = try c.decode(Double.self, forKey: .edgeWeight)
        ssimWeight = try c.decodeIfPresent(Double.self, forKey: .ssimWeight) ?? 0
        gradientClip = try c.decode(Double.self, forKey: .gradientClip)
        seed = try c.decode(UInt64.self, forKey: .seed)
        decoderOnly = try c.decodeIfPresent(Bool.self, forKey: .decoderOnly) ?? false
        bfloat16Convolutions = try c.decodeIfPresent(Bool.self, forKey: .bfloat16Convolutions) ?? false
        adversarialWeight = try c.decodeIfPresent(Double.self, forKey: .adversarialWeight) ?? 0
        adversarialStart = try c.decodeIfPresent(Int.self, forKey: .adversarialStart) ?? 0
    }
}

/// Figures from one training step.
public struct TokenizerStepStats: Sendable {
    public var step: Int
    public var loss: Double
    public var reconstructionMSE: Double
    public var edge: Double
    /// Batch SSIM of the reconstructions when the SSIM loss is on (else 0).
    public var ssim: Double
    public var commitment: Double
    public var codebookLoss: Double
    /// The decoder's adversarial loss −mean(D(x̂)) and its scale (0 while the discriminator is off).
    public var adversarial: Double = 0
    public var adversarialScale: Double = 0
    /// The discriminator's hinge loss (0 while it is off).
    public var discriminator: Double = 0
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

/// Trains a VQ-VAE on random frame batches: loss = MSE(x̂, x) + edge·L1(∇x̂, ∇x) + ssim·(1 − SSIM(x̂, x))
/// + ‖sg[z_e] − e‖² (when the codebook is not EMA-trained) + β‖z_e − sg[e]‖², plus, with
/// `adversarialWeight`, a patch discriminator's loss on x̂. With `decoderOnly`, only the
/// reconstruction (and adversarial) terms train the decoder on the fixed codes.
public final class TokenizerTrainer {
    public let model: VQVAE
    public private(set) var options: TokenizerTrainingOptions
    public let optimizer: AdamW
    public private(set) var schedule: WarmupCosine
    /// The patch discriminator and its optimizer, when `adversarialWeight` > 0.
    let adversary: (discriminator: PatchDiscriminator, optimizer: AdamW)?
    private let data: FrameBank

    /// Frames available for training.
    public var trainingFrames: Int { data.count }

    /// Steps completed.
    public var step: Int { optimizer.step }

    public init(model: VQVAE, options: TokenizerTrainingOptions, data: FrameBank) throws {
        guard data.width == model.config.frameWidth, data.height == model.config.frameHeight else {
            throw TorchError(op: "TokenizerTrainer", message: "frames are \(data.width)x\(data.height), the model expects \(model.config.frameWidth)x\(model.config.frameHeight)")
        }
        guard data.count > 0 else { throw TorchError(op: "TokenizerTrainer", message: "no training frames") }
        guard options.adversarialWeight == 0 || (data.width >= 16 && data.height >= 16) else {
            throw TorchError(op: "TokenizerTrainer", message: "the discriminator needs frames of at least 16x16")
        }
        self.model = model
        self.options = options
        self.data = data
        // Norm gains/biases, conv biases and the codebook are not weight-decayed.
        let trainable = options.decoderOnly ? model.namedParameters.filter { $0.0.hasPrefix("decoder.") } : model.namedParameters
        optimizer = AdamW(trainable, lr: options.learningRate, betas: (0.9, 0.99), weightDecay: 1e-4,
                          decays: { $0.hasSuffix(".weight") && !$0.contains("norm") })
        schedule = WarmupCosine(peak: options.learningRate, warmupSteps: options.warmup, totalSteps: options.steps,
                                floor: options.learningRate * 0.1)
        let d = options.adversarialWeight > 0 ? PatchDiscriminator() : nil
        adversary = d.map { ($0, AdamW($0.namedParameters, lr: options.learningRate, betas: (0.5, 0.9), weightDecay: 0)) }
    }

    /// Changes the run's length (e.g. once a time budget is converted to steps); the learning-rate
    /// schedule follows. Steps already taken are kept.
    public func setTotalSteps(_ steps: Int) {
        options.steps = max(steps, step)
        schedule = WarmupCosine(peak: options.learningRate, warmupSteps: options.warmup, totalSteps: options.steps,
                                floor: options.learningRate * 0.1)
    }

    /// Indices of step `step`'s batch: a function of (seed, step) only, so resumed runs see the same data.
    func batchIndices(step: Int) -> [Int] {
        var rng = SplitMix64(seed: options.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step))
        return (0..<options.batch).map { _ in Int(rng.next() % UInt64(data.count)) }
    }

    /// The reconstruction terms of the loss and their values: MSE, edge, SSIM.
    private func reconstructionLoss(_ reconstruction: Tensor, _ x: Tensor) throws -> (loss: Tensor, mse: Double, edge: Double, ssim: Double) {
        let recon = try F.mseLoss(reconstruction, x)
        var loss = recon
        var edge = 0.0
        if options.edgeWeight > 0 {
            let e = try Self.edgeLoss(reconstruction, x)
            edge = try e.item()
            loss = try loss + options.edgeWeight * e
        }
        var ssim = 0.0
        if options.ssimWeight > 0 {
            let similarity = try SSIMLoss.ssim(reconstruction, x)
            ssim = try similarity.item()
            loss = try loss + options.ssimWeight * (1 - similarity)
        }
        return (loss, try recon.item(), edge, ssim)
    }

    /// One optimizer step.
    public func trainStep() throws -> TokenizerStepStats {
        let started = Date()
        let next = step + 1
        Torch.manualSeed(options.seed &+ UInt64(next) &* 7919)
        let x = try FrameTensor.fromBytes(data.gather(batchIndices(step: next)), count: options.batch,
                                          width: data.width, height: data.height)
        let out = try Tensor.convolutionsInBFloat16(options.bfloat16Convolutions) {
            try model.forward(x, codesFixed: options.decoderOnly)
        }
        var quantizerLoss: Tensor?
        if !options.decoderOnly {
            quantizerLoss = try model.config.beta * out.quantized.commitment
            if model.config.emaDecay == 0 { quantizerLoss = try quantizerLoss! + out.quantized.codebookLoss }
        }
        let active = next > options.adversarialStart ? adversary : nil
        let terms: (loss: Tensor, mse: Double, edge: Double, ssim: Double)
        var loss: Tensor
        var generator = 0.0, scale = 0.0
        if let (discriminator, _) = active {
            // The reconstruction and adversarial gradients are taken at a detached copy of x̂ and
            // mixed there (the adversarial one scaled to `adversarialWeight` of the other's norm),
            // then sent through the decoder by one backward pass of ⟨x̂, g⟩.
            let leaf = try out.reconstruction.detach().requiresGrad(true)
            terms = try reconstructionLoss(leaf, x)
            try terms.loss.backward()
            let noGradient = TorchError(op: "TokenizerTrainer", message: "no gradient reached the reconstruction")
            guard let reconstructionGradient = leaf.grad else { throw noGradient }
            leaf.zeroGrad()
            let fakeScores = try Tensor.convolutionsInBFloat16(options.bfloat16Convolutions) { try discriminator(leaf) }
            let generatorLoss = try -fakeScores.mean()
            try generatorLoss.backward()
            guard let adversarialGradient = leaf.grad else { throw noGradient }
            generator = try generatorLoss.item()
            let ratio = try reconstructionGradient.square().sum().sqrt().item()
                / (adversarialGradient.square().sum().sqrt().item() + 1e-12)
            scale = min(options.adversarialWeight * ratio, 1e4)
            let gradient = try reconstructionGradient + scale * adversarialGradient
            loss = try (out.reconstruction * gradient).sum()
        } else {
            terms = try reconstructionLoss(out.reconstruction, x)
            loss = terms.loss
        }
        var lossValue = try terms.loss.item() + scale * generator
        if let quantizerLoss {
            loss = try loss + quantizerLoss
            lossValue += try quantizerLoss.item()
        }
        optimizer.zeroGrad()
        try loss.backward()
        _ = try optimizer.clipGradNorm(options.gradientClip)
        let lr = schedule(next)
        try optimizer.step(lr: lr)
        var discriminatorLoss = 0.0
        if let (discriminator, discriminatorOptimizer) = active {
            discriminatorOptimizer.zeroGrad()
            let fake = try out.reconstruction.detach()
            let d = try Tensor.convolutionsInBFloat16(options.bfloat16Convolutions) {
                try PatchDiscriminator.hingeLoss(real: discriminator(x), fake: discriminator(fake))
            }
            try d.backward()
            _ = try discriminatorOptimizer.clipGradNorm(options.gradientClip)
            try discriminatorOptimizer.step(lr: lr)
            discriminatorLoss = try d.item()
        }
        let cells = options.batch * model.config.gridWidth * model.config.gridHeight
        let restarted = options.decoderOnly ? 0 : try model.quantizer.update(
            out.latents, out.quantized.indices.reshape([-1]), deadThreshold: 0.1 * Double(cells) / Double(model.config.codebookSize))
        let codes = try out.quantized.indices.reshape([-1]).bincount(minLength: model.config.codebookSize).gt(0).to(.float32).sum().item()
        return TokenizerStepStats(
            step: next, loss: lossValue, reconstructionMSE: terms.mse, edge: terms.edge, ssim: terms.ssim,
            commitment: try out.quantized.commitment.item(), codebookLoss: try out.quantized.codebookLoss.item(),
            adversarial: generator, adversarialScale: scale, discriminator: discriminatorLoss,
            psnr: ImageMetrics.psnr(mse: terms.mse * 127.5 * 127.5), batchCodes: Int(codes), restarted: restarted,
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
