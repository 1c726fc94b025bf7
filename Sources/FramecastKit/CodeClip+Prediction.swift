import CodeFile
import Prior

extension CodeClip {
    /// The context frames of `clip` (starting at its frame `start`) followed by sample `s` of
    /// `rollout`, which followed `future`: a clip that remembers where its real frames end.
    package static func prediction(from clip: CodeClip, start: Int, context: PriorContext, future: [Int],
                           rollout: Rollout, sample s: Int) -> CodeClip {
        let c = context.frames, total = c + future.count
        var codes = context.codes
        for t in 0..<future.count { codes += rollout.frame(sample: s, t) }
        let actions = predictionActions(context: context, future: future)
        return CodeClip(codes: codes, frames: total, gridH: clip.gridH, gridW: clip.gridW,
                        actions: actions, episodeStart: [true] + Array(repeating: false, count: total - 1),
                        fps: clip.fps, frameWidth: clip.frameWidth, frameHeight: clip.frameHeight,
                        codebookSize: clip.codebookSize, tokenizerHash: clip.tokenizerHash, source: clip.source,
                        sourceBytes: clip.sourceBytes, sourceHash: clip.sourceHash, actionNames: clip.actionNames,
                        contextFrames: c, sourceStart: (clip.sourceStart ?? 0) + start)
    }

    /// The actions of a prediction clip: the context's, then `future` (which follows the last
    /// context frame), then −1 after the last frame.
    package static func predictionActions(context: PriorContext, future: [Int]) -> [Int32] {
        context.actions.dropLast().map { $0 } + future.map { Int32($0) } + [-1]
    }
}
