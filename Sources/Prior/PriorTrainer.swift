import Foundation
import NN

/// Settings of a prior training run. Stored in checkpoints so `--resume` continues the same run.
public struct PriorTrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps in total.
    public var steps = 5000
    /// Windows (of `PriorConfig.trainingWindow` frames) per batch.
    public var batch = 16
    /// Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to 10%.
    public var learningRate = 5e-4
    /// Linear warmup steps.
    public var warmup = 100
    /// AdamW weight decay on matrix weights (not embeddings, norms or biases).
    public var weightDecay = 0.1
    /// Global gradient-norm clip.
    public var gradientClip = 1.0
    /// Probability of replacing each frame's action by the no-action id while training.
    public var actionDropout = 0.1
    /// Loss weight of the codes of a frame whose action differs from the one before it (there only
    /// the action token says what happens next; elsewhere the motion so far mostly does). 1 = plain
    /// cross-entropy.
    public var actionChangeWeight = 1.0
    /// Probability of replacing each input code (never a target) by a uniformly random code while
    /// training, so the model learns to predict from imperfect pasts, as in its own rollouts.
    /// 0 = off (`train prior` defaults to 0.1, chosen by measurement).
    public var contextNoise = 0.0
    /// Final probability of replacing each input code of frames 2..F by a code drawn (T = 1) from
    /// the model's own teacher-forced prediction at that position, made by an extra gradient-free
    /// forward pass each step: pasts with the kind of errors the model makes in its rollouts
    /// (scheduled sampling, one step deep). It rises linearly from 0 at the first step to this
    /// value at the last, so the untrained model's near-uniform draws never swamp the data. 0 = off.
    public var contextSamples = 0.0
    /// Seed for initialisation, window sampling, action dropout and dropout masks.
    public var seed: UInt64 = 0

    public init() {}

    /// Windows per batch that hold 128 frames: 16 windows of 8 frames, or 8 of 16 (at least 1).
    /// `train prior`'s default, so learned and rotary priors see the same tokens per step.
    public static func batch(holding128FramesOf windowFrames: Int) -> Int { max(1, 128 / windowFrames) }

    private enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate, warmup, weightDecay, gradientClip, actionDropout, actionChangeWeight, contextNoise, contextSamples, seed
    }

    /// Checkpoints written before `actionChangeWeight`, `contextNoise` or `contextSamples` existed
    /// read as 1, 0 and 0.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        warmup = try c.decode(Int.self, forKey: .warmup)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        gradientClip = try c.decode(Double.self, forKey: .gradientClip)
        actionDropout = try c.decode(Double.self, forKey: .actionDropout)
        actionChangeWeight = try c.decodeIfPresent(Double.self, forKey: .actionChangeWeight) ?? 1
        contextNoise = try c.decodeIfPresent(Double.self, forKey: .contextNoise) ?? 0
        contextSamples = try c.decodeIfPresent(Double.self, forKey: .contextSamples) ?? 0
        seed = try c.decode(UInt64.self, forKey: .seed)
    }
}

/// Figures from one training step.
public struct PriorStepStats: Sendable {
    public var step: Int
    /// Mean cross-entropy of the batch's target codes, in nats.
    public var loss: Double
    /// The same in bits per token.
    public var bitsPerToken: Double
    /// Gradient norm before clipping.
    public var gradientNorm: Double
    public var learningRate: Double
    /// Target tokens in the batch.
    public var tokens: Int
    public var seconds: Double
}

/// Trains a `PriorModel` on windows of code clips with teacher forcing: cross-entropy on the codes
/// of frames 2..C of each window (the first frame has no past), AdamW with warmup + cosine decay
/// and gradient clipping. Batches are a pure function of (seed, step), so a resumed run repeats an
/// uninterrupted one exactly.
public final class PriorTrainer {
    public let model: PriorModel
    public private(set) var options: PriorTrainingOptions
    public let data: PriorDataset
    public let optimizer: AdamW
    public private(set) var schedule: WarmupCosine
    /// Every training window (clip, start).
    public let windows: [PriorDataset.Window]
    /// Baselines fitted on the training data (unigram frequencies, copy-previous ε).
    public let baselines: Baselines

    /// Steps completed.
    public var step: Int { optimizer.step }

