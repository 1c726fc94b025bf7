import NN

/// Keys and values of the tokens fed so far, one pair per layer, so that feeding one more token
/// costs one token's work. Tensors are `[S, H, T, d]`.
public final class KVCache {
    /// One layer's cached keys and values.
    final class Layer {
        var keys: Tensor?
        var values: Tensor?

        /// Appends `[B, H, n, d]` keys/values; returns everything cached, `[B, H, T + n, d]`.
        func append(_ k: Tensor, _ v: Tensor) throws -> (Tensor, Tensor) {
            let keys = try self.keys.map { try Tensor.cat([$0, k], dim: 2) } ?? k
            let values = try self.values.map { try Tensor.cat([$0, v], dim: 2) } ?? v
            self.keys = keys
            self.values = values
            return (keys, values)
        }
    }

    let layers: [Layer]

    init(layers: Int) { self.layers = (0..<layers).map { _ in Layer() } }

    /// Tokens cached so far.
    public var count: Int { layers.first?.keys?.size(2) ?? 0 }

    /// Forgets the oldest `tokens` cached tokens of every sample.
    func dropFirst(_ tokens: Int) throws {
        for layer in layers {
            guard let k = layer.keys, let v = layer.values else { continue }
            layer.keys = try k.narrow(dim: 2, start: tokens, length: k.size(2) - tokens).contiguous()
            layer.values = try v.narrow(dim: 2, start: tokens, length: v.size(2) - tokens).contiguous()
        }
    }

    /// Makes sample r the cached sample `sources[r]`, for every r (the batch becomes `sources.count`).
    func gather(_ sources: [Int]) throws {
        let index = try Tensor(sources.map(Int64.init), shape: [sources.count])
        for layer in layers {
            guard let k = layer.keys, let v = layer.values else { continue }
            layer.keys = try k.indexSelect(dim: 0, index: index)
            layer.values = try v.indexSelect(dim: 0, index: index)
        }
    }

    /// Repeats a batch-1 cache `samples` times along the batch dimension.
    func expand(to samples: Int) throws {
        for layer in layers {
            guard let k = layer.keys, let v = layer.values else { continue }
            layer.keys = try k.expand([samples, k.size(1), k.size(2), k.size(3)])
            layer.values = try v.expand([samples, v.size(1), v.size(2), v.size(3)])
        }
    }
}
