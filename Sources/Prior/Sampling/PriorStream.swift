import NN

/// An open-ended rollout of a prior with rotary frame positions: frames are generated one at a
/// time, each under the action given when it is asked for, so the rollout never has to end (a
/// game loop, `Predictor.step`). The window is fed once; each new frame's tokens are appended and,
/// once the window holds `contextFrames` frames, its oldest frame is dropped from the cache
/// (`RolloutDecoder.dropOldestFrame`) instead of feeding the kept frames again. This gives exactly
/// the logits of one forward pass over the whole rollout with attention banded to `contextFrames`
/// frames, as the model was trained, and the same codes as `PriorSampler.rollout` given the same
/// actions up front.
///
/// A frame's last code is fed together with the action that follows it, so it waits until the
/// next call. Guidance twins: before a frame whose latest action differs from the twins' baseline
/// (the previous action), each sample's cache is copied to its twin, and the last code is fed to
/// both followed by the true action (samples) or the baseline (twins); frames that follow a held
/// action (u = c exactly) feed no twin rows.
public final class PriorStream {
    private let config: PriorConfig
    private let decoder: any RolloutDecoder
    private var history: RolloutHistory
    private var sampler: TokenSampler
    private let observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?
    /// Context frames n, and the first frame fed (frame indices for the decoder count from it).
    private let contextFrames: Int, start: Int
    /// Frames generated so far.
    public private(set) var generated = 0
    /// Rows fed at the current frame (samples, or samples and twins), frames in the cache, the
    /// logits for the next code, and the last code of the newest frame, not fed yet.
    private var live = 0, cached = 0
    private var logits: [Float] = []
    private var pending: [Int64] = []
    /// Samples S.
    public var samples: Int { history.samples }

    init(sampler owner: PriorSampler, context: PriorContext, samples: Int, options: SamplingOptions,
         observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?) throws {
        config = owner.model.config
        decoder = switch owner.engine {
        case .fused: PriorDecoder(weights: try owner.packedWeights(), samples: options.actionGuidance != 1 ? 2 * samples : samples,
                                  threads: owner.decoderThreads)
        case .libtorch: TorchDecoder(model: owner.model)
        }
        history = RolloutHistory(context: context, actions: [], samples: samples, options: options, config: config)
        sampler = TokenSampler(options, codeVectors: owner.codeVectors)
        self.observe = observe
        contextFrames = context.frames
        start = max(0, context.frames - (config.contextFrames - 1))
    }

    /// The sampling temperature of the next frames (0: greedy); the random stream goes on.
    public var temperature: Double {
        get { sampler.options.temperature }
        set { sampler.options.temperature = newValue }
    }

    /// Generates the next frame under `action` (an action id; −1: none, the no-action id), which is
    /// taken after the newest frame (the last context frame, at first).
    /// - Returns: every sample's codes `[S, h, w]`.
    public func next(action: Int) throws -> [UInt16] {
        guard action >= -1, action < config.actionCount else {
            throw PriorError(.actionOutOfRange(id: action, actionCount: config.actionCount))
        }
        let hw = config.codesPerFrame, samples = history.samples, rows = history.rows
        let model = history.modelAction(action)
        return try Tensor.noGrad {
            if generated == 0 {
                try prefill(action: model)
            } else {
                try feedPending(action: model)
            }
            let m = contextFrames + generated                 // absolute index of the frame being generated
            let f = m - start                                   // its frame index for the decoder
            var frameCodes = [Int64](repeating: 0, count: rows * hw)
            let previous = Array(history.latest(m - 1)[..<live])
            for j in 0..<hw {
                let picked = history.pick(logits, frame: m, slot: j, into: &frameCodes, sampler: &sampler, observe: observe)
                if j < hw - 1 {
                    logits = try decoder.step(DecoderStep(codes: live > samples ? picked + picked : picked, slot: j, frame: f,
                                                          previousActions: previous))
                } else {
                    pending = picked
                }
            }
            history.append(codes: frameCodes, nextAction: -1)   // its action is set by the next call
            generated += 1
            return frameCodes[..<(samples * hw)].map { UInt16($0) }
        }
    }

    /// Feeds the context to every live row: the last frame followed by the rows' latest actions.
    private func prefill(action: Int64) throws {
        let hw = config.codesPerFrame, samples = history.samples, rows = history.rows, n = contextFrames
        history.setAction(after: n - 1, action)
        live = history.needsTwins(after: n - 1) ? rows : samples
        let last = history.latest(n - 1)
        let batch = live > samples ? live : 1
        var codes: [Int64] = [], acts: [Int64] = []                                             // [B, F, hw], [B, F]
        for r in 0..<batch {
            for f in start..<n { codes += history.frameCodes[f][(r * hw)..<((r + 1) * hw)] }
            acts += (start..<n).map { $0 == n - 1 ? last[r] : history.frameActions[$0][r] }
        }
        logits = try decoder.prefill(codes: codes, actions: acts, batch: batch, frames: n - start)
        if batch == 1 {
            logits = Array(repeating: logits, count: samples).flatMap { $0 }                      // [S, K]
            try decoder.expand(to: samples)
        }
        cached = n - start
    }

    /// Feeds the newest frame's last code followed by `action`; twins (when the next frame needs
    /// them) become copies of their samples first, then take the baseline action instead.
    private func feedPending(action next: Int64) throws {
        let samples = history.samples, rows = history.rows
        let m = contextFrames + generated - 1                   // the newest frame
        history.setAction(after: m, next)
        let previous = history.latest(m - 1)[0]
        let twinNext = history.baseline(m)
        let nextLive = history.needsTwins(after: m, action: next) ? rows : samples
        if nextLive > samples || live > samples { try decoder.gatherCache((0..<nextLive).map { $0 % samples }) }
        live = nextLive
        let step = DecoderStep(codes: live > samples ? pending + pending : pending, slot: config.codesPerFrame - 1, frame: m - start,
                               previousActions: [Int64](repeating: previous, count: live),
                               nextActions: (0..<live).map { $0 >= samples ? twinNext : next })
        logits = try decoder.step(step)
        cached += 1
        if cached == config.contextFrames {
            try decoder.dropOldestFrame()
            cached -= 1
        }
    }
}

extension PriorSampler {
    /// An open-ended rollout from `context`: `PriorStream.next(action:)` generates one frame at a time.
    /// - Throws: `PriorError` for a malformed context or bad settings.
    public func stream(context: PriorContext, samples: Int = 1, options: SamplingOptions,
                       observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)? = nil) throws -> PriorStream {
        try validate(context: context, actions: [], samples: samples, options: options)
        model.training = false
        return try PriorStream(sampler: self, context: context, samples: samples, options: options, observe: observe)
    }

    /// The rollout: a `PriorStream` fed `actions` in turn.
    func slidingRollout(context: PriorContext, actions: [Int], samples: Int, options: SamplingOptions,
                        observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?,
                        onFrame: ((_ frame: Int, _ codes: [UInt16]) -> Void)?) throws -> Rollout {
        let stream = try PriorStream(sampler: self, context: context, samples: samples, options: options, observe: observe)
        var output = [[UInt16]](repeating: [], count: samples)
        let hw = model.config.codesPerFrame
        for (g, action) in actions.enumerated() {
            let codes = try stream.next(action: action)
            for s in 0..<samples { output[s] += codes[(s * hw)..<((s + 1) * hw)] }
            onFrame?(g, codes)
        }
        return Rollout(codes: output.flatMap { $0 }, samples: samples, frames: actions.count,
                       gridHeight: model.config.gridHeight, gridWidth: model.config.gridWidth)
    }
}
