import CodeFile
import NN

/// Windows of frames as model inputs: codes `[B, F, hw]` and actions `[B, F]` (int64; −1 and
/// dropped actions become the no-action id), plus the targets, the codes of frames 1..<F.
struct WindowBatch {
    private(set) var codes: Tensor    // [B, F, hw]
    let actions: Tensor  // [B, F]
    let targets: Tensor  // [B, (F−1)·hw]
    var tokenCount: Int { targets.numel }

    /// - Parameters:
    ///   - actionOverride: replaces each window's actions (same count), e.g. shuffled actions.
    ///   - dropAction: whether to replace the action of (window, frame) by no-action.
    init(_ data: PriorDataset, _ windows: [PriorDataset.Window], frames: Int, config: PriorConfig,
         actionOverride: [[Int32]]? = nil,
         dropAction: (Int, Int) -> Bool = { _, _ in false }) throws {
        let hw = config.codesPerFrame
        var codes: [Int64] = [], actions: [Int64] = [], targets: [Int64] = []
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
        }
        self.codes = try Tensor(codes, shape: [windows.count, frames, hw])
        self.actions = try Tensor(actions, shape: [windows.count, frames])
        self.targets = try Tensor(targets, shape: [windows.count, (frames - 1) * hw])
    }

    /// Replaces input codes (flat index into `codes` → new code); the targets keep the true codes.
    mutating func replaceInputs(_ changes: [(index: Int, code: Int64)]) throws {
        guard !changes.isEmpty else { return }
        var host = try codes.int64s()
        for (index, code) in changes { host[index] = code }
        codes = try Tensor(host, shape: codes.shape)
    }

    /// Summed cross-entropy in nats of the model's teacher-forced predictions.
    func nats(_ model: PriorModel) throws -> Tensor {
        let logits = try model.codeLogits(codes: codes, actions: actions)       // [B, (F−1)·hw, K]
        return try F.crossEntropy(logits.reshape([-1, model.config.codebookSize]), targets.reshape([-1]), reduction: .sum)
    }
}
