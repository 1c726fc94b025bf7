import NN

/// A small PatchGAN discriminator (Isola et al. 2017): a real/fake score for each overlapping
/// patch of a frame rather than one per frame, so it judges local texture and edges, the detail a
/// squared-error loss blurs away. Used only in training (`TokenizerTrainingOptions.adversarialWeight`).
final class PatchDiscriminator: Module {
    let convs: [Conv2d]       // 4×4 kernels: two stride-2 layers, then stride 1
    let norms: [GroupNorm]    // after every convolution but the first and the last
    let head: Conv2d          // → one score per patch

    /// `channels` at the first layer, doubled at each later one.
    init(channels: Int = 32) {
        convs = [
            Conv2d(3, channels, kernelSize: 4, stride: 2, padding: 1),                // H/2
            Conv2d(channels, channels * 2, kernelSize: 4, stride: 2, padding: 1),     // H/4
            Conv2d(channels * 2, channels * 4, kernelSize: 4, stride: 1, padding: 1), // H/4 − 1
        ]
        norms = [GroupNorm(groups: 8, channels: channels * 2), GroupNorm(groups: 8, channels: channels * 4)]
        head = Conv2d(channels * 4, 1, kernelSize: 4, stride: 1, padding: 1)         // H/4 − 2
    }

    var namedParameters: [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for (i, conv) in convs.enumerated() { out += conv.namedParameters(prefix: "convs.\(i)") }
        for (i, norm) in norms.enumerated() { out += norm.namedParameters(prefix: "norms.\(i)") }
        return out + head.namedParameters(prefix: "head")
    }

    /// x: [B, 3, H, W] in [-1, 1] → scores [B, 1, H/4 − 2, W/4 − 2] (positive: looks real).
    func callAsFunction(_ x: Tensor) throws -> Tensor {
        var h = try Self.leakyReLU(convs[0](x))                                   // [B, C, H/2, W/2]
        for (conv, norm) in zip(convs.dropFirst(), norms) { h = try Self.leakyReLU(norm(conv(h))) }
        return try head(h)
    }

    /// max(x, 0.2·x)
    static func leakyReLU(_ x: Tensor) throws -> Tensor { try x.maximum(x * 0.2) }

    /// Hinge loss of the discriminator: mean(relu(1 − D(real))) + mean(relu(1 + D(fake))).
    static func hingeLoss(real: Tensor, fake: Tensor) throws -> Tensor {
        try (1 - real).relu().mean() + (1 + fake).relu().mean()
    }
}
