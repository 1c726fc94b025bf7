import NN

/// A snapshot of a `PriorModel`'s weights as float arrays laid out for `PriorDecoder`: linear
/// weights transposed to `[in, out]` and packed in column panels (`PackedMatrix`), and the action
/// conditioning `actionProjection(actionEmbedding(a))` precomputed for every action id.
final class DecoderWeights {
    /// One transformer block.
    struct Layer {
        let ln1Gamma: FloatBuffer, ln1Beta: FloatBuffer    // [C]
        let qkv: PackedMatrix, qkvBias: FloatBuffer        // [C, 3C], [3C]: queries, keys, values
        let attnProj: PackedMatrix, attnProjBias: FloatBuffer  // [C, C], [C]
        let ln2Gamma: FloatBuffer, ln2Beta: FloatBuffer    // [C]
        let fc: PackedMatrix, fcBias: FloatBuffer          // [C, 4C], [4C]
        let proj: PackedMatrix, projBias: FloatBuffer      // [4C, C], [C]
        let modulation: FloatBuffer?                       // [A + 1, 4C]: scale₁, shift₁, scale₂, shift₂ per action
    }

    let config: PriorConfig
    let codeEmbedding: FloatBuffer    // [K, C]
    let actionEmbedding: FloatBuffer  // [A + 1, C]
    let slotEmbedding: FloatBuffer    // [hw + 1, C]
    let conditioning: FloatBuffer     // [A + 1, C]: what action a adds to the codes of the frame it leads to
    let layers: [Layer]
    let lnFinalGamma: FloatBuffer, lnFinalBeta: FloatBuffer  // [C]
    let head: PackedMatrix, headBias: FloatBuffer            // [C, K], [K]

    init(_ model: PriorModel) throws {
        config = model.config
        func copy(_ t: Tensor?) throws -> FloatBuffer {
            guard let t else { throw PriorError(.invalidConfig("the Swift decoder needs affine LayerNorms and linear biases")) }
            return FloatBuffer(try t.contiguous().floats())
        }
        func transposed(_ linear: Linear) throws -> PackedMatrix {
            let (out, inputs) = (linear.weight.size(0), linear.weight.size(1))
            return PackedMatrix(try linear.weight.transpose(0, 1).contiguous().floats(), k: inputs, n: out)   // [out, in] → [in, out]
        }
        (codeEmbedding, actionEmbedding) = (try copy(model.codeEmbedding.weight), try copy(model.actionEmbedding.weight))
        slotEmbedding = try copy(model.slotEmbedding.weight)
        layers = try model.blocks.map { block in
            Layer(ln1Gamma: try copy(block.ln1.weight), ln1Beta: try copy(block.ln1.bias),
                  qkv: try transposed(block.attn.qkv), qkvBias: try copy(block.attn.qkv.bias),
                  attnProj: try transposed(block.attn.proj), attnProjBias: try copy(block.attn.proj.bias),
                  ln2Gamma: try copy(block.ln2.weight), ln2Beta: try copy(block.ln2.bias),
                  fc: try transposed(block.fc), fcBias: try copy(block.fc.bias),
                  proj: try transposed(block.proj), projBias: try copy(block.proj.bias),
                  modulation: try block.modulation.map { try copy($0) })
        }
        (lnFinalGamma, lnFinalBeta) = (try copy(model.lnFinal.weight), try copy(model.lnFinal.bias))
        (head, headBias) = (try transposed(model.head), try copy(model.head.bias))

        let (c, actions) = (config.width, config.actionCount + 1)
        conditioning = FloatBuffer(actions * c)
        let projection = try transposed(model.actionProjection), projectionBias = try copy(model.actionProjection.bias)
        Gemm.multiply(m: actions, a: actionEmbedding.base, lda: c, projection, c: conditioning.base, ldc: c, bias: projectionBias.base)
    }
}
