/// Shape of a VQ-VAE tokenizer. Stored in checkpoints as JSON metadata.
public struct VQVAEConfig: Codable, Sendable, Equatable {
    /// Frame size the model encodes (square frames are not required).
    public var frameWidth = 64
    public var frameHeight = 64
    /// Code grid size: the frame is downsampled by `frameWidth / gridWidth` (4 or 8).
    public var gridWidth = 8
    public var gridHeight = 8
    /// Number of codebook entries K.
    public var codebookSize = 512
    /// Dimension D of each codebook vector.
    public var codeDim = 16
    /// Channels at the highest resolution (half the frame size); doubled at each lower level.
    public var baseChannels = 64
    /// Upper limit on channels at the lower-resolution levels.
    public var maxChannels = 128
    /// Residual blocks per resolution level (the decoder and encoder each add one at the grid level).
    public var blocksPerLevel = 1
    /// Encoder blocks per level; nil means `blocksPerLevel` (tokenizers saved before this field).
    /// 0 (one block, at the grid level) encodes ~4× faster and trained better per minute here.
    public var encoderBlocksPerLevel: Int? = 0
    /// Commitment weight β of the paper's loss.
    public var beta = 0.25
    /// EMA decay of the codebook updates; 0 trains the codebook by its loss term instead.
    public var emaDecay = 0.99

    public init() {}

    /// Residual blocks the encoder has per level (`encoderBlocksPerLevel`, else `blocksPerLevel`).
    public var encoderBlocks: Int { encoderBlocksPerLevel ?? blocksPerLevel }

    /// Total downsampling factor from frame to grid.
    public var stride: Int { frameWidth / gridWidth }

    /// Problems with this configuration, in words; empty when it is usable.
    public var problems: [String] {
        var out: [String] = []
        if frameWidth % gridWidth != 0 || frameHeight % gridHeight != 0 {
            out.append("frame \(frameWidth)x\(frameHeight) is not a multiple of grid \(gridWidth)x\(gridHeight)")
        } else if frameWidth / gridWidth != frameHeight / gridHeight {
            out.append("grid \(gridWidth)x\(gridHeight) must downsample both sides of \(frameWidth)x\(frameHeight) equally")
        } else if ![2, 4, 8, 16].contains(stride) {
            out.append("downsampling \(stride)x is not supported (use 2, 4, 8 or 16)")
        }
        if !(2...65536).contains(codebookSize) { out.append("codebook size \(codebookSize) must be 2...65536") }
        if !(1...1024).contains(codeDim) { out.append("code dimension \(codeDim) must be 1...1024") }
        if baseChannels < 8 || baseChannels % 8 != 0 { out.append("base channels \(baseChannels) must be a multiple of 8") }
        if maxChannels < baseChannels || maxChannels % 8 != 0 { out.append("max channels \(maxChannels) must be a multiple of 8, at least the base channels") }
        if !(0...16).contains(blocksPerLevel) { out.append("blocks per level \(blocksPerLevel) must be 0...16") }
        if !(0...16).contains(encoderBlocks) { out.append("encoder blocks per level \(encoderBlocks) must be 0...16") }
        if !(0..<1).contains(emaDecay) { out.append("EMA decay \(emaDecay) must be in [0, 1)") }
        return out
    }

    /// Channel count at each resolution level below the 2× space-to-depth stem:
    /// level 0 is frame/2, the last level is the grid.
    var levelChannels: [Int] {
        var levels: [Int] = []
        var size = stride / 2
        var channels = baseChannels
        while true {
            levels.append(channels)
            if size <= 1 { break }
            size /= 2
            channels = min(channels * 2, maxChannels)
        }
        return levels
    }
}
