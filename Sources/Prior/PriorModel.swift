import NN

/// The action-conditioned prior: a decoder-only transformer over code tokens (IRIS layout).
///
/// A window of F ≤ `contextFrames` frames is the token sequence
/// `c(0,0) … c(0,hw−1) a(0)  c(1,0) … c(1,hw−1) a(1)  …`: the h·w codes of frame f, then one token
/// for the action taken after frame f. Each position predicts the next code: the action token
/// a(f) predicts c(f+1, 0), and c(f+1, j) predicts c(f+1, j+1).
///
/// Token embedding = token table (codes: K entries; actions: actionCount + 1, the last being
/// "no / unknown action") + position within the frame (hw + 1 slots) + (with learned frame
/// positions) frame index within the window; with rotary frame positions the frame index instead
/// turns every query and key (`FrameRotation`) and attention is banded to `contextFrames` frames,
/// so windows of any length train and a sliding window keeps its cache. Action conditioning is deliberately strong: besides its token, the action a(f) is
/// added through `actionProjection` to every code token of frame f+1, so each predicted code
/// sees the action directly in its own input; frame 0 of a window gets the no-action id. With
/// `actionModulation`, every block also scales and shifts its LayerNorm outputs by that action
/// (for an action token: by its own action, the one leading to the frame it starts predicting).
public final class PriorModel: Module {
    public let config: PriorConfig
    let codeEmbedding: Embedding      // [K, C]
    let actionEmbedding: Embedding    // [A + 1, C]
    let slotEmbedding: Embedding      // [hw + 1, C]
    let frameEmbedding: Embedding?    // [contextFrames, C]; nil with rotary frame positions
    let rotation: FrameRotation?      // with rotary frame positions
    let actionProjection: Linear      // C → C, the action's contribution to the next frame's codes
    let blocks: [TransformerBlock]
    let lnFinal: LayerNorm
    let head: Linear                  // C → K
    /// Dropout active (training) or not (evaluation, sampling).
    public var training = false

    /// A freshly initialised model (deterministic for a given `Torch.manualSeed`), GPT-2 style:
    /// weights N(0, 0.02), residual output projections N(0, 0.02/√(2L)), biases and the action
    /// modulation 0.
    public init(config: PriorConfig) throws {
        let problems = config.problems
        guard problems.isEmpty else { throw PriorError(.invalidConfig(problems.joined(separator: "; "))) }
        self.config = config
        let c = config.width
        codeEmbedding = Embedding(config.codebookSize, c)
        actionEmbedding = Embedding(config.actionCount + 1, c)
        slotEmbedding = Embedding(config.tokensPerFrame, c)
        frameEmbedding = config.framePositions == .learned ? Embedding(config.contextFrames, c) : nil
        rotation = config.framePositions == .rotary ? FrameRotation(headWidth: c / config.heads) : nil
        actionProjection = Linear(c, c)
        let conditions = config.actionModulation ? config.actionCount + 1 : nil
        blocks = try (0..<config.layers).map { _ in
            try TransformerBlock(width: c, heads: config.heads, dropout: config.dropout, conditions: conditions)
        }
        lnFinal = LayerNorm(c)
        head = Linear(c, config.codebookSize)
        try initialiseWeights()
    }

    public var namedParameters: [(String, Tensor)] {
        var out = codeEmbedding.namedParameters(prefix: "code_embedding")
            + actionEmbedding.namedParameters(prefix: "action_embedding")
            + slotEmbedding.namedParameters(prefix: "slot_embedding")
            + (frameEmbedding?.namedParameters(prefix: "frame_embedding") ?? [])
            + actionProjection.namedParameters(prefix: "action_projection")
        for (i, block) in blocks.enumerated() { out += block.namedParameters(prefix: "blocks.\(i)") }
        return out + lnFinal.namedParameters(prefix: "ln_final") + head.namedParameters(prefix: "head")
    }

    private func initialiseWeights() throws {
        let residualStd = 0.02 / (2.0 * Double(config.layers)).squareRoot()
        try Tensor.noGrad {
            for (name, p) in namedParameters where !name.contains("ln") {
                if name.hasSuffix(".bias") || name.hasSuffix("modulation.weight") {
                    try p.zeroInPlace()
                } else if name.hasSuffix("proj.weight") && name.hasPrefix("blocks.") {
                    try p.normalInPlace(std: residualStd)
                } else if name != "action_projection.weight" {
                    try p.normalInPlace(std: 0.02)
                }
            }
        }
    }

    // MARK: embeddings

    /// Whole frames: codes `[B, F, hw]`, actions `[B, F]` (int64 ids, `noAction` for none) → `[B, F·(hw+1), C]`.
    func embed(codes: Tensor, actions: Tensor) throws -> Tensor {
        let (b, f, hw) = (codes.size(0), codes.size(1), config.codesPerFrame)
        let slots = try slotEmbedding(Tensor.arange(config.tokensPerFrame))                 // [hw+1, C]
        var x = try codeEmbedding(codes) + slots.narrow(dim: 0, start: 0, length: hw)       // [B, F, hw, C]
        if config.actionIntoFrame {
            x = try x + conditioning(previousActions(actions)).unsqueeze(2)                 // + [B, F, 1, C]
        }
        let a = try actionEmbedding(actions).unsqueeze(2) + slots.narrow(dim: 0, start: hw, length: 1)  // [B, F, 1, C]
        var tokens = try Tensor.cat([x, a], dim: 2)                                         // [B, F, hw+1, C]
        if let frameEmbedding { tokens = try tokens + frameEmbedding(Tensor.arange(f)).unsqueeze(1) }  // + [F, 1, C]
        return try tokens.reshape([b, f * config.tokensPerFrame, config.width])
    }

