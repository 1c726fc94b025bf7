import NN

// The per-frame VQ-VAE, top to bottom: its config, the encoder (frame → z_e), the vector
// quantizer (z_e → nearest of K codes, straight-through), the decoder (codes → frame), the model.

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
    /// 0 (one block, at the grid level, the recipe's) encodes faster (docs/experiments.md).
    public var encoderBlocksPerLevel: Int? = 0
    /// Commitment weight β of the paper's loss.
    public var beta = 0.25
    /// EMA decay of the codebook updates; 0 trains the codebook by its loss term instead.
    public var emaDecay = 0.99
    /// How a video of another aspect ratio becomes a frame: "stretch" (the whole frame, scaled to
    /// the size), "pad" (the whole frame, letterboxed) or "crop" (the middle). nil, what a config
    /// saved before this field decodes to (the tokenizer shipped until 2026-12-07): "crop", and the field is left
    /// out when encoding, so such a config and its hash stay unchanged.
    public var fit: String? = "stretch"

    public init() {}

    /// Residual blocks the encoder has per level (`encoderBlocksPerLevel`, else `blocksPerLevel`).
    public var encoderBlocks: Int { encoderBlocksPerLevel ?? blocksPerLevel }

    /// Total downsampling factor from frame to grid.
    public var stride: Int { frameWidth / gridWidth }

    /// Problems with this configuration, in words; empty when it is usable.
    public var problems: [String] {
        var out: [String] = []
        if gridWidth < 1 || gridHeight < 1 {
            out.append("grid \(gridWidth)x\(gridHeight) must be positive")
        } else if frameWidth % gridWidth != 0 || frameHeight % gridHeight != 0 {
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
        if !(8...1024).contains(frameWidth) || !(8...1024).contains(frameHeight) {
            out.append("frame \(frameWidth)x\(frameHeight) must be 8...1024 on each side")
        }
        if maxChannels > 1024 { out.append("max channels \(maxChannels) must be at most 1024") }
        if let fit, !["crop", "stretch", "pad"].contains(fit) { out.append("fit '\(fit)' must be crop, stretch or pad") }
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

/// Frame → continuous latents z_e on the code grid.
///
/// A 2× space-to-depth stem (pixel_unshuffle: cheap, lossless) puts the first convolution at half
/// resolution; each further level halves the size with a stride-2 convolution.
final class Encoder: Module {
    let stem: Conv2d                 // [B, 12, H/2, W/2] → [B, C0, H/2, W/2]
    let levels: [[ResidualBlock]]    // blocks at each resolution
    let downs: [Conv2d]              // stride-2 convs between levels
    let norm: GroupNorm
    let project: Conv2d              // → [B, D, h, w]

    init(_ c: VQVAEConfig) {
        let ch = c.levelChannels
        stem = Conv2d(12, ch[0], kernelSize: 3, padding: 1)
        levels = ch.enumerated().map { i, n in
            (0..<(c.encoderBlocks + (i == ch.count - 1 ? 1 : 0))).map { _ in ResidualBlock(n, n) }
        }
        downs = (1..<ch.count).map { Conv2d(ch[$0 - 1], ch[$0], kernelSize: 3, stride: 2, padding: 1) }
        norm = GroupNorm(groups: [32, 16, 8, 4, 2, 1].first { ch.last! % $0 == 0 }!, channels: ch.last!)
        project = Conv2d(ch.last!, c.codeDim, kernelSize: 1)
    }

    var namedParameters: [(String, Tensor)] {
        var out = stem.namedParameters(prefix: "stem")
        for (i, blocks) in levels.enumerated() {
            for (j, block) in blocks.enumerated() { out += block.namedParameters(prefix: "levels.\(i).\(j)") }
            if i < downs.count { out += downs[i].namedParameters(prefix: "downs.\(i)") }
        }
        return out + norm.namedParameters(prefix: "norm") + project.namedParameters(prefix: "project")
    }

    /// x: [B, 3, H, W] in [-1, 1] (NCHW, or channels-last for faster inference) → z_e: [B, D, h, w]
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = try stem(F.pixelUnshuffle(x, 2))      // [B, C0, H/2, W/2]
        for (i, blocks) in levels.enumerated() {
            for block in blocks { h = try block(h) }
            if i < downs.count { h = try downs[i](h) }  // halve the resolution
        }
        return try project(norm(h).silu())            // [B, D, h, w]
    }
}

/// Nearest-codebook-vector quantization (L2) with a straight-through gradient.
///
/// The codebook is trained either by exponential moving averages of the encodings assigned to
/// each code (`emaDecay > 0`, the paper's appendix variant) or by the codebook loss term
/// ‖sg[z_e] − e‖². Codes unused for a while are restarted at random encodings of the batch, so
/// the codebook does not collapse; the first training step initialises every code that way.
final class VectorQuantizer {
    let codebookSize: Int
    let codeDim: Int
    let emaDecay: Double
    /// [K, D]; a trainable parameter only without EMA.
    let codebook: Tensor
    /// EMA of how many encodings each code received per step: [K].
    let emaCount: Tensor
    /// EMA of the sum of encodings assigned to each code: [K, D].
    let emaSum: Tensor

    init(codebookSize: Int, codeDim: Int, emaDecay: Double) throws {
        self.codebookSize = codebookSize
        self.codeDim = codeDim
        self.emaDecay = emaDecay
        let bound = 1 / Double(codebookSize)
        let initial = Init.uniform([codebookSize, codeDim], bound: bound)
        codebook = emaDecay > 0 ? try initial.detach() : initial
        emaCount = try Tensor.zeros([codebookSize])
        emaSum = try Tensor.zeros([codebookSize, codeDim])
    }

    /// Trainable tensors (the codebook only when it is trained by its loss term).
    var namedParameters: [(String, Tensor)] { emaDecay > 0 ? [] : [("codebook", codebook)] }

    /// Everything saved in a checkpoint.
    var namedState: [(String, Tensor)] { [("codebook", codebook), ("ema_count", emaCount), ("ema_sum", emaSum)] }

    struct Output {
        let quantized: Tensor      // [B, D, h, w], straight-through: forward = e, backward = identity to z_e
        let indices: Tensor        // [B, h, w] int64
        let commitment: Tensor     // ‖z_e − sg[e]‖² (mean)
        let codebookLoss: Tensor   // ‖sg[z_e] − e‖² (mean)
    }

    /// Index of the nearest code for each row of `z`: [N, D] → [N].
    func nearest(_ z: Tensor) throws -> Tensor {
        try Tensor.noGrad {
            let e = try codebook.detach()
            // ‖z − e‖² = ‖z‖² − 2 z·e + ‖e‖²; ‖z‖² is the same for every code, so it is dropped.
            let scores = try e.square().sum(dim: 1).unsqueeze(0) - 2 * z.matmul(e.transpose(0, 1))  // [N, K]
            return try scores.argmin(dim: 1)
        }
    }

    /// z_e: [B, D, h, w] → quantized latents, code indices and the two loss terms.
    func callAsFunction(_ ze: Tensor) throws -> Output {
        let (b, d, h, w) = (ze.size(0), ze.size(1), ze.size(2), ze.size(3))
        let z = try ze.permute([0, 2, 3, 1]).reshape([b * h * w, d])       // [N, D]
        let indices = try nearest(z.detach())                                // [N]
        let e = try F.embedding(codebook, indices)                           // [N, D]
        let commitment = try F.mseLoss(z, e.detach())
        let codebookLoss = try F.mseLoss(z.detach(), e)
        let straight = try z + (e - z).detach()                              // value e, gradient to z
        let quantized = try straight.reshape([b, h, w, d]).permute([0, 3, 1, 2]).contiguous()  // [B, D, h, w]
        return Output(quantized: quantized, indices: try indices.reshape([b, h, w]),
                      commitment: commitment, codebookLoss: codebookLoss)
    }

    /// Codebook vectors for indices: [B, h, w] int64 → [B, D, h, w].
    func lookup(_ indices: Tensor) throws -> Tensor {
        try F.embedding(codebook, indices).permute([0, 3, 1, 2]).contiguous()
    }

    /// One EMA step from a batch's encodings `z` [N, D] and their codes [N], then restarts of
    /// dead codes (EMA count of assignments per step below `deadThreshold`) at random rows of `z`.
    /// Returns how many codes were restarted.
    /// In a data-parallel `group`, `z` and `indices` are this rank's rows of the batch: the counts
    /// and sums are summed over the ranks, and restarts draw from the whole batch's encodings, so
    /// every rank makes the update one process with the whole batch would.
    @discardableResult
    func update(_ z: Tensor, _ indices: Tensor, deadThreshold: Double, group: ProcessGroup? = nil) throws -> Int {
        try Tensor.noGrad {
            var z = try z.detach()
            if emaDecay > 0 {
                let onehot = try indices.oneHot(codebookSize).to(.float32)              // [N, K]
                let counts = try onehot.sum(dim: 0), sums = try onehot.transpose(0, 1).matmul(z)   // [K], [K, D]
                try group?.allReduceSum([counts, sums])
                try emaCount.mulInPlace(emaDecay)
                try emaCount.addInPlace(counts, alpha: 1 - emaDecay)
                try emaSum.mulInPlace(emaDecay)
                try emaSum.addInPlace(sums, alpha: 1 - emaDecay)
                // Laplace-smoothed counts keep rarely used codes from dividing by ~0.
                let total = try emaCount.sum()
                let smoothed = try (emaCount + 1e-5) / (total + 1e-5 * Double(codebookSize)) * total
                try codebook.copyFrom(emaSum / smoothed.unsqueeze(1))
            } else {
                let counts = try indices.oneHot(codebookSize).to(.float32).sum(dim: 0)
                try group?.allReduceSum([counts])
                try emaCount.mulInPlace(0.99)
                try emaCount.addInPlace(counts, alpha: 0.01)
            }
            let dead = try emaCount.lt(deadThreshold)                                    // [K] bool
            let deadCount = Int(try dead.to(.float32).sum().item())
            guard deadCount > 0 else { return 0 }
            if let group {
                // The whole batch's encodings, rank by rank in batch order.
                let rows = z.size(0), whole = try Tensor.zeros([rows * group.size, z.size(1)])
                try whole.narrow(dim: 0, start: group.rank * rows, length: rows).copyFrom(z)
                try group.allReduceSum([whole])
                z = whole
            }
            // A restarted code starts at the threshold: unless data comes to it, it decays below and
            // is restarted again next step, until it lands somewhere the encoder actually goes.
            let picks = try Tensor.randint(0, z.size(0), [codebookSize])
            let candidates = try z.indexSelect(dim: 0, index: picks)                     // [K, D]
            let mask = try dead.unsqueeze(1)                                             // [K, 1]
            try codebook.copyFrom(Tensor.where(mask, candidates, codebook))
            try emaSum.copyFrom(Tensor.where(mask, candidates * deadThreshold, emaSum))
            try emaCount.copyFrom(Tensor.where(dead, Tensor.full([codebookSize], deadThreshold), emaCount))
            return deadCount
        }
    }
}

/// Quantized latents z_q on the code grid → frame.
///
/// Mirrors the encoder without transposed convolutions (slow in this libtorch): nearest-neighbour
/// upsampling + 3×3 convolution per level, and a 2× depth-to-space (pixel_shuffle) head.
final class Decoder: Module {
    let input: Conv2d               // [B, D, h, w] → [B, C_last, h, w]
    let levels: [[ResidualBlock]]   // blocks at each resolution, lowest first
    let ups: [Conv2d]               // conv after each 2× upsample
    let norm: GroupNorm
    let head: Conv2d                // → [B, 12, H/2, W/2], then pixel_shuffle → [B, 3, H, W]

    init(_ c: VQVAEConfig) {
        let ch = Array(c.levelChannels.reversed())  // lowest resolution first
        input = Conv2d(c.codeDim, ch[0], kernelSize: 3, padding: 1)
        levels = ch.enumerated().map { i, n in
            (0..<(c.blocksPerLevel + (i == 0 ? 1 : 0))).map { _ in ResidualBlock(n, n) }
        }
        ups = (1..<ch.count).map { Conv2d(ch[$0 - 1], ch[$0], kernelSize: 3, padding: 1) }
        norm = GroupNorm(groups: [32, 16, 8, 4, 2, 1].first { ch.last! % $0 == 0 }!, channels: ch.last!)
        head = Conv2d(ch.last!, 12, kernelSize: 3, padding: 1)
    }

    var namedParameters: [(String, Tensor)] {
        var out = input.namedParameters(prefix: "input")
        for (i, blocks) in levels.enumerated() {
            for (j, block) in blocks.enumerated() { out += block.namedParameters(prefix: "levels.\(i).\(j)") }
            if i < ups.count { out += ups[i].namedParameters(prefix: "ups.\(i)") }
        }
        return out + norm.namedParameters(prefix: "norm") + head.namedParameters(prefix: "head")
    }

    /// z_q: [B, D, h, w] → x̂: [B, 3, H, W] (unbounded; [-1, 1] is the picture range)
    func callAsFunction(_ z: Tensor) throws -> Tensor {
        var h = try input(z)                                     // [B, C, h, w]
        for (i, blocks) in levels.enumerated() {
            for block in blocks { h = try block(h) }
            if i < ups.count { h = try ups[i](F.upsampleNearest(h, scale: 2)) }  // double the resolution
        }
        return try F.pixelShuffle(head(norm(h).silu()), 2)      // [B, 3, H, W]
    }
}

/// The per-frame VQ-VAE tokenizer (van den Oord et al. 2017): encoder z_e(x), nearest code in a
/// K×D codebook, decoder. Frames are `height × width × 3` RGB bytes; codes are a `gridHeight ×
/// gridWidth` grid of indices < K per frame.
public final class VQVAE {
    public private(set) var config: VQVAEConfig
    let encoder: Encoder
    let decoder: Decoder
    let quantizer: VectorQuantizer

    /// A freshly initialised model (deterministic for a given `Torch.manualSeed`).
    public init(config: VQVAEConfig) throws {
        let problems = config.problems
        guard problems.isEmpty else { throw TorchError(op: "VQVAE", message: problems.joined(separator: "; ")) }
        self.config = config
        encoder = Encoder(config)
        decoder = Decoder(config)
        quantizer = try VectorQuantizer(codebookSize: config.codebookSize, codeDim: config.codeDim, emaDecay: config.emaDecay)
    }

    /// Reads frames fitted this way from now on (`fit` is how frames are read, not a weight: a
    /// tokenizer fine-tuned from another may fit its footage differently).
    public func setFit(_ fit: String?) { config.fit = fit }

    /// Trainable parameters, with PyTorch-style names (`encoder.stem.weight`, ...).
    public var namedParameters: [(String, Tensor)] {
        encoder.namedParameters(prefix: "encoder") + decoder.namedParameters(prefix: "decoder")
            + quantizer.namedParameters.map { ("quantizer.\($0.0)", $0.1) }
    }

    /// Everything that defines the model: parameters plus the codebook and its EMA statistics.
    public var stateDict: [(String, Tensor)] {
        encoder.namedParameters(prefix: "encoder") + decoder.namedParameters(prefix: "decoder")
            + quantizer.namedState.map { ("quantizer.\($0.0)", $0.1) }
    }

    /// Number of trainable numbers (the codebook included).
    public var parameterCount: Int { stateDict.filter { !$0.0.hasPrefix("quantizer.ema") }.reduce(0) { $0 + $1.1.numel } }

    /// Copies weights in by name; every tensor must be present with the right shape.
    public func load(_ values: [String: Tensor]) throws {
        let expected = stateDict
        let missing = expected.map(\.0).filter { values[$0] == nil }
        guard missing.isEmpty else {
            throw TorchError(op: "VQVAE.load", message: "checkpoint lacks \(missing.count) tensors, e.g. \(missing.prefix(3).joined(separator: ", "))")
        }
        try Tensor.noGrad {
            for (name, tensor) in expected {
                let value = values[name]!
                guard value.shape == tensor.shape else {
                    throw TorchError(op: "VQVAE.load", message: "\(name) has shape \(value.shape), the model expects \(tensor.shape)")
                }
                try tensor.copyFrom(value.to(.float32))
            }
        }
    }

    /// Everything the training step needs from one forward pass.
    struct Forward {
        let reconstruction: Tensor  // [B, 3, H, W]
        let latents: Tensor         // z_e flattened: [N, D]
        let quantized: VectorQuantizer.Output
    }

    /// x: [B, 3, H, W] in [-1, 1] → reconstruction, encodings and codes.
    func forward(_ x: Tensor) throws -> Forward {
        let ze = try encoder(x)                                   // [B, D, h, w]
        let q = try quantizer(ze)                                 // codes [B, h, w], e [B, D, h, w]
        let reconstruction = try decoder(q.quantized)             // [B, 3, H, W]
        let latents = try ze.permute([0, 2, 3, 1]).reshape([-1, config.codeDim])
        return Forward(reconstruction: reconstruction, latents: latents, quantized: q)
    }

    /// Codes of `count` frames given as packed RGB bytes: [count, h, w] row-major.
    public func encode(frames: [UInt8], count: Int) throws -> [UInt16] {
        try Tensor.noGrad {
            let x = try FrameTensor.fromBytes(frames, count: count, width: config.frameWidth, height: config.frameHeight)
            let ze = try encoder(x.channelsLast())                                     // [B, D, h, w]
            let z = try ze.permute([0, 2, 3, 1]).reshape([-1, config.codeDim])        // [N, D]
            return try quantizer.nearest(z).int64s().map { UInt16($0) }
        }
    }

    /// Frames (packed RGB bytes) of `count` code grids given row-major.
    public func decode(codes: [UInt16], count: Int) throws -> [UInt8] {
        try Tensor.noGrad {
            let indices = try Tensor(codes.map { Int64($0) }, shape: [count, config.gridHeight, config.gridWidth])
            return try FrameTensor.toBytes(decoder(quantizer.lookup(indices)))
        }
    }

    /// The codebook's vectors, `[K, D]` row-major: what a code stands for before the decoder.
    public func codeVectors() throws -> [Float] { try quantizer.codebook.floats() }

    /// Encode then decode, in one pass (no codes leave libtorch).
    public func reconstruct(frames: [UInt8], count: Int) throws -> [UInt8] {
        try Tensor.noGrad {
            let x = try FrameTensor.fromBytes(frames, count: count, width: config.frameWidth, height: config.frameHeight)
            return try FrameTensor.toBytes(forward(x).reconstruction)
        }
    }
}

/// Conversions between packed RGB bytes and model tensors.
public enum FrameTensor {
    /// [count × H × W × 3] bytes → [count, 3, H, W] float in [-1, 1].
    public static func fromBytes(_ bytes: [UInt8], count: Int, width: Int, height: Int) throws -> Tensor {
        guard bytes.count == count * width * height * 3 else {
            throw TorchError(op: "FrameTensor", message: "expected \(count) frames of \(width)x\(height)x3 bytes, got \(bytes.count) bytes")
        }
        let u8 = try Tensor(bytes, shape: [count, height, width, 3])
        return try u8.permute([0, 3, 1, 2]).to(.float32) / 127.5 - 1
    }

    /// [B, 3, H, W] float in [-1, 1] → packed RGB bytes (clamped, rounded).
    public static func toBytes(_ x: Tensor) throws -> [UInt8] {
        let pixels = try ((x + 1) * 127.5).clamp(min: 0, max: 255).rounded().to(.uint8)
        return try pixels.permute([0, 2, 3, 1]).contiguous().uint8s()
    }
}
