import NN

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
