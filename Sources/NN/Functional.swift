import CTorch

/// Loss reductions.
public enum Reduction: Int32, Sendable {
    case none = 0, mean = 1, sum = 2
}

/// Stateless neural-network ops (PyTorch's `torch.nn.functional`).
public enum F {
    /// `x · wᵀ + b`; x `[..., in]`, w `[out, in]`, b `[out]`.
    public static func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor? = nil) throws -> Tensor {
        try Tensor.make("linear", [x, w, b]) { ct_linear($0[0], $0[1], $0[2]) }
    }
    public static func conv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                              dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        let (s, p, d, g) = (Int64(stride), Int64(padding), Int64(dilation), Int64(groups))
        return try Tensor.make("conv2d", [x, w, b]) { ct_conv2d($0[0], $0[1], $0[2], s, s, p, p, d, d, g) }
    }
    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        try Tensor.make("groupNorm", [x, weight, bias]) { ct_group_norm($0[0], Int64(groups), $0[1], $0[2], eps) }
    }
    public static func layerNorm(_ x: Tensor, normalizedShape: [Int], weight: Tensor?, bias: Tensor?,
                                 eps: Double = 1e-5) throws -> Tensor {
        try Tensor.make("layerNorm", [x, weight, bias]) { h in
            withShape(normalizedShape) { ct_layer_norm(h[0], $0, $1, h[1], h[2], eps) }
        }
    }
    /// `[N, C·r², H, W] -> [N, C, H·r, W·r]`.
    public static func pixelShuffle(_ x: Tensor, _ r: Int) throws -> Tensor {
        try x.make("pixelShuffle") { ct_pixel_shuffle($0, Int64(r)) }
    }
    public static func pixelUnshuffle(_ x: Tensor, _ r: Int) throws -> Tensor {
        try x.make("pixelUnshuffle") { ct_pixel_unshuffle($0, Int64(r)) }
    }
    public static func upsampleNearest(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        try x.make("upsampleNearest") { ct_upsample_nearest2d($0, Int64(height), Int64(width)) }
    }
    public static func upsampleNearest(_ x: Tensor, scale: Int) throws -> Tensor {
        let s = x.shape
        guard s.count == 4 else { throw TorchError(op: "upsampleNearest", message: "expected [N, C, H, W], got \(s)") }
        return try upsampleNearest(x, height: s[2] * scale, width: s[3] * scale)
    }
    public static func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil) throws -> Tensor {
        try x.make("avgPool2d") { ct_avg_pool2d($0, Int64(kernel), Int64(stride ?? kernel)) }
    }
    /// Rows of `weight` at int64 `indices`.
    public static func embedding(_ weight: Tensor, _ indices: Tensor) throws -> Tensor {
        try weight.make("embedding", indices) { ct_embedding($0, $1) }
    }
    /// Bool `[tq, tk]`, true where query i may attend key j (j ≤ i + tk − tq).
    public static func causalMask(_ tq: Int, _ tk: Int? = nil) throws -> Tensor {
        try Tensor.adopt("causalMask", ct_causal_mask(Int64(tq), Int64(tk ?? tq)))
    }
    /// softmax(q kᵀ · scale [masked]) v; q,k,v `[..., T, d]`, mask bool (true = keep), broadcastable.
    /// With `band` (causal only), key positions form groups of `group` (counted from key 0) and a
    /// query sees only the keys of its own group and the `groups − 1` before it.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, mask: Tensor? = nil, causal: Bool = false,
                                 band: (group: Int, groups: Int)? = nil, scale: Double? = nil) throws -> Tensor {
        let (group, groups) = band.map { (Int64($0.group), Int64($0.groups)) } ?? (0, 0)
        return try Tensor.make("attention", [q, k, v, mask]) {
            ct_attention($0[0], $0[1], $0[2], $0[3], ctBool(causal), group, groups, scale ?? 0)
        }
    }
    public static func mseLoss(_ a: Tensor, _ b: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try a.make("mseLoss", b) { ct_mse_loss($0, $1, reduction.rawValue) }
    }
    public static func l1Loss(_ a: Tensor, _ b: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        try a.make("l1Loss", b) { ct_l1_loss($0, $1, reduction.rawValue) }
    }
    /// logits `[N, C]` (or `[N, C, d…]`), int64 targets `[N]` (or `[N, d…]`), in nats.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, ignoreIndex: Int = -100,
                                    labelSmoothing: Double = 0, reduction: Reduction = .mean) throws -> Tensor {
        try logits.make("crossEntropy", target) {
            ct_cross_entropy($0, $1, Int64(ignoreIndex), labelSmoothing, reduction.rawValue)
        }
    }
}
