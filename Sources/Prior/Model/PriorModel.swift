import Foundation
import NN

// The action-conditioned prior, top to bottom: its config, rotary frame positions, causal
// self-attention, the transformer block (with action modulation), the model.

/// Shape of the transformer prior. Stored in checkpoints as JSON metadata.
public struct PriorConfig: Codable, Sendable, Equatable {
    /// Transformer blocks.
    public var layers = 4
    /// Residual-stream width C.
    public var width = 256
    /// Attention heads (must divide `width`).
    public var heads = 4
    /// Frames in the attention window: a token sees its own frame and the `contextFrames − 1` before it.
    /// The sampler's sliding window has this many frames. A token's frame enters the model as a
    /// rotary embedding (RoPE) of the frame index in every query and key (`FrameRotation`), so
    /// attention scores depend only on frame distances and a sliding window keeps its cache.
    public var contextFrames = 8
    /// Frames per training window (at least `contextFrames`): attention stays banded to
    /// `contextFrames` frames, so the model trains on what a sliding cache gives it (earlier frames
    /// reaching it through the frames it sees).
    public var trainingFrames = 16
    /// Code-grid columns per frame.
    public var gridWidth = 8
    /// Code-grid rows per frame.
    public var gridHeight = 8
    /// Number of codes K of the tokenizer whose codes the prior models.
    public var codebookSize = 512
    /// Number of named actions; id `actionCount` is the learned "no / unknown action".
    public var actionCount = 1
    /// Dropout on embeddings and residual branches while training.
    public var dropout = 0.0
    /// Whether the action a_t is also added (through `actionProjection`) to every code token of frame t+1,
    /// besides having its own token. Off only for ablations.
    public var actionIntoFrame = true
    /// Whether every block's two LayerNorm outputs are also scaled and shifted by a learned vector
    /// per action (adaptive LayerNorm): each position by the action leading to the frame it predicts.
    /// Checkpoints without the field predate it and read as false.
    public var actionModulation = true

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case layers, width, heads, contextFrames, gridWidth, gridHeight, codebookSize, actionCount, dropout
        case actionIntoFrame, actionModulation, framePositions, trainingFrames
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layers = try c.decode(Int.self, forKey: .layers)
        width = try c.decode(Int.self, forKey: .width)
        heads = try c.decode(Int.self, forKey: .heads)
        contextFrames = try c.decode(Int.self, forKey: .contextFrames)
        gridWidth = try c.decode(Int.self, forKey: .gridWidth)
        gridHeight = try c.decode(Int.self, forKey: .gridHeight)
        codebookSize = try c.decode(Int.self, forKey: .codebookSize)
        actionCount = try c.decode(Int.self, forKey: .actionCount)
        dropout = try c.decode(Double.self, forKey: .dropout)
        actionIntoFrame = try c.decode(Bool.self, forKey: .actionIntoFrame)
        actionModulation = try c.decodeIfPresent(Bool.self, forKey: .actionModulation) ?? false
        // Priors with learned frame positions (the only kind before "framePositions" was recorded)
        // are refused: that feature was removed (docs/experiments.md).
        guard try c.decodeIfPresent(String.self, forKey: .framePositions) == "rotary" else {
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.framePositions], debugDescription:
                "the prior uses learned frame positions, which framecast no longer has (see docs/experiments.md); retrain it (rotary positions are the default)"))
        }
        trainingFrames = try c.decode(Int.self, forKey: .trainingFrames)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
        try c.encode(width, forKey: .width)
        try c.encode(heads, forKey: .heads)
        try c.encode(contextFrames, forKey: .contextFrames)
        try c.encode(gridWidth, forKey: .gridWidth)
        try c.encode(gridHeight, forKey: .gridHeight)
        try c.encode(codebookSize, forKey: .codebookSize)
        try c.encode(actionCount, forKey: .actionCount)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(actionIntoFrame, forKey: .actionIntoFrame)
        try c.encode(actionModulation, forKey: .actionModulation)
        try c.encode("rotary", forKey: .framePositions)
        try c.encode(trainingFrames, forKey: .trainingFrames)
    }

    /// Frames per training window.
    public var trainingWindow: Int { trainingFrames }

    /// Code tokens per frame, h·w.
    public var codesPerFrame: Int { gridWidth * gridHeight }
    /// Tokens per frame: the codes plus one action token.
    public var tokensPerFrame: Int { codesPerFrame + 1 }
    /// The id of the learned "no / unknown action" embedding.
    public var noAction: Int { actionCount }

    /// Problems with this configuration, in words; empty when it is usable.
    public var problems: [String] {
        var out: [String] = []
        if layers < 1 { out.append("layers \(layers) must be at least 1") }
        if width < 1 || heads < 1 || width % heads != 0 { out.append("heads \(heads) must divide width \(width)") }
        if contextFrames < 2 { out.append("context frames \(contextFrames) must be at least 2") }
        if gridWidth < 1 || gridHeight < 1 { out.append("grid \(gridWidth)x\(gridHeight) must be positive") }
        if !(2...65536).contains(codebookSize) { out.append("codebook size \(codebookSize) must be 2...65536") }
        if actionCount < 0 { out.append("action count \(actionCount) must not be negative") }
        if !(0..<1).contains(dropout) { out.append("dropout \(dropout) must be in [0, 1)") }
        // Bounds that keep a crafted or mistyped config from allocating without end.
        if layers > 64 { out.append("layers \(layers) must be at most 64") }
        if width > 4096 { out.append("width \(width) must be at most 4096") }
        if heads > 64 { out.append("heads \(heads) must be at most 64") }
        if contextFrames > 256 { out.append("context frames \(contextFrames) must be at most 256") }
        if trainingFrames > 1024 { out.append("training frames \(trainingFrames) must be at most 1024") }
        if gridWidth > 64 || gridHeight > 64 { out.append("grid \(gridWidth)x\(gridHeight) must be at most 64x64") }
        if actionCount > 4096 { out.append("action count \(actionCount) must be at most 4096") }
        if layers <= 64 && width <= 4096 && (1...64).contains(gridWidth) && (1...64).contains(gridHeight) && actionCount <= 4096,
           12 * layers * width * width + (codebookSize + actionCount + gridWidth * gridHeight) * width * 2 > 300_000_000 {
            let parameters = 12 * layers * width * width + (codebookSize + actionCount + gridWidth * gridHeight) * width * 2
            out.append("about \(parameters / 1_000_000) M parameters: more than framecast's limit of 300 M")
        }
        if trainingFrames < contextFrames {
            out.append("training frames \(trainingFrames) must be at least the context of \(contextFrames) frames")
        }
        if heads >= 1 && width % heads == 0 && (width / heads) % 2 != 0 {
            out.append("rotary frame positions need an even head width (width \(width) / heads \(heads))")
        }
        return out
    }
}

