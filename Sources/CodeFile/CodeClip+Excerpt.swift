extension CodeClip {
    /// Frames `[from, to)` as a clip of their own: the first frame starts an episode and
    /// `sourceStart` records where the excerpt begins in the source.
    public func excerpt(from: Int, to: Int) -> CodeClip {
        precondition(0 <= from && from < to && to <= frames, "excerpt \(from)..<\(to) outside 0..<\(frames)")
        var out = self
        let n = codesPerFrame
        out.codes = Array(codes[(from * n)..<(to * n)])
        out.frames = to - from
        out.actions = Array(actions[from..<to])
        out.episodeStart = [true] + Array(episodeStart[(from + 1)..<to])
        out.sourceStart = (sourceStart ?? 0) + from
        return out
    }
}
