import Foundation
import CodeFile
import NN

/// Generates future frames token by token with a KV cache, for S samples at once: by default with
/// the fused Swift decoder (`PriorDecoder`), or with libtorch (`TorchDecoder`, the reference).
///
/// The window holds at most `contextFrames` frames. When it is full, the cache forgets the oldest
/// frame (rotary frame positions keep the other keys valid): see `PriorStream`.
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

    /// The fused decoder's snapshot of the model's weights, packed once for every rollout of this
    /// sampler (on any thread). Make a new sampler after the weights change.
    private var packed: DecoderWeights?
    private let packing = NSLock()

    func packedWeights() throws -> DecoderWeights {
        try packing.withLock {
            if let packed { return packed }
            let weights = try DecoderWeights(model)
            packed = weights
            return weights
        }
    }

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

        return try slidingRollout(context: context, actions: actions, samples: samples, options: options, observe: observe, onFrame: onFrame)
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