/// Rotary position embedding (RoPE, Su et al. 2021) of frame indices, for heads of width d:
/// dimensions i and i + d/2 of a query or key of frame f turn by the angle f·base^(−2i/d).
/// A query·key product then depends on the two frames' distance only, not on where they sit,
/// which is what lets a sliding window keep its cached keys (`FramePositions.rotary`).
///
/// Angles are computed in Double and rounded once, so the libtorch model and the Swift decoder
/// use the same cos/sin values for any frame index, however far a rollout runs.
struct FrameRotation: Sendable {
    /// The angle's base: 100 turns the fastest pair by 1 radian per frame and the slowest by
    /// ~0.01, a spread fit for windows of a few to a few dozen frames.
    static let base = 100.0
    /// Head width d (even).
    let headWidth: Int
    /// base^(−2i/d) for i < d/2: the angle per frame of each dimension pair.
    private let frequencies: [Double]

    init(headWidth: Int) {
        self.headWidth = headWidth
        frequencies = (0..<(headWidth / 2)).map { pow(Self.base, -2 * Double($0) / Double(headWidth)) }
    }

    /// cos and sin of frame `frame`'s d/2 angles.
    func angles(frame: Int) -> (cos: [Float], sin: [Float]) {
        let angles = frequencies.map { Double(frame) * $0 }
        return (angles.map { Float(Foundation.cos($0)) }, angles.map { Float(Foundation.sin($0)) })
    }

