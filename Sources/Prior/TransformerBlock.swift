import NN

/// Pre-LayerNorm transformer block: x + attn(ln1(x)), then + mlp(ln2(x)), with a GELU MLP of 4× width.
///
/// With action modulation (adaptive LayerNorm) each LayerNorm output is also scaled and shifted per
/// position by its condition, an action id: ln(x)·(1 + scale) + shift, the four vectors of a block
/// (scale and shift of ln1 and of ln2) being one row of `modulation`. The table starts at zero,
/// so a fresh block computes exactly the plain one. Each of the four vectors is picked by its own
/// product of the conditions' one-hot vectors with a `[A + 1, C]` slice of the table (slicing the
/// small table, not the `[B, T, 4C]` product, keeps every backward free of full-size zero tensors).
final class TransformerBlock: Module {
    let ln1: LayerNorm
    let attn: CausalSelfAttention
    let ln2: LayerNorm
    let fc: Linear     // C → 4C
    let proj: Linear   // 4C → C
    let modulation: Tensor?      // [A + 1, 4C]: scale₁, shift₁, scale₂, shift₂ per action
    let ones: Tensor             // [C]: the 1 of 1 + scale
    let dropout: Double

    init(width: Int, heads: Int, dropout: Double, conditions: Int? = nil) throws {
        ln1 = LayerNorm(width)
        attn = CausalSelfAttention(width: width, heads: heads)
        ln2 = LayerNorm(width)
        fc = Linear(width, 4 * width)
        proj = Linear(4 * width, width)
        modulation = conditions.map { Init.constant([$0, 4 * width], 0) }
        ones = try Tensor.ones([width])
        self.dropout = dropout
    }

    var namedParameters: [(String, Tensor)] {
        ln1.namedParameters(prefix: "ln1") + attn.namedParameters(prefix: "attn") + ln2.namedParameters(prefix: "ln2")
            + fc.namedParameters(prefix: "mlp.fc") + proj.namedParameters(prefix: "mlp.proj")
            + (modulation.map { [("modulation.weight", $0)] } ?? [])
    }

    /// x `[B, T, C]`, with modulation each position's condition one-hot `[B, T, A + 1]` (float) → `[B, T, C]`;
    /// `rotation` and `band` go to the attention.
    func callAsFunction(_ x: Tensor, conditions: Tensor?, cache: KVCache.Layer?, training: Bool,
                        rotation: (cos: Tensor, sin: Tensor)? = nil, band: (group: Int, groups: Int)? = nil) throws -> Tensor {
        if modulation != nil && conditions == nil { throw PriorError(.invalidConfig("a modulated block needs each position's action")) }
        let a = try attn(modulate(ln1(x), conditions, part: 0), cache: cache, rotation: rotation, band: band)
            .dropout(dropout, training: training)
        let h = try x + a
        let f = try proj(fc(modulate(ln2(h), conditions, part: 1)).gelu()).dropout(dropout, training: training)
        return try h + f
    }

    /// shift + n·(1 + scale) with part `part` (0: ln1, 1: ln2) of the modulation; n itself without one.
    private func modulate(_ n: Tensor, _ conditions: Tensor?, part: Int) throws -> Tensor {
        guard let modulation, let conditions else { return n }
        let c = n.size(2)
        let scale = try modulation.narrow(dim: 1, start: 2 * part * c, length: c)           // [A + 1, C]
        let shift = try modulation.narrow(dim: 1, start: (2 * part + 1) * c, length: c)
        let onePlusScale = try F.linear(conditions, scale.transpose(0, 1), ones)           // [B, T, C]
        return try F.linear(conditions, shift.transpose(0, 1)).addcmul(n, onePlusScale)   // [B, T, C]
    }
}
