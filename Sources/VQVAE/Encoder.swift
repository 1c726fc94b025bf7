import NN

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