    /// Tables for `rotate(_:_:)`, one row per token of frame `frames[t]`: `[T, d]` each,
    /// `[cos, cos]` and `[−sin, sin]`.
    func tables(frames: [Int]) throws -> (cos: Tensor, sin: Tensor) {
        var cosTable: [Float] = [], sinTable: [Float] = []
        cosTable.reserveCapacity(frames.count * headWidth)
        sinTable.reserveCapacity(frames.count * headWidth)
        var cache: [Int: (cos: [Float], sin: [Float])] = [:]
        for f in frames {
            let (c, s) = cache[f] ?? angles(frame: f)
            cache[f] = (c, s)
            cosTable += c + c
            sinTable += s.map { -$0 } + s
        }
        return (try Tensor(cosTable, shape: [frames.count, headWidth]), try Tensor(sinTable, shape: [frames.count, headWidth]))
    }

    /// Rotates queries or keys `[..., T, d]` by the tables of their T tokens:
    /// x·[cos, cos] + [x₂, x₁]·[−sin, sin], i.e. (x₁ cos − x₂ sin, x₂ cos + x₁ sin).
    static func rotate(_ x: Tensor, _ tables: (cos: Tensor, sin: Tensor)) throws -> Tensor {
        let last = x.ndim - 1, half = x.size(last) / 2
        let swapped = try Tensor.cat([x.narrow(dim: last, start: half, length: half),
                                      x.narrow(dim: last, start: 0, length: half)], dim: last)
        return try x * tables.cos + swapped * tables.sin
    }

    /// The same rotation in place on one head's d floats, with `angles(frame:)`.
    @inline(__always)
    static func rotate(_ x: UnsafeMutablePointer<Float>, half: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        for i in 0..<half {
            let (a, b) = (x[i], x[i + half])
            x[i] = a * cos[i] - b * sin[i]
            x[i + half] = b * cos[i] + a * sin[i]
        }
    }
}

/// Multi-head causal self-attention with an optional key/value cache.
final class CausalSelfAttention: Module {
    let qkv: Linear   // C → 3C
    let proj: Linear  // C → C
    let heads: Int

    init(width: Int, heads: Int) {
        qkv = Linear(width, 3 * width)
        proj = Linear(width, width)
        self.heads = heads
    }

    var namedParameters: [(String, Tensor)] { qkv.namedParameters(prefix: "qkv") + proj.namedParameters(prefix: "proj") }

    /// x `[B, T, C]` → `[B, T, C]`. With a cache, the T new tokens attend to the cached ones too
    /// (the causal mask is aligned to the end), and their keys/values are appended to it.
    /// `rotation` (`FrameRotation.tables`, `[T, d]` each) turns queries and keys by their frames;
    /// `band` limits each query to the keys of its own frame and the ones before it in the window.
    func callAsFunction(_ x: Tensor, cache: KVCache.Layer? = nil, rotation: (cos: Tensor, sin: Tensor)? = nil,
                        band: (group: Int, groups: Int)? = nil) throws -> Tensor {
        let (b, t, c) = (x.size(0), x.size(1), x.size(2))
        let d = c / heads
        let parts = try qkv(x).reshape([b, t, 3, heads, d]).permute([2, 0, 3, 1, 4])  // [3, B, H, T, d]
        var q = try parts.select(dim: 0, index: 0)                                   // [B, H, T, d]
        var k = try parts.select(dim: 0, index: 1)
        var v = try parts.select(dim: 0, index: 2)
        if let rotation {
            q = try FrameRotation.rotate(q, rotation)
            k = try FrameRotation.rotate(k, rotation)
        }
        if let cache {
            (k, v) = try cache.append(k, v)                                          // [B, H, T_cache + T, d]
        }
        let y = try F.attention(q, k, v, causal: t > 1, band: t > 1 ? band : nil)    // [B, H, T, d]
        return try proj(y.transpose(1, 2).reshape([b, t, c]))                       // [B, T, C]
    }
}

/// Pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)), with a GELU MLP of 4× width.
///
/// With action modulation (adaptive LayerNorm) each LayerNorm output is also scaled and shifted per
/// position by its condition, an action id: ln(x)·(1 + scale) + shift, the four vectors of a block
/// (scale and shift of ln1 and of ln2) being one row of `modulation`. The table starts at zero,
/// so a fresh block computes exactly the plain one. Each of the four vectors is picked by its own
/// product of the conditions' one-hot vectors with a `[A + 1, C]` slice of the table (slicing the
/// small table, not the `[B, T, 4C]` product, keeps every backward free of full-size zero tensors).
final class TransformerBlock: Module {
    let ln1: LayerNorm
    let attn: CausalSelfAttention
    let ln2: LayerNorm
    let fc: Linear     // C → 4C
    let proj: Linear   // 4C → C
    let modulation: Tensor?      // [A + 1, 4C]: scale₁, shift₁, scale₂, shift₂ per action
    let ones: Tensor             // [C]: the 1 of 1 + scale
    let dropout: Double

    init(width: Int, heads: Int, dropout: Double, conditions: Int? = nil) throws {
        ln1 = LayerNorm(width)
        attn = CausalSelfAttention(width: width, heads: heads)
        ln2 = LayerNorm(width)
        fc = Linear(width, 4 * width)
        proj = Linear(4 * width, width)
        modulation = conditions.map { Init.constant([$0, 4 * width], 0) }
        ones = try Tensor.ones([width])
        self.dropout = dropout
    }

    var namedParameters: [(String, Tensor)] {
        ln1.namedParameters(prefix: "ln1") + attn.namedParameters(prefix: "attn") + ln2.namedParameters(prefix: "ln2")
            + fc.namedParameters(prefix: "mlp.fc") + proj.namedParameters(prefix: "mlp.proj")
            + (modulation.map { [("modulation.weight", $0)] } ?? [])
    }

    /// x `[B, T, C]`, with modulation each position's condition one-hot `[B, T, A + 1]` (float) → `[B, T, C]`;
    /// `rotation` and `band` go to the attention.
    func callAsFunction(_ x: Tensor, conditions: Tensor?, cache: KVCache.Layer?, training: Bool,
                        rotation: (cos: Tensor, sin: Tensor)? = nil, band: (group: Int, groups: Int)? = nil) throws -> Tensor {
        if modulation != nil && conditions == nil { throw PriorError(.invalidConfig("a modulated block needs each position's action")) }
        let a = try attn(modulate(ln1(x), conditions, part: 0), cache: cache, rotation: rotation, band: band)
            .dropout(dropout, training: training)
        let h = try x + a
        let f = try proj(fc(modulate(ln2(h), conditions, part: 1)).gelu()).dropout(dropout, training: training)
        return try h + f
    }

    /// shift + n·(1 + scale) with part `part` (0: ln1, 1: ln2) of the modulation; n itself without one.
    private func modulate(_ n: Tensor, _ conditions: Tensor?, part: Int) throws -> Tensor {
        guard let modulation, let conditions else { return n }
        let c = n.size(2)
        let scale = try modulation.narrow(dim: 1, start: 2 * part * c, length: c)           // [A + 1, C]
        let shift = try modulation.narrow(dim: 1, start: (2 * part + 1) * c, length: c)
        let onePlusScale = try F.linear(conditions, scale.transpose(0, 1), ones)           // [B, T, C]
        return try F.linear(conditions, shift.transpose(0, 1)).addcmul(n, onePlusScale)   // [B, T, C]
    }
}

