import NN

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
