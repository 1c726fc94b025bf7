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
        let a = try Tensor(actions, shape: [batch, frames])
        let x = try model.embed(codes: Tensor(codes, shape: [batch, frames, model.config.codesPerFrame]), actions: a)  // [B, F·(hw+1), C]
        return try logitsOfLast(model.hidden(x, conditions: model.conditions(actions: a), cache: cache))
    }

    func expand(to samples: Int) throws { try cache.expand(to: samples) }

    func gatherCache(_ sources: [Int]) throws { try cache.gather(sources) }

    func dropOldestFrame() throws { try cache.dropFirst(model.config.tokensPerFrame) }

    func step(_ input: DecoderStep) throws -> [Float] {
        let s = input.codes.count
        let previous = try Tensor(input.previousActions, shape: [s])
        var x = try model.embedCode(Tensor(input.codes, shape: [s]), slot: input.slot, previousAction: previous)                                       // [S, 1, C]
        var conditions = try previous.unsqueeze(1)                                                  // [S, 1]
        if let next = input.nextActions {
            let n = try Tensor(next, shape: [s])
            x = try Tensor.cat([x, model.embedAction(n)], dim: 1)               // [S, 2, C]
            conditions = try Tensor.cat([conditions, n.unsqueeze(1)], dim: 1)                      // [S, 2]
        }
        let frames = [Int](repeating: input.frame, count: x.size(1))
        return try logitsOfLast(model.hidden(x, conditions: conditions, cache: cache, frames: frames))
    }

    /// Hidden states `[B, T, C]` → logits of the last position, `[B, K]`.
    private func logitsOfLast(_ h: Tensor) throws -> [Float] {
        try model.logits(h.select(dim: 1, index: h.size(1) - 1)).floats()
    }
}