    /// - Throws: `PriorError` when the data does not fit the model (K, grid, action ids) or has no window.
    public init(model: PriorModel, options: PriorTrainingOptions, data: PriorDataset) throws {
        try data.source.check(model.config)
        try Self.checkActions(data, actionCount: model.config.actionCount)
        windows = data.windows(length: model.config.trainingWindow)
        guard !windows.isEmpty else { throw PriorError(.noWindows(frames: model.config.trainingWindow)) }
        self.model = model
        self.options = options
        self.data = data
        baselines = Baselines(fittedOn: data, codebookSize: model.config.codebookSize)
        optimizer = AdamW(model.namedParameters, lr: options.learningRate, betas: (0.9, 0.95), weightDecay: options.weightDecay,
                          decays: { $0.hasPrefix("blocks.") && $0.hasSuffix(".weight") && !$0.contains(".ln") || $0 == "head.weight" })
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

    /// A trainer for a fresh model of `config`, initialised from `options.seed`.
    public convenience init(config: PriorConfig, options: PriorTrainingOptions, data: PriorDataset) throws {
        Torch.manualSeed(options.seed)
        try self.init(model: PriorModel(config: config), options: options, data: data)
    }

    static func checkActions(_ data: PriorDataset, actionCount: Int) throws {
        for (clip, name) in zip(data.clips, data.names) {
            if let bad = clip.actions.first(where: { Int($0) >= actionCount || $0 < -1 }) {
                throw PriorError(file: name, .actionOutOfRange(id: Int(bad), actionCount: actionCount))
            }
        }
    }

    /// Step `step`'s windows, action-dropout and context-noise draws: a function of (seed, step) only.
    func batch(step: Int) throws -> WindowBatch {
        var rng = SplitMix64(seed: options.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step))
        let chosen = (0..<options.batch).map { _ in windows[Int(rng.next() % UInt64(windows.count))] }
        let frames = model.config.trainingWindow
        let drops = (0..<(options.batch * frames)).map { _ in rng.unit() < options.actionDropout }
        // Noise draws come from their own stream, so runs without noise keep their batches.
        var batch = try WindowBatch(data, chosen, frames: frames, config: model.config, actionChangeWeight: options.actionChangeWeight,
                                    dropAction: { drops[$0 * frames + $1] })
        if options.contextNoise > 0 {
            var noise = SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &+ 0x6E6F_6973_65)
            let k = UInt64(model.config.codebookSize)
            var changes: [(index: Int, code: Int64)] = []
            for i in 0..<batch.codes.numel where noise.unit() < options.contextNoise { changes.append((i, Int64(noise.next() % k))) }
            try batch.replaceInputs(changes)
        }
        return batch
    }

    /// `batch` with some input codes of frames 1..<F replaced by the model's own draws (see
    /// `contextSamples`); the positions and draws are a function of (seed, step) and the weights.
    func selfSampled(_ batch: WindowBatch, step: Int) throws -> WindowBatch {
        let p = options.contextSamples * Double(step) / Double(max(options.steps, 1))
        guard p > 0 else { return batch }
        let (hw, frames, k) = (model.config.codesPerFrame, model.config.trainingWindow, model.config.codebookSize)
        let windowCount = batch.codes.size(0)
        var rng = SplitMix64(seed: options.seed &* 0xD1B5_4A32_D192_ED03 &+ UInt64(step) &+ 0x7365_6C66)
        // (input index into codes [B, F, hw], row of the logits [B, (F−1)·hw, K] predicting it)
        var chosen: [(input: Int, row: Int)] = []
        for b in 0..<windowCount {
            for f in 1..<frames {
                for j in 0..<hw where rng.unit() < p {
                    chosen.append(((b * frames + f) * hw + j, (b * (frames - 1) + f - 1) * hw + j))
                }
            }
        }
        guard !chosen.isEmpty else { return batch }
        model.training = false
        let logits = try Tensor.noGrad { try model.codeLogits(codes: batch.codes, actions: batch.actions).floats() }
        var rows = [Float](); rows.reserveCapacity(chosen.count * k)
        for c in chosen { rows += logits[(c.row * k)..<((c.row + 1) * k)] }
        var sampler = TokenSampler(SamplingOptions(temperature: 1, seed: options.seed &+ UInt64(step) &* 0x2F6B_5E1D))
        let drawn = sampler.sample(rows, rows: chosen.count, k: k)
        var out = batch
        try out.replaceInputs(zip(chosen, drawn).map { ($0.input, $1) })
        return out
    }

    /// One optimizer step.
    public func trainStep() throws -> PriorStepStats {
        let started = Date()
        let next = step + 1
        Torch.manualSeed(options.seed &+ UInt64(next) &* 7919)
        let batch = try selfSampled(batch(step: next), step: next)
        model.training = true
        defer { model.training = false }
        let (weighted, plain) = try batch.trainingNats(model)
        let loss = try weighted / batch.weightSum
        optimizer.zeroGrad()
        try loss.backward()
        let norm = try optimizer.clipGradNorm(options.gradientClip)
        let lr = schedule(next)
        try optimizer.step(lr: lr)
        let nats = plain / Double(batch.tokenCount)
        return PriorStepStats(step: next, loss: nats, bitsPerToken: nats / log(2), gradientNorm: norm, learningRate: lr,
                              tokens: batch.tokenCount, seconds: Date().timeIntervalSince(started))
    }

    /// Runs steps until `options.steps` (or `until`), calling `report` after each.
    public func train(until last: Int? = nil, report: (PriorStepStats) throws -> Void = { _ in }) throws {
        while step < (last ?? options.steps) { try report(trainStep()) }
    }
}
