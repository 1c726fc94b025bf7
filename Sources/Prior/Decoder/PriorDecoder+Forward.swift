extension PriorDecoder {
    /// Runs the blocks on `perSample` new tokens of each sample in `samples`, embedded in `x`
    /// (rows sample-major: sample i's tokens are rows i·t ..< (i+1)·t), at cache positions
    /// `position ..< position + t`; appends their keys/values to the cache and leaves the logits
    /// after each sample's last token in `logits` `[samples.count, K]`.
    func forward(samples: Range<Int>, perSample: Int, position: Int) {
        let c = config.width
        var t = perSample, first = position          // query rows per sample, and the first one's position
        for (l, layer) in weights.layers.enumerated() {
            let n = samples.count * t                  // active rows
            for r in 0..<n {
                VectorMath.layerNorm(x.base + r * c, h.base + r * c, count: c, gamma: layer.ln1Gamma.base, beta: layer.ln1Beta.base)
                modulate(h.base + r * c, row: r, layer: layer, part: 0)
            }
            Gemm.multiply(m: n, a: h.base, lda: c, layer.qkv, c: qkv.base, ldc: 3 * c, bias: layer.qkvBias.base, threads: threads)  // [n, 3C]
            rotateQueriesAndKeys(rows: n)
            appendKeysValues(layer: l, samples: samples, perSample: t, position: first)
            if l == weights.layers.count - 1 && t > 1 {
                // Last layer: the other tokens' keys and values are all that is needed; go on with
                // each sample's last token only (rows i·t + t − 1 → i).
                for i in 0..<samples.count {
                    let last = i * t + t - 1
                    (x.base + i * c).update(from: x.base + last * c, count: c)
                    (qkv.base + i * 3 * c).update(from: qkv.base + last * 3 * c, count: 3 * c)
                    conditions[i] = conditions[last]
                }
                (first, t) = (first + t - 1, 1)
            }
            let m = samples.count * t
            attend(layer: l, samples: samples, perSample: t, position: first)                      // [m, C]
            Gemm.multiply(m: m, a: attended.base, lda: c, layer.attnProj, c: x.base, ldc: c,
                          bias: layer.attnProjBias.base, accumulate: true, threads: threads)                       // x += attn
            for r in 0..<m {
                VectorMath.layerNorm(x.base + r * c, h.base + r * c, count: c, gamma: layer.ln2Gamma.base, beta: layer.ln2Beta.base)
                modulate(h.base + r * c, row: r, layer: layer, part: 1)
            }
            Gemm.multiply(m: m, a: h.base, lda: c, layer.fc, c: mlp.base, ldc: 4 * c, bias: layer.fcBias.base, threads: threads)  // [m, 4C]
            VectorMath.gelu(mlp.base, count: m * 4 * c)
            Gemm.multiply(m: m, a: mlp.base, lda: 4 * c, layer.proj, c: x.base, ldc: c,
                          bias: layer.projBias.base, accumulate: true, threads: threads)                         // x += mlp
        }
        // Final LayerNorm and head for each sample's last token.
        for i in 0..<samples.count {
            VectorMath.layerNorm(x.base + (i * t + t - 1) * c, h.base + i * c, count: c,
                                 gamma: weights.lnFinalGamma.base, beta: weights.lnFinalBeta.base)
        }
        Gemm.multiply(m: samples.count, a: h.base, lda: c, weights.head, c: logits.base, ldc: config.codebookSize,
                      bias: weights.headBias.base)                                                 // [S, K]
    }

    /// Scales and shifts the LayerNorm output `h` of row `row` by part `part` (0: ln1, 1: ln2) of its
    /// condition's modulation; nothing for a block without one.
    @inline(__always) private func modulate(_ h: UnsafeMutablePointer<Float>, row: Int, layer: DecoderWeights.Layer, part: Int) {
        guard let table = layer.modulation else { return }
        let c = config.width
        let m = table.base + conditions[row] * 4 * c + 2 * part * c
        VectorMath.modulate(h, count: c, scale: m, shift: m + c)
    }

    /// Turns each of the first `rows` rows' queries and keys (in `qkv`) by its frame (rotary frame positions).
    private func rotateQueriesAndKeys(rows: Int) {
        let c = config.width, d = c / config.heads, half = d / 2
        for r in 0..<rows {
            // A step's rows share one frame, as do the 64 steps of a frame: compute its angles once.
            if frames[r] != rotatedFrame.frame { rotatedFrame = (frames[r], rotation.angles(frame: frames[r])) }
            let angles = rotatedFrame.angles
            angles.cos.withUnsafeBufferPointer { cos in
                angles.sin.withUnsafeBufferPointer { sin in
                    let row = qkv.base + r * 3 * c
                    for head in 0..<(2 * config.heads) {      // the queries' heads, then the keys'
                        FrameRotation.rotate(row + head * d, half: half, cos: cos.baseAddress!, sin: sin.baseAddress!)
                    }
                }
            }
        }
    }

    /// Copies the keys and values in `qkv` rows of each sample into its cache at `position ..< position + t`.
    private func appendKeysValues(layer l: Int, samples: Range<Int>, perSample t: Int, position: Int) {
        let c = config.width
        for (i, s) in samples.enumerated() {
            let keysT = keys[l].base + s * c * capacity          // [C, capacity]
            let vals = values[l].base + s * capacity * c         // [capacity, C]
            for j in 0..<t {
                let row = qkv.base + (i * t + j) * 3 * c
                for ch in 0..<c { keysT[ch * capacity + position + j] = row[c + ch] }
                (vals + (position + j) * c).update(from: row + 2 * c, count: c)
            }
        }
    }
}
