import CodeFile
import Foundation
import NN
import Prior

/// Consecutive frame pairs of code clips and the action taken between them: the action of row t
/// leads from frame t to frame t + 1 (pairs that cross an episode start are left out).
package struct ActionPairs {
    /// Codes of the earlier and the later frame of each pair, `tokensPerFrame` per pair, row-major.
    package var before: [Int64] = []
    package var after: [Int64] = []
    package var actions: [Int64] = []
    package let tokensPerFrame: Int

    package init(tokensPerFrame: Int) { self.tokensPerFrame = tokensPerFrame }

    package var count: Int { actions.count }

    /// Appends every pair of `other` (of the same grid).
    package mutating func append(contentsOf other: ActionPairs) {
        before += other.before
        after += other.after
        actions += other.actions
    }

    /// Adds a pair of frames' codes and the action between them.
    package mutating func append(before a: ArraySlice<UInt16>, after b: ArraySlice<UInt16>, action: Int) {
        before += a.map { Int64($0) }
        after += b.map { Int64($0) }
        actions.append(Int64(action))
    }

    /// Every pair of `clips` with a recorded action (ids as the clips hold them).
    package static func of(_ clips: [CodeClip]) -> ActionPairs {
        var pairs = ActionPairs(tokensPerFrame: clips.first?.codesPerFrame ?? 0)
        for clip in clips where clip.frames >= 2 {
            for t in 0..<(clip.frames - 1) where clip.actions[t] >= 0 && !clip.episodeStart[t + 1] {
                pairs.append(before: clip.frame(t), after: clip.frame(t + 1), action: Int(clip.actions[t]))
            }
        }
        return pairs
    }

    /// The share of pairs whose action is the most common one (what always guessing it scores).
    package var majorityShare: Double {
        guard count > 0 else { return 0 }
        let counts = Dictionary(actions.map { ($0, 1) }, uniquingKeysWith: +)
        return Double(counts.values.max()!) / Double(count)
    }
}

/// An inverse-dynamics classifier: from two consecutive frames' code grids, the action taken
/// between them. It measures whether a prior's rollouts follow their actions (as MineWorld and
/// GameWorld score action following): trained on real training footage, its accuracy on real
/// validation pairs is the ceiling a rollout's pairs are compared with.
///
/// Each code is looked up in the tokenizer's (fixed) codebook; the two grids' vectors and their
/// difference go through one hidden layer.
package final class InverseDynamics: Module {
    /// The tokenizer's codebook vectors [K, D] (not trained).
    let codebook: Tensor
    let hidden: Linear
    let output: Linear

    package var namedParameters: [(String, Tensor)] {
        hidden.namedParameters(prefix: "hidden") + output.namedParameters(prefix: "output")
    }

    /// - Parameters:
    ///   - codeVectors: the tokenizer's codebook, K × `codeDim` floats.
    ///   - seed: seeds the initial weights.
    package init(codeVectors: [Float], codeDim: Int, tokensPerFrame: Int, actionCount: Int, width: Int = 256, seed: UInt64 = 0) throws {
        Torch.manualSeed(seed)
        codebook = try Tensor(codeVectors, shape: [codeVectors.count / codeDim, codeDim])
        hidden = Linear(2 * tokensPerFrame * codeDim, width)
        output = Linear(width, actionCount)
    }

    /// Action logits of pairs `before[i], after[i]` given as code indices [B, N].
    func logits(before: Tensor, after: Tensor) throws -> Tensor {
        let b = before.shape[0]
        let x = try F.embedding(codebook, before)                      // [B, N, D]
        let y = try F.embedding(codebook, after)                       // [B, N, D]
        let features = try Tensor.cat([x, try y - x], dim: 2).reshape([b, -1])  // [B, 2·N·D]
        return try output(try hidden(features).gelu())                 // [B, A]
    }

    /// Trains on `pairs` with AdamW: `steps` batches of `batch` pairs drawn with `seed`.
    package func train(_ pairs: ActionPairs, steps: Int = 1500, batch: Int = 256, learningRate: Double = 1e-3, seed: UInt64 = 0) throws {
        guard pairs.count > 0 else { return }
        let optimizer = AdamW(namedParameters, lr: learningRate, weightDecay: 0.01)
        let schedule = WarmupCosine(peak: learningRate, warmupSteps: min(100, steps / 10), totalSteps: steps)
        var rng = SplitMix64(seed: seed)
        for step in 0..<steps {
            let picks = (0..<batch).map { _ in Int(rng.next() % UInt64(pairs.count)) }
            let (before, after, actions) = try Self.batch(pairs, picks)
            optimizer.zeroGrad()
            let loss = try F.crossEntropy(try logits(before: before, after: after), actions)
            try loss.backward()
            try optimizer.step(lr: schedule(step))
        }
    }

    /// The share of `pairs` whose action is the classifier's top pick.
    package func accuracy(_ pairs: ActionPairs) throws -> Double {
        guard pairs.count > 0 else { return 0 }
        var correct = 0
        try Tensor.noGrad {
            for start in stride(from: 0, to: pairs.count, by: 1024) {
                let picks = Array(start..<min(pairs.count, start + 1024))
                let (before, after, actions) = try Self.batch(pairs, picks)
                let predicted = try logits(before: before, after: after).argmax(dim: 1).int64s()
                correct += zip(predicted, try actions.int64s()).filter { $0 == $1 }.count
            }
        }
        return Double(correct) / Double(pairs.count)
    }

    /// The pairs `picks` as tensors: codes before and after [B, N], actions [B].
    private static func batch(_ pairs: ActionPairs, _ picks: [Int]) throws -> (Tensor, Tensor, Tensor) {
        let n = pairs.tokensPerFrame
        var before = [Int64](), after = [Int64]()
        before.reserveCapacity(picks.count * n)
        after.reserveCapacity(picks.count * n)
        for i in picks {
            before += pairs.before[(i * n)..<((i + 1) * n)]
            after += pairs.after[(i * n)..<((i + 1) * n)]
        }
        return (try Tensor(before, shape: [picks.count, n]), try Tensor(after, shape: [picks.count, n]),
                try Tensor(picks.map { pairs.actions[$0] }, shape: [picks.count]))
    }
}

extension InverseDynamics {
    /// A classifier for `loaded`'s actions, trained on the code files at `paths` (files, or
    /// folders of them; their actions mapped to the prior's by name). Returns it with the number
    /// of pairs it was trained on.
    /// - Throws: `PriorError` when the files are not this tokenizer's codes or name an action the
    ///   prior does not know.
    package static func trained(onCodes paths: [String], tokenizer tok: VideoTokenizer, prior loaded: PriorCheckpoint.Loaded,
                                steps: Int = 1500, seed: UInt64 = 0) throws -> (model: InverseDynamics, trainingPairs: Int) {
        let data = try PriorDataset(paths: paths).mapped(to: loaded.source)
        let pairs = ActionPairs.of(data.clips)
        guard pairs.count > 0 else { throw PriorError(file: paths.first, .checkpoint("has no consecutive frames with recorded actions to train the action classifier on")) }
        let model = try InverseDynamics(codeVectors: try tok.model.codeVectors(), codeDim: tok.config.codeDim,
                                        tokensPerFrame: tok.config.gridWidth * tok.config.gridHeight, actionCount: loaded.model.config.actionCount,
                                        seed: seed)
        try model.train(pairs, steps: steps, seed: seed)
        return (model, pairs.count)
    }
}
