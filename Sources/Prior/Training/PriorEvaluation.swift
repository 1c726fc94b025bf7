import Foundation
import NN

/// Teacher-forced bits/token of a prior on held-out windows, against baselines on the same tokens.
public struct PriorEvaluation: Codable, Sendable {
    /// Windows evaluated and target tokens in them (codes of frames 2..C of each window).
    public var windows: Int
    public var tokens: Int
    /// The model with the true actions.
    public var bitsPerToken: Double
    /// The model with actions shuffled across the evaluated frames: the gap to `bitsPerToken` is
    /// what the actions are worth to the model.
    public var shuffledActionBitsPerToken: Double
    /// The model with every action replaced by the learned no-action id.
    public var noActionBitsPerToken: Double
    /// Add-one smoothed unigram code frequencies from the training data.
    public var unigramBitsPerToken: Double
    /// Same position in the previous frame, smoothed with `copyEpsilon`.
    public var copyPreviousBitsPerToken: Double
    /// The smoothing ε chosen on the training set.
    public var copyEpsilon: Double

    enum CodingKeys: String, CodingKey {
        case windows, tokens
        case bitsPerToken = "bits_per_token", shuffledActionBitsPerToken = "shuffled_action_bits_per_token"
        case noActionBitsPerToken = "no_action_bits_per_token", unigramBitsPerToken = "unigram_bits_per_token"
        case copyPreviousBitsPerToken = "copy_previous_bits_per_token", copyEpsilon = "copy_epsilon"
    }
}

extension PriorModel {
    /// Teacher-forced bits/token on up to `limit` windows (evenly spaced) of `data`, with the
    /// baselines on the same target tokens.
    /// - Throws: `PriorError` when the clips' actions do not fit the model or no window fits.
    public func evaluate(_ data: PriorDataset, baselines: Baselines, limit: Int = 256, batch: Int = 16) throws -> PriorEvaluation {
        try data.source.check(config)
        try PriorTrainer.checkActions(data, actionCount: config.actionCount)
        let all = data.windows(length: config.contextFrames)
        guard !all.isEmpty else { throw PriorError(.noWindows(frames: config.contextFrames)) }
        let windows = all.count <= limit ? all : (0..<limit).map { all[$0 * all.count / limit] }
        let frames = config.contextFrames, hw = config.codesPerFrame

        // Shuffled actions: a fixed permutation of all evaluated frames' actions.
        var pooled = windows.flatMap { w in data.clips[w.clip].actions[w.start..<(w.start + frames)] }
        var rng = SplitMix64(seed: 0x5EED)
        pooled.shuffle(using: &rng)
        let shuffled = windows.indices.map { Array(pooled[($0 * frames)..<(($0 + 1) * frames)]) }
        let silent = windows.map { _ in [Int32](repeating: -1, count: frames) }

        let wasTraining = training
        training = false
        defer { training = wasTraining }
        var nats = [0.0, 0.0, 0.0], tokens = 0
        try Tensor.noGrad {
            for start in stride(from: 0, to: windows.count, by: batch) {
                let range = start..<min(start + batch, windows.count)
                let chunk = Array(windows[range])
                for (i, override) in [nil, Array(shuffled[range]), Array(silent[range])].enumerated() {
                    let b = try WindowBatch(data, chunk, frames: frames, config: config, actionOverride: override)
                    nats[i] += try b.nats(self).item()
                    if i == 0 { tokens += b.tokenCount }
                }
            }
        }
        var unigram = 0.0, copy = 0.0
        for w in windows {
            let codes = data.clips[w.clip].codes
            for t in (w.start + 1)..<(w.start + frames) {
                for j in 0..<hw {
                    let code = Int(codes[t * hw + j])
                    unigram += baselines.unigramBits(code)
                    copy += baselines.copyBits(code, previous: Int(codes[(t - 1) * hw + j]))
                }
            }
        }
        let n = Double(tokens)
        return PriorEvaluation(
            windows: windows.count, tokens: tokens, bitsPerToken: nats[0] / n / log(2),
            shuffledActionBitsPerToken: nats[1] / n / log(2), noActionBitsPerToken: nats[2] / n / log(2),
            unigramBitsPerToken: unigram / n, copyPreviousBitsPerToken: copy / n, copyEpsilon: baselines.copyEpsilon)
    }
}

extension PriorTrainer {
    /// Teacher-forced bits/token and baselines on held-out clips (see `PriorModel.evaluate`).
    public func evaluate(_ validation: PriorDataset, limit: Int = 256) throws -> PriorEvaluation {
        try model.evaluate(validation.mapped(to: data.source), baselines: baselines, limit: limit)
    }
}
