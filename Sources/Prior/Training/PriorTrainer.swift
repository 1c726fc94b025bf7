import Foundation
import NN

/// Settings of a prior training run. Stored in checkpoints so `--resume` continues the same run.
/// The shipped values are FramecastKit's `Recipe.priorTraining`.
public struct PriorTrainingOptions: Codable, Sendable, Equatable {
    /// Optimizer steps in total.
    public var steps = 3400
    /// Windows (of `PriorConfig.trainingWindow` frames) per batch.
    public var batch = 8
    /// Peak learning rate (AdamW), reached after `warmup` steps, then cosine decay to 10%.
    public var learningRate = 8e-4
    /// Linear warmup steps.
    public var warmup = 100
    /// AdamW weight decay on matrix weights (not embeddings, norms or biases).
    public var weightDecay = 0.1
    /// Global gradient-norm clip.
    public var gradientClip = 1.0
    /// Probability of replacing each frame's action by the no-action id while training.
    public var actionDropout = 0.1
    /// Probability of replacing each input code (never a target) by a uniformly random code while
    /// training, so the model learns to predict from imperfect pasts, as in its own rollouts.
    public var contextNoise = 0.1
    /// Seed for initialisation, window sampling, action dropout and dropout masks.
    public var seed: UInt64 = 0

    public init() {}

    /// Windows per batch that hold 128 frames: 8 windows of 16 frames (at least 1).
    public static func batch(holding128FramesOf windowFrames: Int) -> Int { max(1, 128 / windowFrames) }

    private enum CodingKeys: String, CodingKey {
        case steps, batch, learningRate, warmup, weightDecay, gradientClip, actionDropout, contextNoise, seed
        case actionChangeWeight, contextSamples
    }

