import NN

/// The per-frame VQ-VAE tokenizer (van den Oord et al. 2017): encoder z_e(x), nearest code in a
/// K×D codebook, decoder. Frames are `height × width × 3` RGB bytes; codes are a `gridHeight ×
/// gridWidth` grid of indices < K per frame.
public final class VQVAE {
    public let config: VQVAEConfig
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
