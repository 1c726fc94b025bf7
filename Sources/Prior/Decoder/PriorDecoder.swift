/// The prior's incremental decoder in plain Swift (float32, SIMD16), for sampling.
///
/// Same math as `PriorModel` with a KV cache — embeddings, pre-LN blocks with exact-GELU MLPs,
/// causal softmax attention scaled by 1/√d, final LayerNorm and head — but each step is a handful
/// of register-tiled loops over weights copied once (`DecoderWeights`) instead of dozens of ATen
/// ops, and the S samples of a step go through each weight matrix together. Its own cache holds,
/// per layer and sample, keys transposed `[C, T]` (a query's scores are then a row-vector product)
/// and values `[T, C]`.
///
/// In the last layer only keys and values are needed for tokens whose logits nobody asks for, so
/// after them it runs the rest of the block for each sample's last token only.
///
/// Queries and keys are turned by their frame (`FrameRotation`, rotary frame positions) as they
/// are computed, so cached keys never change: `dropOldestFrame()` slides the window.
final class PriorDecoder: RolloutDecoder {
    let weights: DecoderWeights
    let config: PriorConfig
    /// Samples the cache holds.
    let samples: Int
    /// Tokens a window holds: contextFrames · (hw + 1).
    let capacity: Int
    /// Threads for the matrix products and attention of a prefill; steps always use one.
    let threads: Int
    /// Tokens cached per sample so far.
    private(set) var count = 0

    let keys: [FloatBuffer]     // per layer [S, C, capacity]
    let values: [FloatBuffer]   // per layer [S, capacity, C]

    // Scratch for up to `rows` tokens (a one-sample prefill, or one appended frame of every sample).
    let rows: Int
    let x: FloatBuffer          // [rows, C] residual stream
    let h: FloatBuffer          // [rows, C] LayerNorm output
    let qkv: FloatBuffer        // [rows, 3C]
    let attended: FloatBuffer   // [rows, C] attention output before its projection
    let mlp: FloatBuffer        // [rows, 4C]
    let scores: FloatBuffer     // [H, 4, scoreStride] attention weights of up to 4 queries, per head
    let scoreStride: Int
    let logits: FloatBuffer     // [S, K]
    /// Each row's condition for the modulated LayerNorms: the action leading to the frame it predicts.
    var conditions: [Int]
    /// Each row's frame index (for the rotation).
    var frames: [Int]
    let rotation: FrameRotation
    /// The last frame whose rotation angles were computed, and those angles.
    var rotatedFrame: (frame: Int, angles: (cos: [Float], sin: [Float])) = (Int.min, ([], []))

    /// A decoder for `samples` samples with a snapshot of `weights`.
    init(weights: DecoderWeights, samples: Int, threads: Int = 1) {
        self.weights = weights
        self.threads = threads
        config = weights.config
        self.samples = samples
        let c = config.width
        let capacity = config.contextFrames * config.tokensPerFrame
        self.capacity = capacity
        keys = (0..<config.layers).map { _ in FloatBuffer(samples * c * capacity) }
        values = (0..<config.layers).map { _ in FloatBuffer(samples * capacity * c) }
        rows = max(capacity, samples * config.tokensPerFrame)
        x = FloatBuffer(rows * c)
        h = FloatBuffer(rows * c)
        qkv = FloatBuffer(rows * 3 * c)
        attended = FloatBuffer(rows * c)
        mlp = FloatBuffer(rows * 4 * c)
        scoreStride = (capacity + 15) / 16 * 16
        scores = FloatBuffer(config.heads * 4 * scoreStride)
        logits = FloatBuffer(samples * config.codebookSize)
        conditions = Array(repeating: config.noAction, count: rows)
        frames = Array(repeating: 0, count: rows)
        rotation = FrameRotation(headWidth: c / config.heads)
    }

    convenience init(model: PriorModel, samples: Int, threads: Int = 1) throws {
        self.init(weights: try DecoderWeights(model), samples: samples, threads: threads)
    }

    // MARK: RolloutDecoder

    func prefill(codes: [Int64], actions: [Int64], batch: Int, frames: Int) throws -> [Float] {
        precondition(batch <= samples && frames * config.tokensPerFrame <= capacity, "prefill of \(batch)×\(frames) frames exceeds the cache")
        let hw = config.codesPerFrame
        var out: [Float] = []
        // One sample at a time: each is a whole window of rows already.
        for s in 0..<batch {
            var tokens: [Token] = []
            for f in 0..<frames {
                let previous = f == 0 ? Int64(config.noAction) : actions[s * frames + f - 1]
                for j in 0..<hw { tokens.append(Token(id: codes[(s * frames + f) * hw + j], slot: j, frame: f, previousAction: previous)) }
                tokens.append(Token(id: actions[s * frames + f], slot: hw, frame: f, previousAction: previous))
            }
            out += feed(tokens, samples: s..<(s + 1), position: 0)
        }
        count = frames * config.tokensPerFrame
        return out
    }

    func expand(to samples: Int) throws {
        precondition(samples <= self.samples)
        let block = config.width * capacity
        for layer in 0..<config.layers {
            for s in 1..<max(1, samples) {
                keys[layer].base.advanced(by: s * block).update(from: keys[layer].base, count: block)
                values[layer].base.advanced(by: s * block).update(from: values[layer].base, count: block)
            }
        }
    }

