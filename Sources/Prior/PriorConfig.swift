/// Shape of the transformer prior. Stored in checkpoints as JSON metadata.
public struct PriorConfig: Codable, Sendable, Equatable {
    /// Transformer blocks.
    public var layers = 4
    /// Residual-stream width C.
    public var width = 256
    /// Attention heads (must divide `width`).
    public var heads = 4
    /// Frames in the attention window: a token sees its own frame and the `contextFrames − 1` before it.
    /// The sampler's sliding window has this many frames.
    public var contextFrames = 8
    /// How a token's frame enters the model (see `FramePositions`).
    public var framePositions = FramePositions.learned
    /// Frames per training window with rotary frame positions (at least `contextFrames`): attention
    /// stays banded to `contextFrames` frames, so the model trains on what a sliding cache gives it
    /// (earlier frames reaching it through the frames it sees). Learned frame positions ignore it
    /// and train on `contextFrames` (see `trainingWindow`).
    public var trainingFrames = 8
    /// Code-grid columns per frame.
    public var gridWidth = 8
    /// Code-grid rows per frame.
    public var gridHeight = 8
    /// Number of codes K of the tokenizer whose codes the prior models.
    public var codebookSize = 512
    /// Number of named actions; id `actionCount` is the learned "no / unknown action".
    public var actionCount = 1
    /// Dropout on embeddings and residual branches while training.
    public var dropout = 0.1
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
        framePositions = try c.decodeIfPresent(FramePositions.self, forKey: .framePositions) ?? .learned
        trainingFrames = try c.decodeIfPresent(Int.self, forKey: .trainingFrames) ?? contextFrames
    }

    /// Frames per training window: `trainingFrames` with rotary frame positions, else `contextFrames`.
    public var trainingWindow: Int { framePositions == .rotary ? trainingFrames : contextFrames }

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
        switch framePositions {
        case .learned: break
        case .rotary where trainingFrames < contextFrames:
            out.append("training frames \(trainingFrames) must be at least the context of \(contextFrames) frames")
        case .rotary where heads >= 1 && width % heads == 0 && (width / heads) % 2 != 0:
            out.append("rotary frame positions need an even head width (width \(width) / heads \(heads))")
        default: break
        }
        return out
    }
}

/// How a prior's tokens know their frame.
public enum FramePositions: String, Codable, Sendable, CaseIterable {
    /// A learned embedding per frame index within the window, added to every token. When the
    /// window slides, every frame's index changes, so the sampler feeds the window again.
    case learned
    /// Rotary embedding (RoPE) of the frame index in every query and key: attention scores depend
    /// only on frame distances, so when the window slides the cached keys and values stay valid and
    /// the oldest frame is simply dropped. Training uses banded attention over `trainingFrames`.
    case rotary
}
