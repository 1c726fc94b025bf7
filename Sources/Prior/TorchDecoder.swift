import NN

/// The libtorch incremental decoder: `PriorModel`'s own layers with a `KVCache`. About a dozen small
/// ATen ops per layer and token, so slower than `PriorDecoder`; kept as its reference and for `bench prior`.
final class TorchDecoder: RolloutDecoder {
    let model: PriorModel
    private var cache: KVCache

    /// Call inside `Tensor.noGrad`, with `model.training` off.
    init(model: PriorModel) {
        self.model = model
        cache = KVCache(layers: model.config.layers)
    }

    func prefill(codes: [Int64], actions: [Int64], batch: Int, frames: Int) throws -> [Float] {
        cache = KVCache(layers: model.config.layers)
        let x = try model.embed(codes: Tensor(codes, shape: [batch, frames, model.config.codesPerFrame]),
                                actions: Tensor(actions, shape: [batch, frames]))   // [B, F·(hw+1), C]
        return try logitsOfLast(model.hidden(x, cache: cache))
    }

    func expand(to samples: Int) throws { try cache.expand(to: samples) }

    func step(_ input: DecoderStep) throws -> [Float] {
        let s = input.codes.count
        var x = try model.embedCode(Tensor(input.codes, shape: [s]), slot: input.slot, frame: input.frame,
                                    previousAction: Tensor(input.previousActions, shape: [s]))    // [S, 1, C]
        if let next = input.nextActions {
            x = try Tensor.cat([x, model.embedAction(Tensor(next, shape: [s]), frame: input.frame)], dim: 1)  // [S, 2, C]
        }
        return try logitsOfLast(model.hidden(x, cache: cache))
    }

    /// Hidden states `[B, T, C]` → logits of the last position, `[B, K]`.
    private func logitsOfLast(_ h: Tensor) throws -> [Float] {
        try model.logits(h.select(dim: 1, index: h.size(1) - 1)).floats()
    }
}
