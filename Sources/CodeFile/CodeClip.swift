/// A clip tokenized by the VQ-VAE: one grid of code indices per frame, the action taken after
/// each frame, episode boundaries, and where the codes came from.
///
/// Stored as a safetensors file (see `CodeFileFormat`) holding `codes` (U16, [T, h, w]),
/// `actions` (I32, [T]) and `episode_start` (U8, [T]) plus string metadata.
public struct CodeClip: Sendable, Equatable {
    /// Code indices, row-major [T, gridH, gridW], each `< codebookSize`.
    public var codes: [UInt16]
    /// The number of frames T (at least 1).
    public var frames: Int
    /// Code-grid rows per frame.
    public var gridH: Int
    /// Code-grid columns per frame.
    public var gridW: Int
    /// The action id taken after frame t; −1 where unknown. Indexes `actionNames` when that is non-empty.
    public var actions: [Int32]
    /// Whether a new episode begins at frame t; frame 0 always begins one.
    public var episodeStart: [Bool]
    /// Frames per second of the source video.
    public var fps: Double
    /// Width in pixels of the frames the tokenizer saw.
    public var frameWidth: Int
    /// Height in pixels of the frames the tokenizer saw.
    public var frameHeight: Int
    /// The number of codes K in the tokenizer's codebook.
    public var codebookSize: Int
    /// SHA-256 (hex) of the tokenizer checkpoint that made the codes.
    public var tokenizerHash: String
    /// Path of the source video.
    public var source: String
    /// Size in bytes of the source video.
    public var sourceBytes: Int
    /// SHA-256 (hex) of the source video, if known.
    public var sourceHash: String?
    /// Names of the action ids (index = id); empty when the actions are unnamed.
    public var actionNames: [String]
    /// For predicted clips: frames before this index are real context, the rest were generated.
    /// `nil` for clips encoded from video.
    public var contextFrames: Int?
    /// Index in the source video of this clip's first frame (0 unless the clip is an excerpt).
    public var sourceStart: Int?

    /// Creates a clip; `codes` is row-major [frames, gridH, gridW]. Consistency is checked by `write`.
    public init(
        codes: [UInt16], frames: Int, gridH: Int, gridW: Int,
        actions: [Int32], episodeStart: [Bool],
        fps: Double, frameWidth: Int, frameHeight: Int,
        codebookSize: Int, tokenizerHash: String,
        source: String, sourceBytes: Int, sourceHash: String? = nil,
        actionNames: [String] = [],
        contextFrames: Int? = nil,
        sourceStart: Int? = nil
    ) {
        self.contextFrames = contextFrames
        self.sourceStart = sourceStart
        self.codes = codes
        self.frames = frames
        self.gridH = gridH
        self.gridW = gridW
        self.actions = actions
        self.episodeStart = episodeStart
        self.fps = fps
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.codebookSize = codebookSize
        self.tokenizerHash = tokenizerHash
        self.source = source
        self.sourceBytes = sourceBytes
        self.sourceHash = sourceHash
        self.actionNames = actionNames
    }

    /// Codes per frame, `gridH * gridW`.
    public var codesPerFrame: Int {
        gridH * gridW
    }

    /// The row-major [gridH, gridW] code grid of frame `t` (0 ≤ t < frames).
    public func frame(_ t: Int) -> ArraySlice<UInt16> {
        precondition(t >= 0 && t < frames, "frame \(t) is out of range 0..<\(frames)")
        return codes[t * codesPerFrame..<(t + 1) * codesPerFrame]
    }
}
