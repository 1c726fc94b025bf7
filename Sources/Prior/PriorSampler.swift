import CodeFile
import NN

/// Generates future frames token by token with a KV cache, for S samples at once: by default with
/// the fused Swift decoder (`PriorDecoder`), or with libtorch (`TorchDecoder`, the reference).
///
/// The window holds at most `contextFrames` frames. When it is full, the oldest frame is dropped.
/// With learned frame positions the kept frames
/// are fed again (re-prefill); frame positions count from the window start, so this gives exactly
/// the logits of a fresh forward pass over the new window. With rotary frame positions the cache
/// just forgets the oldest frame (`slidingRollout`).
public final class PriorSampler {
    /// Which incremental decoder computes the logits.
    public enum Engine: String, Sendable, CaseIterable {
        /// `PriorDecoder`: plain Swift with SIMD kernels over a snapshot of the weights (fast).
        case fused
        /// `PriorModel`'s libtorch layers with a `KVCache` (the reference).
        case libtorch
    }

    public let model: PriorModel
    /// The code source used to resolve action names and check context clips; nil skips those checks.
    public let source: CodeSource?
    public let engine: Engine
    /// Threads the fused decoder uses for re-prefilling a slid window (its steps use one).
    public let decoderThreads: Int

    /// The tokenizer's codebook `[K, D]` row-major (`VQVAE.codeVectors()`), for `SamplingOptions.nearestMean`; may be empty otherwise.
    public let codeVectors: [Float]

    /// The default of `decoderThreads`.
    public static let defaultDecoderThreads = 1

    public init(model: PriorModel, source: CodeSource? = nil, engine: Engine = .fused, decoderThreads: Int = defaultDecoderThreads,
                codeVectors: [Float] = []) {
        self.model = model
        self.source = source
        self.engine = engine
        self.decoderThreads = max(1, decoderThreads)
        self.codeVectors = codeVectors
    }

    /// Context frames `start ..< start + frames` of `clip`, checked against the prior's code source.
    /// - Throws: `PriorError` for a tokenizer/K/grid mismatch or a context longer than the clip.
    public func context(from clip: CodeClip, start: Int = 0, frames: Int, file: String? = nil) throws -> PriorContext {
        try source?.check(clip, file: file)
        return try PriorContext(clip: clip, start: start, frames: frames, file: file)
    }

    /// Action ids of action names. - Throws: `PriorError.unknownActionName`.
    public func actionIDs(_ names: [String]) throws -> [Int] {
        guard let source else { throw PriorError(.unknownActionName(names.first ?? "", known: [])) }
        return try names.map { try source.actionID($0) }
    }

