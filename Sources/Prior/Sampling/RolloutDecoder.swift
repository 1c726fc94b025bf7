/// What `PriorSampler` needs from an incremental decoder: feed tokens, get next-code logits.
/// Two implementations: `PriorDecoder` (Swift, the default) and `TorchDecoder` (libtorch with
/// a KV cache, the reference). Ids are model ids: actions use `noAction` for none.
protocol RolloutDecoder: AnyObject {
    /// Forgets every cached token, then feeds whole frames (IRIS layout, window frame 0 first):
    /// codes `[batch, frames, hw]` and the action after each frame `[batch, frames]`, row-major.
    /// - Returns: the next-code logits after each sample's last token, `[batch, K]`.
    func prefill(codes: [Int64], actions: [Int64], batch: Int, frames: Int) throws -> [Float]

    /// Makes every sample's cache a copy of sample 0's (after a batch-1 prefill).
    func expand(to samples: Int) throws

    /// Feeds one code per sample, then (with `nextActions`) the frame's action token.
    /// - Returns: the next-code logits after each sample's last new token, `[S, K]`.
    func step(_ input: DecoderStep) throws -> [Float]

    /// Feeds window frame `frame` whole to the first `batch` samples, after their cached tokens:
    /// codes `[batch, hw]`, the action that led to it and the action taken after it, `[batch]` each.
    /// - Returns: the next-code logits after each sample's new action token, `[batch, K]`.
    func append(codes: [Int64], frame: Int, previousActions: [Int64], actions: [Int64], batch: Int) throws -> [Float]

    /// Makes the cache's sample `r` a copy of its sample `sources[r]`, for every r in `sources.indices`.
    func gatherCache(_ sources: [Int]) throws

    /// Forgets every sample's oldest cached frame: the window slides without feeding it again
    /// (rotary frame positions only: the kept keys do not depend on where the window starts).
    func dropOldestFrame() throws
}

extension RolloutDecoder {
    /// `append` as one `step` per code, the last one with the action.
    func append(codes: [Int64], frame: Int, previousActions: [Int64], actions: [Int64], batch: Int) throws -> [Float] {
        let hw = codes.count / batch
        var logits: [Float] = []
        for j in 0..<hw {
            logits = try step(DecoderStep(codes: (0..<batch).map { codes[$0 * hw + j] }, slot: j, frame: frame,
                                          previousActions: previousActions, nextActions: j == hw - 1 ? actions : nil))
        }
        return logits
    }
}

/// The tokens that one decoding step appends to each of S samples.
struct DecoderStep {
    /// The code of each sample, `[S]`.
    var codes: [Int64]
    /// Its slot in the frame (0..<hw) and the frame's index, counted from the first frame fed since
    /// the last prefill.
    var slot: Int, frame: Int
    /// The action that led to this frame, per sample `[S]` (added to code tokens with `actionIntoFrame`).
    var previousActions: [Int64]
    /// When the frame is complete: the action taken after it, per sample `[S]`, fed as one more token.
    var nextActions: [Int64]?
}
