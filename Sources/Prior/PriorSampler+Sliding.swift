import NN

extension PriorSampler {
    /// The rollout of a prior with rotary frame positions: the window is fed once, then each new
    /// frame's tokens are appended and, once the window holds `contextFrames` frames, its oldest
    /// frame is dropped from the cache (`RolloutDecoder.dropOldestFrame`) instead of feeding the
    /// kept frames again. This gives exactly the logits of one forward pass over the whole
    /// rollout with attention banded to `contextFrames` frames, as the model was trained.
    ///
    /// Guidance twins: before a frame whose latest action differs from the twins' baseline, each
    /// sample's cache (all but its newest frame's last code) is copied to its twin, and the last
    /// code is fed to both followed by the true action (samples) or the baseline (twins); frames
    /// that follow a held action (u = c exactly) feed no twin rows.
    func slidingRollout(_ history: inout RolloutHistory, actions: [Int],
                        observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?,
                        onFrame: ((_ frame: Int, _ codes: [UInt16]) -> Void)?) throws -> Rollout {
        let config = model.config
        let (hw, samples, rows) = (config.codesPerFrame, history.samples, history.rows)
        var sampler = TokenSampler(history.options, codeVectors: codeVectors)
        var output = [[Int64]](repeating: [], count: samples)
        let n = history.frameCodes.count
        let start = max(0, n - (config.contextFrames - 1))     // the first frame fed: frame indices count from it

        try Tensor.noGrad {
            let decoder: any RolloutDecoder = switch engine {
            case .fused: try PriorDecoder(model: model, samples: rows, threads: decoderThreads)
            case .libtorch: TorchDecoder(model: model)
            }
            // The context, to every live row: the last frame followed by the rows' `latest` actions.
            var live = history.needsTwins(after: n - 1) ? rows : samples
            let last = history.latest(n - 1)
            let batch = live > samples ? live : 1
            var codes: [Int64] = [], acts: [Int64] = []                                         // [B, F, hw], [B, F]
            for r in 0..<batch {
                for f in start..<n { codes += history.frameCodes[f][(r * hw)..<((r + 1) * hw)] }
                acts += (start..<n).map { $0 == n - 1 ? last[r] : history.frameActions[$0][r] }
            }
            var logits = try decoder.prefill(codes: codes, actions: acts, batch: batch, frames: n - start)
            if batch == 1 {
                logits = Array(repeating: logits, count: samples).flatMap { $0 }                  // [S, K]
                try decoder.expand(to: samples)
            }
            var cached = n - start                                  // frames in the cache

            for g in actions.indices {
                let m = n + g                                       // absolute index of the frame being generated
                let f = m - start                                   // its frame index for the decoder
                var frameCodes = [Int64](repeating: 0, count: rows * hw)
                let previous = Array(history.latest(m - 1)[..<live])
                for j in 0..<hw {
                    let picked = history.pick(logits, frame: m, slot: j, into: &frameCodes, sampler: &sampler, observe: observe)
                    if j < hw - 1 {
                        let step = DecoderStep(codes: live > samples ? picked + picked : picked, slot: j, frame: f, previousActions: previous)
                        logits = try decoder.step(step)
                        continue
                    }
                    guard g + 1 < actions.count else { break }      // nothing more is generated
                    // The frame's last code and its action: twins (when the next frame needs them) become
                    // copies of their samples first, then take the baseline action instead of the true one.
                    let next = history.modelAction(actions[g + 1]), twinNext = history.baseline(m)
                    let nextLive = history.needsTwins(after: m, action: next) ? rows : samples
                    if nextLive > samples || live > samples { try decoder.gatherCache((0..<nextLive).map { $0 % samples }) }
                    live = nextLive
                    let step = DecoderStep(codes: live > samples ? picked + picked : picked, slot: j, frame: f,
                                           previousActions: [Int64](repeating: previous[0], count: live),
                                           nextActions: (0..<live).map { $0 >= samples ? twinNext : next })
                    logits = try decoder.step(step)
                    cached += 1
                    if cached == config.contextFrames {
                        try decoder.dropOldestFrame()
                        cached -= 1
                    }
                }
                history.append(codes: frameCodes, nextAction: g + 1 < actions.count ? actions[g + 1] : -1)
                for s in 0..<samples { output[s] += frameCodes[(s * hw)..<((s + 1) * hw)] }
                onFrame?(g, frameCodes[..<(samples * hw)].map { UInt16($0) })
            }
        }
        return Rollout(codes: output.flatMap { $0.map { UInt16($0) } }, samples: samples, frames: actions.count,
                       gridHeight: config.gridHeight, gridWidth: config.gridWidth)
    }
}
