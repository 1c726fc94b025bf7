/// Every frame of a rollout so far (context, then generated), as model ids, for each decoder row,
/// and the action-guidance rules both of `PriorSampler`'s loops use.
///
/// With action guidance every sample has a twin row (rows S..<2S) whose latest action, the one
/// leading to the frame being generated, is the guidance baseline's (the action before it);
/// earlier actions are kept.
struct RolloutHistory {
    let config: PriorConfig
    let options: SamplingOptions
    /// Samples S; rows fed to the decoder, 2S with guidance (twins) else S.
    let samples: Int, rows: Int
    /// Codes `[rows · hw]` per frame.
    var frameCodes: [[Int64]]
    /// The action taken after each frame, per row `[rows]` (model ids).
    var frameActions: [[Int64]]

    /// The context's frames; the last one is followed by `actions.first` (−1 or none: no action).
    init(context: PriorContext, actions: [Int], samples: Int, options: SamplingOptions, config: PriorConfig) {
        self.config = config
        self.options = options
        self.samples = samples
        rows = options.actionGuidance != 1 ? 2 * samples : samples
        let (n, hw, rows) = (context.frames, config.codesPerFrame, rows)
        frameCodes = (0..<n).map { f in
            let one = context.codes[(f * hw)..<((f + 1) * hw)].map { Int64($0) }
            return Array((0..<rows).map { _ in one }.joined())
        }
        frameActions = (0..<n).map { f in
            [Int64](repeating: Self.modelAction(f == n - 1 ? actions.first ?? -1 : Int(context.actions[f]), config), count: rows)
        }
    }

    /// Whether guidance twins exist.
    var guided: Bool { rows > samples }

    /// A model id for an action id (−1: the no-action id).
    func modelAction(_ id: Int) -> Int64 { Self.modelAction(id, config) }

    private static func modelAction(_ id: Int, _ config: PriorConfig) -> Int64 { Int64(id < 0 ? config.noAction : id) }

    /// The baseline action of twins in place of the action after frame `f`.
    func baseline(_ f: Int) -> Int64 {
        f > 0 ? frameActions[f - 1][0] : Int64(config.noAction)
    }

    /// Whether the twins' baseline differs from the action after frame `f` (by default the one in
    /// the history), so that the frame after it needs twin rows (else u = c exactly and guidance
    /// does nothing).
    func needsTwins(after f: Int, action: Int64? = nil) -> Bool { guided && baseline(f) != action ?? frameActions[f][0] }

    /// The actions of frame `f` as fed when it is the latest frame: twins get the baseline action.
    func latest(_ f: Int) -> [Int64] {
        frameActions[f].enumerated().map { $0.offset >= samples ? baseline(f) : $0.element }
    }

    /// Guided logits `[S, K]` from the rows' logits `[R, K]`: u + w·(c − u).
    func guide(_ logits: [Float]) -> [Float] {
        let k = config.codebookSize, w = Float(options.actionGuidance), half = samples * k
        guard guided, logits.count > half else { return logits }              // no twin rows fed: u = c
        return (0..<half).map { i in logits[half + i] + w * (logits[i] - logits[half + i]) }
    }

    /// Draws each sample's code at `slot` of generated frame `frame` from the rows' logits (guided;
    /// `observe` sees them) and writes it to every row of `codes` (`[rows · hw]`, twins included).
    /// - Returns: the samples' codes `[S]`.
    func pick(_ logits: [Float], frame: Int, slot: Int, into codes: inout [Int64], sampler: inout TokenSampler,
              observe: ((_ frame: Int, _ slot: Int, _ logits: [Float]) -> Void)?) -> [Int64] {
        let guided = guide(logits)
        observe?(frame, slot, guided)
        let picked = sampler.sample(guided, rows: samples, k: config.codebookSize)
        let hw = config.codesPerFrame
        for r in 0..<rows { codes[r * hw + slot] = picked[r % samples] }
        return picked
    }

    /// Sets the action taken after frame `f` (a model id) on every row.
    mutating func setAction(after f: Int, _ action: Int64) {
        frameActions[f] = [Int64](repeating: action, count: rows)
    }

    /// Appends a generated frame's codes `[rows · hw]` and the action taken after it.
    mutating func append(codes: [Int64], nextAction: Int) {
        frameCodes.append(codes)
        frameActions.append([Int64](repeating: modelAction(nextAction), count: rows))
    }
}