/// The action-conditioned prior: a decoder-only transformer over code tokens (IRIS layout).
///
/// A window of F ≤ `contextFrames` frames is the token sequence
/// `c(0,0) … c(0,hw−1) a(0)  c(1,0) … c(1,hw−1) a(1)  …`: the h·w codes of frame f, then one token
/// for the action taken after frame f. Each position predicts the next code: the action token
/// a(f) predicts c(f+1, 0), and c(f+1, j) predicts c(f+1, j+1).
///
/// Token embedding = token table (codes: K entries; actions: actionCount + 1, the last being
/// "no / unknown action") + position within the frame (hw + 1 slots); the frame index turns every
/// query and key (rotary, `FrameRotation`) and attention is banded to `contextFrames` frames, so
/// windows of any length train and a sliding window keeps its cache. Action conditioning is deliberately strong: besides its token, the action a(f) is
/// added through `actionProjection` to every code token of frame f+1, so each predicted code
/// sees the action directly in its own input; frame 0 of a window gets the no-action id. With
/// `actionModulation`, every block also scales and shifts its LayerNorm outputs by that action
/// (for an action token: by its own action, the one leading to the frame it starts predicting).
public final class PriorModel: Module {
    public let config: PriorConfig
    let codeEmbedding: Embedding      // [K, C]
    let actionEmbedding: Embedding    // [A + 1, C]
    let slotEmbedding: Embedding      // [hw + 1, C]
    let rotation: FrameRotation       // frame index → query/key rotation
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
        rotation = FrameRotation(headWidth: c / config.heads)
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
        let tokens = try Tensor.cat([x, a], dim: 2)                                         // [B, F, hw+1, C]
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

    /// One code token per sample: codes `[S]` at `slot`, whose frame follows `previousAction` `[S]` → `[S, 1, C]`.
    func embedCode(_ codes: Tensor, slot: Int, previousAction: Tensor) throws -> Tensor {
        var x = try codeEmbedding(codes) + slotEmbedding.weight.select(dim: 0, index: slot)  // [S, C]
        if config.actionIntoFrame { x = try x + conditioning(previousAction) }
        return try x.unsqueeze(1)
    }

    /// One action token per sample: actions `[S]` → `[S, 1, C]`.
    func embedAction(_ actions: Tensor) throws -> Tensor {
        let x = try actionEmbedding(actions) + slotEmbedding.weight.select(dim: 0, index: config.codesPerFrame)  // [S, C]
        return try x.unsqueeze(1)
    }

    /// The action's additive contribution to the codes of the frame it leads to: `[...]` → `[..., C]`.
    func conditioning(_ actions: Tensor) throws -> Tensor { try actionProjection(actionEmbedding(actions)) }

    // MARK: transformer

    /// Embedded tokens `[B, T, C]` and their conditions `[B, T]` (see `conditions(actions:)`; unused
    /// without `actionModulation`) → final hidden states `[B, T, C]`; with a cache, T new tokens
    /// after the cached ones. `frames` is each token's frame index (nil: whole frames from 0,
    /// `wholeFrames`); attention is banded to `contextFrames` frames counted from the first cached
    /// or given token, a frame's first.
    func hidden(_ x: Tensor, conditions: Tensor?, cache: KVCache? = nil, frames: [Int]? = nil) throws -> Tensor {
        var h = try x.dropout(config.dropout, training: training)
        let oneHot = config.actionModulation ? try conditions?.oneHot(config.actionCount + 1).to(.float32) : nil  // [B, T, A + 1]
        let tables = try rotation.tables(frames: frames ?? wholeFrames(tokens: x.size(1)))                   // [T, d] each
        let band = (group: config.tokensPerFrame, groups: config.contextFrames)
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