    func step(_ input: DecoderStep) throws -> [Float] {
        var tokens: [Token] = []
        for (i, code) in input.codes.enumerated() {
            let previous = input.previousActions[i]
            tokens.append(Token(id: code, slot: input.slot, frame: input.frame, previousAction: previous))
            if let next = input.nextActions {
                tokens.append(Token(id: next[i], slot: config.codesPerFrame, frame: input.frame, previousAction: previous))
            }
        }
        let logits = feed(tokens, samples: 0..<input.codes.count, position: count)
        count += tokens.count / input.codes.count
        return logits
    }

    /// Batched: all the frame's tokens of every sample go through each weight matrix together. After
    /// `prefill` of the frames before it, this gives bit for bit the logits of a `prefill` that includes
    /// the frame (`GemmKernel`'s tiles sum every element in one order, and attention's extra zero
    /// weights add nothing).
    func append(codes: [Int64], frame: Int, previousActions: [Int64], actions: [Int64], batch: Int) throws -> [Float] {
        let hw = config.codesPerFrame
        precondition(count == frame * config.tokensPerFrame && frame < config.contextFrames && batch <= samples,
                     "appending window frame \(frame) to \(count) cached tokens of \(samples) samples")
        var tokens: [Token] = []
        for s in 0..<batch {
            for j in 0..<hw { tokens.append(Token(id: codes[s * hw + j], slot: j, frame: frame, previousAction: previousActions[s])) }
            tokens.append(Token(id: actions[s], slot: hw, frame: frame, previousAction: previousActions[s]))
        }
        let out = feed(tokens, samples: 0..<batch, position: count)
        count += config.tokensPerFrame
        return out
    }

    /// Drops every sample's oldest cached frame (rotary frame positions: the other keys stay valid).
    func dropOldestFrame() {
        precondition(count >= config.tokensPerFrame, "dropping a frame of \(count) cached tokens")
        let c = config.width, n = config.tokensPerFrame, kept = count - n, block = c * capacity
        for layer in 0..<config.layers {
            for s in 0..<samples {
                let keysT = keys[layer].base + s * block
                for ch in 0..<c { (keysT + ch * capacity).update(from: keysT + ch * capacity + n, count: kept) }
                let vals = values[layer].base + s * block
                vals.update(from: vals + n * c, count: kept * c)
            }
        }
        count = kept
    }

    func gatherCache(_ sources: [Int]) throws {
        precondition(sources.count <= samples && sources.allSatisfy { $0 < samples })
        let c = config.width, block = c * capacity
        for (target, source) in sources.enumerated() where target != source {
            precondition(sources[source] == source, "sample \(source) is overwritten by the gather")
            for layer in 0..<config.layers {
                let keysFrom = keys[layer].base + source * block, keysTo = keys[layer].base + target * block
                for ch in 0..<c { (keysTo + ch * capacity).update(from: keysFrom + ch * capacity, count: count) }
                (values[layer].base + target * block).update(from: values[layer].base + source * block, count: count * c)
            }
        }
    }

    // MARK: tokens

    /// One input token: the code at `slot` < hw of window frame `frame`, or (slot == hw) the action
    /// taken after that frame; `previousAction` is the action that led to the frame.
    struct Token {
        var id: Int64
        var slot: Int, frame: Int
        var previousAction: Int64

        /// What the modulated LayerNorms see: a code, the action leading to its frame; an action token, itself.
        func condition(codesPerFrame hw: Int) -> Int { Int(slot < hw ? previousAction : id) }
    }

    /// Feeds the same number of tokens to each sample in `samples` (`tokens` sample-major) at cache
    /// positions `position...`; returns the next-code logits after each sample's last one, `[samples.count, K]`.
    /// Does not advance `count`.
    func feed(_ tokens: [Token], samples: Range<Int>, position: Int) -> [Float] {
        let perSample = tokens.count / samples.count
        precondition(samples.upperBound <= self.samples && tokens.count <= rows && position + perSample <= capacity,
                     "feeding \(perSample) tokens at \(position) exceeds the decoder")
        for (row, token) in tokens.enumerated() {
            embed(token, row: row)
            conditions[row] = token.condition(codesPerFrame: config.codesPerFrame)
            frames[row] = token.frame
        }
        forward(samples: samples, perSample: perSample, position: position)
        return Array(UnsafeBufferPointer(start: logits.base, count: samples.count * config.codebookSize))
    }

    /// x[row] = token + slot embeddings, plus for codes (with `actionIntoFrame`) the previous action's conditioning.
    private func embed(_ token: Token, row: Int) {
        let c = config.width
        let isCode = token.slot < config.codesPerFrame
        let out = x.base + row * c
        let e = (isCode ? weights.codeEmbedding : weights.actionEmbedding).base + Int(token.id) * c
        let p = weights.slotEmbedding.base + token.slot * c
        for i in 0..<c { out[i] = e[i] + p[i] }
        if isCode && config.actionIntoFrame {
            let a = weights.conditioning.base + Int(token.previousAction) * c
            for i in 0..<c { out[i] += a[i] }
        }
    }
}