    /// Checkpoints written before `contextNoise` existed read as 0. A run that used a removed
    /// feature (the action-change loss weight, scheduled sampling: see docs/experiments.md) is
    /// refused with an error naming it.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        steps = try c.decode(Int.self, forKey: .steps)
        batch = try c.decode(Int.self, forKey: .batch)
        learningRate = try c.decode(Double.self, forKey: .learningRate)
        warmup = try c.decode(Int.self, forKey: .warmup)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        gradientClip = try c.decode(Double.self, forKey: .gradientClip)
        actionDropout = try c.decode(Double.self, forKey: .actionDropout)
        contextNoise = try c.decodeIfPresent(Double.self, forKey: .contextNoise) ?? 0
        seed = try c.decode(UInt64.self, forKey: .seed)
        if (try c.decodeIfPresent(Double.self, forKey: .actionChangeWeight) ?? 1) != 1 {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "the run uses the action-change loss weight (actionChangeWeight), which framecast no longer has (see docs/experiments.md); start a new run"))
        }
        if (try c.decodeIfPresent(Double.self, forKey: .contextSamples) ?? 0) != 0 {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription:
                "the run uses scheduled sampling (contextSamples), which framecast no longer has (see docs/experiments.md); start a new run"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(steps, forKey: .steps)
        try c.encode(batch, forKey: .batch)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(gradientClip, forKey: .gradientClip)
        try c.encode(actionDropout, forKey: .actionDropout)
        try c.encode(contextNoise, forKey: .contextNoise)
        try c.encode(seed, forKey: .seed)
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
    /// Data parallelism (`join`): the group whose ranks each take an equal share of every batch.
    public private(set) var group: ProcessGroup?

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
        optimizer = Self.optimizer(for: model, learningRate: options.learningRate, weightDecay: options.weightDecay)
        schedule = WarmupCosine(peak: options.learningRate, warmupSteps: options.warmup, totalSteps: options.steps,
                                floor: options.learningRate * 0.1)
    }

    /// The optimizer of a prior's training: AdamW with betas (0.9, 0.95), weight decay on the
    /// blocks' and the head's matrices only (not embeddings, norms or biases).
    static func optimizer(for model: PriorModel, learningRate: Double, weightDecay: Double) -> AdamW {
        AdamW(model.namedParameters, lr: learningRate, betas: (0.9, 0.95), weightDecay: weightDecay,
              decays: { $0.hasPrefix("blocks.") && $0.hasSuffix(".weight") && !$0.contains(".ln") || $0 == "head.weight" })
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

    /// Joins a data-parallel group: every rank gets rank 0's weights and optimizer state, then
    /// takes rows `rank·B/N ..< (rank+1)·B/N` of each step's batch and the gradients are summed over
    /// the ranks, so N processes follow the run of one with the whole batch (exactly so without
    /// dropout, as in the recipe: dropout masks are drawn per process).
    /// - Throws: `PriorError` when the batch does not split evenly; the group's errors.
    public func join(_ group: ProcessGroup) throws {
        guard options.batch % group.size == 0 else {
            throw PriorError(.dataParallel("the batch (\(options.batch) windows) must split evenly over \(group.size) processes"))
        }
        try group.broadcast(model.namedParameters.map(\.1))
        let state = optimizer.namedState.map(\.1)
        if !state.isEmpty { try group.broadcast(state) }
        self.group = group
    }

    /// This process's rows of every batch.
    private var shard: Range<Int> {
        guard let group else { return 0..<options.batch }
        let n = options.batch / group.size
        return (group.rank * n)..<((group.rank + 1) * n)
    }

    /// Step `step`'s windows, action-dropout and context-noise draws: a function of (seed, step)
    /// only, drawn for the whole batch; a process of a group builds only its rows.
    func batch(step: Int) throws -> WindowBatch {
        var rng = SplitMix64(seed: options.seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(step))
        let chosen = (0..<options.batch).map { _ in windows[Int(rng.next() % UInt64(windows.count))] }
        let frames = model.config.trainingWindow
        let drops = (0..<(options.batch * frames)).map { _ in rng.unit() < options.actionDropout }
        let rows = shard
        // Noise draws come from their own stream, so runs without noise keep their batches.
        var batch = try WindowBatch(data, Array(chosen[rows]), frames: frames, config: model.config,
                                    dropAction: { drops[(rows.lowerBound + $0) * frames + $1] })
        if options.contextNoise > 0 {
            var noise = SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &+ 0x6E6F_6973_65)
            let k = UInt64(model.config.codebookSize)
            let perRow = batch.codes.numel / rows.count, mine = (rows.lowerBound * perRow)..<(rows.upperBound * perRow)
            var changes: [(index: Int, code: Int64)] = []
            for i in 0..<(options.batch * perRow) where noise.unit() < options.contextNoise {
                let code = Int64(noise.next() % k)
                if mine.contains(i) { changes.append((i - mine.lowerBound, code)) }
            }
            try batch.replaceInputs(changes)
        }
        return batch
    }

    /// One optimizer step.
    public func trainStep() throws -> PriorStepStats {
        let started = Date()
        let next = step + 1
        Torch.manualSeed(options.seed &+ UInt64(next) &* 7919)
        let batch = try batch(step: next)
        model.training = true
        defer { model.training = false }
        var sum = try batch.nats(model)                                          // summed cross-entropy, nats
        let tokens = batch.tokenCount * (group?.size ?? 1)                         // the whole batch's
        if group != nil {
            // Every parameter takes part, so every rank has a gradient for each (zeros where unused).
            for (_, p) in model.namedParameters { sum = try sum + p.sum() * 0 }
        }
        var plain = try sum.item()
        let loss = try sum / Double(tokens)
        optimizer.zeroGrad()
        try loss.backward()
        if let group {
            let total = try Tensor([Float(plain)], shape: [1])
            try group.sumGradients(of: model.namedParameters, with: [total], step: next)
            plain = Double(try total.item())
        }
        let norm = try optimizer.clipGradNorm(options.gradientClip)
        let lr = schedule(next)
        try optimizer.step(lr: lr)
        let nats = plain / Double(tokens)
        return PriorStepStats(step: next, loss: nats, bitsPerToken: nats / log(2), gradientNorm: norm, learningRate: lr,
                              tokens: tokens, seconds: Date().timeIntervalSince(started))
    }

    /// Runs steps until `options.steps` (or `until`), calling `report` after each.
    public func train(until last: Int? = nil, report: (PriorStepStats) throws -> Void = { _ in }) throws {
        while step < (last ?? options.steps) { try report(trainStep()) }
    }
}
