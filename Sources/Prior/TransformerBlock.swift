import NN

/// Pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)), with a GELU MLP of 4× width.
final class TransformerBlock: Module {
    let ln1: LayerNorm
    let attn: CausalSelfAttention
    let ln2: LayerNorm
    let fc: Linear     // C → 4C
    let proj: Linear   // 4C → C
    let dropout: Double

    init(width: Int, heads: Int, dropout: Double) {
        ln1 = LayerNorm(width)
        attn = CausalSelfAttention(width: width, heads: heads)
        ln2 = LayerNorm(width)
        fc = Linear(width, 4 * width)
        proj = Linear(4 * width, width)
        self.dropout = dropout
    }

    var namedParameters: [(String, Tensor)] {
        ln1.namedParameters(prefix: "ln1") + attn.namedParameters(prefix: "attn") + ln2.namedParameters(prefix: "ln2")
            + fc.namedParameters(prefix: "mlp.fc") + proj.namedParameters(prefix: "mlp.proj")
    }

    /// x `[B, T, C]` → `[B, T, C]`.
    func callAsFunction(_ x: Tensor, cache: KVCache.Layer?, training: Bool) throws -> Tensor {
        let a = try attn(ln1(x), cache: cache).dropout(dropout, training: training)
        let h = try x + a
        let m = try proj(fc(ln2(h)).gelu()).dropout(dropout, training: training)
        return try h + m
    }
}
