import CodeFile

/// The frames a rollout starts from: their codes and the actions taken after them.
public struct PriorContext: Sendable, Equatable {
    /// Row-major codes `[frames, h, w]`.
    public var codes: [UInt16]
    /// The action taken after each context frame (−1 = unknown). The last one is not used:
    /// the rollout's first action is the one taken after the last context frame.
    public var actions: [Int32]
    /// Number of context frames.
    public var frames: Int { actions.count }

    public init(codes: [UInt16], actions: [Int32]) {
        self.codes = codes
        self.actions = actions
    }

    /// Frames `start ..< start + frames` of `clip`.
    /// - Throws: `PriorError.contextTooLong` when the clip has fewer frames.
    public init(clip: CodeClip, start: Int = 0, frames: Int, file: String? = nil) throws {
        guard frames >= 1, start >= 0, start + frames <= clip.frames else {
            throw PriorError(file: file, .contextTooLong(start: start, frames: frames, clipFrames: clip.frames))
        }
        let hw = clip.codesPerFrame
        self.init(codes: Array(clip.codes[(start * hw)..<((start + frames) * hw)]),
                  actions: Array(clip.actions[start..<(start + frames)]))
    }
}

/// Generated frames: codes `[samples, frames, h, w]` row-major.
public struct Rollout: Sendable, Equatable {
    public var codes: [UInt16]
    public var samples: Int
    public var frames: Int
    public var gridHeight: Int
    public var gridWidth: Int

    /// The `[h, w]` codes of sample `s`, generated frame `t`.
    public func frame(sample s: Int, _ t: Int) -> ArraySlice<UInt16> {
        let hw = gridHeight * gridWidth
        let base = (s * frames + t) * hw
        return codes[base..<(base + hw)]
    }
}