    /// Generates one future frame per action: `actions[i]` is taken after frame `context.frames − 1 + i`
    /// (so `actions[0]` follows the last context frame). −1 means unknown (the no-action id).
    /// - Returns: codes `[samples, actions.count, h, w]`.
    /// - Throws: `PriorError` for action ids out of range, a malformed context, or bad settings.
    public func rollout(context: PriorContext, actions: [Int], samples: Int = 1, temperature: Double = 1,
                        topK: Int = 0, topP: Double = 1, seed: UInt64 = 0) throws -> Rollout {
        let options = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed)
        return try rollout(context: context, actions: actions, samples: samples, options: options)
    }

    /// `rollout` with action names resolved through the code source.
    public func rollout(context: PriorContext, actionNames: [String], samples: Int = 1,
                        options: SamplingOptions = SamplingOptions()) throws -> Rollout {
        try rollout(context: context, actions: actionIDs(actionNames), samples: samples, options: options)
    }

    /// See `rollout(context:actions:samples:temperature:topK:topP:seed:)`.
    /// - Parameters:
    ///   - observe: sees the (guided) logits of every generated token, by absolute frame and slot.
    ///   - onFrame: receives each generated frame as soon as it is complete: its index among the
    ///     generated frames and every sample's codes `[S, h, w]`.
    public func rollout(context: PriorContext, actions: [Int], samples: Int = 1, options: SamplingOptions,
                        observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)? = nil,
                        onFrame: ((_ frame: Int, _ codes: [UInt16]) -> Void)? = nil) throws -> Rollout {
        try validate(context: context, actions: actions, samples: samples, options: options)
        // Written only when it changes, so rollouts of one model in eval mode can run on several threads.
        let wasTraining = model.training
        if wasTraining { model.training = false }
        defer { if wasTraining { model.training = true } }

        switch model.config.framePositions {
        case .learned:
            var history = RolloutHistory(context: context, actions: actions, samples: samples, options: options, config: model.config)
            return try refeedingRollout(&history, actions: actions, observe: observe, onFrame: onFrame)
        case .rotary:
            return try slidingRollout(context: context, actions: actions, samples: samples, options: options, observe: observe, onFrame: onFrame)
        }
    }

    /// The rollout of a prior with learned frame positions: the window slides (and is re-prefilled)
    /// at every generated frame once it is full, so a twin sees the true history; only while a
    /// short context fills the window (or, with a window stride above 1, between re-prefills) do
    /// twins keep their baseline ids for their earlier generated frames in the cache.
    private func refeedingRollout(_ history: inout RolloutHistory, actions: [Int],
                                  observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?,
                                  onFrame: ((_ frame: Int, _ codes: [UInt16]) -> Void)?) throws -> Rollout {
        let config = model.config, options = history.options
        let (hw, samples, guided, rows, n) = (config.codesPerFrame, history.samples, history.guided, history.rows, history.frameCodes.count)
        var sampler = TokenSampler(options, codeVectors: codeVectors)
        var output = [[Int64]](repeating: [], count: samples)

        try Tensor.noGrad {
            let decoder: any RolloutDecoder = switch engine {
            case .fused: try PriorDecoder(model: model, samples: rows, threads: decoderThreads)
            case .libtorch: TorchDecoder(model: model)
            }
            var start = max(0, n - (config.contextFrames - 1))
            // Feeds frames start..<end whole for the first `batch` rows, the last frame followed by its
            // `latest` actions (else by the rows' own); returns their logits [batch, K].
            func prefill(_ end: Int, batch: Int, latestActions: Bool = true) throws -> [Float] {
                var codes: [Int64] = [], acts: [Int64] = []                                      // [B, F, hw], [B, F]
                let last = latestActions ? history.latest(end - 1) : history.frameActions[end - 1]
                for s in 0..<batch {
                    for f in start..<end { codes += history.frameCodes[f][(s * hw)..<((s + 1) * hw)] }
                    acts += (start..<end).map { $0 == end - 1 ? last[s] : history.frameActions[$0][s] }
                }
                return try decoder.prefill(codes: codes, actions: acts, batch: batch, frames: end - start)
            }
            var logits: [Float]
            if guided {
                logits = try prefill(n, batch: rows)                                             // [R, K]
            } else {
                logits = Array(repeating: try prefill(n, batch: 1), count: samples).flatMap { $0 }  // [S, K]
                try decoder.expand(to: samples)
            }

            for g in actions.indices {
                let m = n + g                                   // absolute index of the frame being generated
                var live = rows                                 // rows fed for this frame
                if m - start == config.contextFrames {          // window full: drop the oldest frame(s)
                    start += 1
                    // Twins whose latest action is their sample's (the previous-action baseline while an
                    // action is held) would give u = c exactly; they need no cache either when the
                    // window is re-fed again at the next frame, so only the samples' rows are fed.
                    if m - start + 1 == config.contextFrames && !history.needsTwins(after: m - 1) {
                        live = samples
                    }
                    if live > samples && start < m - 1 {
                        // A twin's window is its sample's but for the latest action: feed the samples'
                        // rows all frames but the newest, copy them to the twins, then append the newest
                        // frame to every row (the logits of `prefill(m, batch: live)` for half the work).
                        _ = try prefill(m - 1, batch: samples, latestActions: false)
                        try decoder.gatherCache((0..<live).map { $0 % samples })
                        logits = try decoder.append(codes: Array(history.frameCodes[m - 1][..<(live * hw)]), frame: m - 1 - start,
                                                    previousActions: Array(history.frameActions[m - 2][..<live]),
                                                    actions: Array(history.latest(m - 1)[..<live]), batch: live)
                    } else {
                        logits = try prefill(m, batch: live)
                    }
                }
                let f = m - start                               // its index in the window
                var codes = [Int64](repeating: 0, count: rows * hw)              // every row, twins included
                let previous = Array(history.latest(m - 1)[..<live])
                for j in 0..<hw {
                    let picked = history.pick(logits, frame: m, slot: j, into: &codes, sampler: &sampler, observe: observe)
                    var input = DecoderStep(codes: live > samples ? picked + picked : picked, slot: j, frame: f, previousActions: previous)
                    if j == hw - 1 {
                        // The frame is complete: feed its last code and its action unless the window
                        // will slide (the re-prefill feeds them) or nothing more is generated.
                        guard g + 1 < actions.count, f + 1 < config.contextFrames else { break }
                        let next = history.modelAction(actions[g + 1]), twinNext = history.baseline(m)
                        input.nextActions = (0..<live).map { $0 >= samples ? twinNext : next }
                    }
                    logits = try decoder.step(input)
                }
                history.append(codes: codes, nextAction: g + 1 < actions.count ? actions[g + 1] : -1)
                for s in 0..<samples { output[s] += codes[(s * hw)..<((s + 1) * hw)] }
                onFrame?(g, codes[..<(samples * hw)].map { UInt16($0) })
            }
        }
        return Rollout(codes: output.flatMap { $0.map { UInt16($0) } }, samples: samples, frames: actions.count,
                       gridHeight: config.gridHeight, gridWidth: config.gridWidth)
    }

    func validate(context: PriorContext, actions: [Int], samples: Int, options: SamplingOptions) throws {
        let config = model.config
        let problems = options.problems
        guard problems.isEmpty else { throw PriorError(.invalidSampling(problems.joined(separator: "; "))) }
        if options.nearestMean && (codeVectors.isEmpty || codeVectors.count % config.codebookSize != 0) {
            throw PriorError(.invalidSampling("the nearest-mean pick needs the tokenizer's codebook of \(config.codebookSize) vectors (got \(codeVectors.count) numbers)"))
        }
        guard samples >= 1 else { throw PriorError(.invalidSampling("samples \(samples) must be at least 1")) }
        guard context.frames >= 1 else { throw PriorError(.invalidContext("no context frames")) }
        guard context.codes.count == context.frames * config.codesPerFrame else {
            throw PriorError(.invalidContext("\(context.codes.count) codes do not fill \(context.frames) frames of \(config.gridHeight)x\(config.gridWidth)"))
        }
        if let bad = context.codes.first(where: { Int($0) >= config.codebookSize }) {
            throw PriorError(.invalidContext("code \(bad) is out of range for K = \(config.codebookSize)"))
        }
        for id in context.actions.map(Int.init) + actions where id < -1 || id >= config.actionCount {
            throw PriorError(.actionOutOfRange(id: id, actionCount: config.actionCount))
        }
    }
}