    /// Each position's condition for the modulated blocks, from the actions `[B, F]` of whole frames:
    /// codes of frame f get the action after frame f − 1 (no-action for f = 0), the action token its
    /// own action → `[B, F·(hw+1)]`; nil without `actionModulation`.
    func conditions(actions: Tensor) throws -> Tensor? {
        guard config.actionModulation else { return nil }
        let (b, f) = (actions.size(0), actions.size(1))
        let codes = try previousActions(actions).unsqueeze(2).expand([b, f, config.codesPerFrame])  // [B, F, hw]
        return try Tensor.cat([codes, actions.unsqueeze(2)], dim: 2).reshape([b, f * config.tokensPerFrame])
    }

    /// The action that led to each frame of a window, `[B, F]` → `[B, F]`: the previous frame's, no-action for frame 0.
    private func previousActions(_ actions: Tensor) throws -> Tensor {
        let none = try Tensor.full([actions.size(0), 1], Double(config.noAction), dtype: .int64)
        return try Tensor.cat([none, actions.narrow(dim: 1, start: 0, length: actions.size(1) - 1)], dim: 1)
    }

    /// One code token per sample: codes `[S]` at `slot` of window frame `frame`, whose frame follows `previousAction` `[S]` → `[S, 1, C]`.
    func embedCode(_ codes: Tensor, slot: Int, frame: Int, previousAction: Tensor) throws -> Tensor {
        var x = try codeEmbedding(codes) + slotEmbedding.weight.select(dim: 0, index: slot)  // [S, C]
        if let frameEmbedding { x = try x + frameEmbedding.weight.select(dim: 0, index: frame) }
        if config.actionIntoFrame { x = try x + conditioning(previousAction) }
        return try x.unsqueeze(1)
    }

    /// One action token per sample: actions `[S]` after window frame `frame` → `[S, 1, C]`.
    func embedAction(_ actions: Tensor, frame: Int) throws -> Tensor {
        var x = try actionEmbedding(actions) + slotEmbedding.weight.select(dim: 0, index: config.codesPerFrame)  // [S, C]
        if let frameEmbedding { x = try x + frameEmbedding.weight.select(dim: 0, index: frame) }
        return try x.unsqueeze(1)
    }

    /// The action's additive contribution to the codes of the frame it leads to: `[...]` → `[..., C]`.
    func conditioning(_ actions: Tensor) throws -> Tensor { try actionProjection(actionEmbedding(actions)) }

    // MARK: transformer

    /// Embedded tokens `[B, T, C]` and their conditions `[B, T]` (see `conditions(actions:)`; unused
    /// without `actionModulation`) → final hidden states `[B, T, C]`; with a cache, T new tokens
    /// after the cached ones. `frames` is each token's frame index (rotary frame positions only;
    /// nil: whole frames from 0, `wholeFrames`); with rotary positions attention is banded to
    /// `contextFrames` frames counted from the first cached or given token, a frame's first.
    func hidden(_ x: Tensor, conditions: Tensor?, cache: KVCache? = nil, frames: [Int]? = nil) throws -> Tensor {
        var h = try x.dropout(config.dropout, training: training)
        let oneHot = config.actionModulation ? try conditions?.oneHot(config.actionCount + 1).to(.float32) : nil  // [B, T, A + 1]
        let tables = try rotation.map { try $0.tables(frames: frames ?? wholeFrames(tokens: x.size(1))) }       // [T, d] each
        let band = rotation == nil ? nil : (group: config.tokensPerFrame, groups: config.contextFrames)
        for (i, block) in blocks.enumerated() {
            h = try block(h, conditions: oneHot, cache: cache?.layers[i], training: training, rotation: tables, band: band)
        }
        return try lnFinal(h)
    }

    /// The frame index of each of `tokens` tokens of whole frames from frame 0.
    func wholeFrames(tokens: Int) -> [Int] { (0..<tokens).map { $0 / config.tokensPerFrame } }

    /// Next-code logits `[..., K]` of hidden states `[..., C]`.
    func logits(_ hidden: Tensor) throws -> Tensor { try head(hidden) }

    /// Positions (in a window of `frames` frames) whose next token is a code of frames 1..<frames,
    /// in order; the target at position p is the token at p + 1.
    func predictingPositions(frames: Int) -> [Int] {
        let n = config.tokensPerFrame
        return (1..<max(1, frames)).flatMap { f in (0..<config.codesPerFrame).map { f * n + $0 - 1 } }
    }

    /// Logits for every code of frames 1..<F, without a cache: codes `[B, F, hw]`, actions `[B, F]`
    /// (int64, `noAction` for none) → `[B, (F−1)·hw, K]`; row r predicts code r of frames 1... in order.
    public func codeLogits(codes: Tensor, actions: Tensor) throws -> Tensor {
        let f = codes.size(1)
        let h = try hidden(embed(codes: codes, actions: actions), conditions: conditions(actions: actions))  // [B, F·(hw+1), C]
        let positions = try Tensor(indices: predictingPositions(frames: f))
        return try logits(h.indexSelect(dim: 1, index: positions))                          // [B, (F−1)·hw, K]
    }

    /// Logits at every position of the window, without a cache: `[B, F·(hw+1), K]`.
    public func allLogits(codes: Tensor, actions: Tensor) throws -> Tensor {
        try logits(hidden(embed(codes: codes, actions: actions), conditions: conditions(actions: actions)))
    }
}
