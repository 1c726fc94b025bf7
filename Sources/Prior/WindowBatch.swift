import CodeFile
import NN

/// Windows of frames as model inputs: codes `[B, F, hw]` and actions `[B, F]` (int64; −1 and
/// dropped actions become the no-action id), plus the targets, the codes of frames 1..<F, and
/// their loss weights.
struct WindowBatch {
    private(set) var codes: Tensor    // [B, F, hw]
    let actions: Tensor  // [B, F]
    let targets: Tensor  // [B, (F−1)·hw]
    /// Loss weight per target frame `[B, F−1]`; nil when every weight is 1.
    let frameWeights: [Double]?
    var tokenCount: Int { targets.numel }
    /// The sum of the targets' loss weights (`tokenCount` when unweighted).
    var weightSum: Double { frameWeights.map { $0.reduce(0, +) * Double(tokenCount / $0.count) } ?? Double(tokenCount) }

    /// - Parameters:
    ///   - actionOverride: replaces each window's actions (same count), e.g. shuffled actions.
    ///   - actionChangeWeight: loss weight of target frame f when the action leading to it (taken
    ///     after frame f − 1, not dropped) differs from the action taken after frame f − 2 in the clip.
    ///   - dropAction: whether to replace the action of (window, frame) by no-action.
    init(_ data: PriorDataset, _ windows: [PriorDataset.Window], frames: Int, config: PriorConfig,
         actionOverride: [[Int32]]? = nil, actionChangeWeight: Double = 1,
         dropAction: (Int, Int) -> Bool = { _, _ in false }) throws {
        let hw = config.codesPerFrame
        var codes: [Int64] = [], actions: [Int64] = [], targets: [Int64] = [], weights: [Double] = []
        codes.reserveCapacity(windows.count * frames * hw)
        for (i, w) in windows.enumerated() {
            let clip = data.clips[w.clip]
            let slice = clip.codes[(w.start * hw)..<((w.start + frames) * hw)]
            codes += slice.map { Int64($0) }
            targets += slice.dropFirst(hw).map { Int64($0) }
            let ids = actionOverride?[i] ?? Array(clip.actions[w.start..<(w.start + frames)])
            for (f, id) in ids.enumerated() {
                actions.append(id < 0 || dropAction(i, f) ? Int64(config.noAction) : Int64(id))
            }
            for f in 1..<frames where actionChangeWeight != 1 {
                // Target frame f follows action a = actions[start + f − 1]; it changed if the clip's
                // action one frame earlier (within the episode) was another.
                let t = w.start + f - 1
                let dropped = actions[actions.count - frames + f - 1] == Int64(config.noAction)
                let changed = t > 0 && !clip.episodeStart[t] && clip.actions[t] != clip.actions[t - 1]
                weights.append(changed && !dropped ? actionChangeWeight : 1)
            }
        }
        self.codes = try Tensor(codes, shape: [windows.count, frames, hw])
        self.actions = try Tensor(actions, shape: [windows.count, frames])
        self.targets = try Tensor(targets, shape: [windows.count, (frames - 1) * hw])
        frameWeights = actionChangeWeight == 1 ? nil : weights
    }

    /// Replaces input codes (flat index into `codes` → new code); the targets keep the true codes.
    mutating func replaceInputs(_ changes: [(index: Int, code: Int64)]) throws {
        guard !changes.isEmpty else { return }
        var host = try codes.int64s()
        for (index, code) in changes { host[index] = code }
        codes = try Tensor(host, shape: codes.shape)
    }

    /// Summed cross-entropy in nats of the model's teacher-forced predictions.
    func nats(_ model: PriorModel) throws -> Tensor { try crossEntropy(model, reduction: .sum) }

    /// Cross-entropy of every target code (`.none`: `[B·(F−1)·hw]`) or reduced.
    private func crossEntropy(_ model: PriorModel, reduction: Reduction) throws -> Tensor {
        let logits = try model.codeLogits(codes: codes, actions: actions)       // [B, (F−1)·hw, K]
        return try F.crossEntropy(logits.reshape([-1, model.config.codebookSize]), targets.reshape([-1]), reduction: reduction)
    }

    /// The training loss: the weighted sum of cross-entropies in nats (a tensor to back-propagate),
    /// and the plain, unweighted sum.
    func trainingNats(_ model: PriorModel) throws -> (weighted: Tensor, plain: Double) {
        guard let frameWeights else {
            let sum = try nats(model)
            return (sum, try sum.item())
        }
        let perToken = try crossEntropy(model, reduction: .none).reshape([frameWeights.count, -1])  // [B·(F−1), hw]
        let weights = try Tensor(frameWeights.map { Float($0) }, shape: [frameWeights.count, 1])
        return (try (perToken * weights).sum(), try perToken.sum().item())
    }
}
