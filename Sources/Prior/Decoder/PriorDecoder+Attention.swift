extension PriorDecoder {
    /// Causal attention of each sample's `t` query rows (in `qkv`, at positions `position ..< position + t`)
    /// over its cached keys/values, head by head, into `attended` `[samples.count · t, C]`.
    ///
    /// Queries go four at a time: their scores against keys `0 ..< end` (end = one past the last
    /// query's position) are one small matrix product with the transposed keys, each row's softmax
    /// covers its own causal range and zeroes the rest, and the weighted values are a second product.
    func attend(layer l: Int, samples: Range<Int>, perSample t: Int, position: Int) {
        let c = config.width, heads = config.heads, d = c / heads
        let scale = 1 / Float(d).squareRoot()
        for (i, s) in samples.enumerated() {
            let keysT = keys[l].base + s * c * capacity          // [C, capacity]
            let vals = values[l].base + s * capacity * c         // [capacity, C]
            func attendHead(_ head: Int) {
                let scores = self.scores.base + head * 4 * scoreStride   // this head's [4, scoreStride]
                var j = 0
                while j < t {
                    let m = min(4, t - j)                          // queries in this block
                    let row = i * t + j                            // their first row
                    let end = position + j + m                     // keys they may see, at most
                    Gemm.multiply(m: m, n: end, k: d, a: qkv.base + row * 3 * c + head * d, lda: 3 * c,
                                  b: keysT + head * d * capacity, ldb: capacity,
                                  c: scores, ldc: scoreStride)                             // [m, end]
                    for q in 0..<m {
                        VectorMath.softmax(scores + q * scoreStride, count: position + j + q + 1, scale: scale, zeroUpTo: end)
                    }
                    Gemm.multiply(m: m, n: d, k: end, a: scores, lda: scoreStride,
                                  b: vals + head * d, ldb: c,
                                  c: attended.base + row * c + head * d, ldc: c)          // [m, d]
                    j += m
                }
            }
            if threads > 1 && t >= 16 {
                parallelFor(heads, attendHead)
            } else {
                for head in 0..<heads { attendHead(head) }
            }
        }
    }
}
