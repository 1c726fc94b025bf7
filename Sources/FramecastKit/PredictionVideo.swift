import CodeFile
import Foundation
import Prior

/// `predict --mp4`'s side-by-side video, written on a second thread while the prior samples:
/// each generated frame is decoded, composed and encoded as soon as it exists, so the MP4 costs
/// little beyond the sampling (which leaves the other core mostly idle).
///
/// Columns: the truth (when given; its first frames must be the context), then one per sample.
/// It shows the same frames as `SideBySide.write` given the finished clips.
package final class PredictionVideo: @unchecked Sendable {
    // Everything below is touched only on `queue` once `init` returns.
    private let queue = DispatchQueue(label: "framecast.prediction-video")
    private let tokenizer: VideoTokenizer
    private let writer: SideBySideWriter
    private let truth: CodeClip?
    private let samples: Int
    private let contextFrames: Int
    private var failure: (any Error)?
    private var cancelled = false

    /// Starts the video with the context frames.
    /// - Parameters:
    ///   - clip: the clip the context was taken from (its size, fps, names and position).
    ///   - start: where the context begins in `clip`.
    ///   - truth: the real continuation's codes, from the context's first frame on.
    package init(path: String, tokenizer: VideoTokenizer, clip: CodeClip, start: Int, context: PriorContext, future: [Int],
         truth: CodeClip?, labels: [String], scale: Int) throws {
        self.tokenizer = tokenizer
        self.truth = truth
        samples = labels.count
        contextFrames = context.frames
        let actions = CodeClip.predictionActions(context: context, future: future)
        let panels = (truth.map { [SideBySideWriter.Panel(name: "TRUTH", clip: $0)] } ?? [])
            + labels.map { SideBySideWriter.Panel(name: $0, actions: actions, actionNames: clip.actionNames) }
        writer = try SideBySideWriter(path: path, panels: panels, frameWidth: clip.frameWidth, frameHeight: clip.frameHeight,
                                      fps: clip.fps, contextFrames: context.frames,
                                      startIndex: (clip.sourceStart ?? 0) + start, scale: scale)
        let codes = context.codes, count = context.frames, columns = panels.count
        queue.async { [self] in
            run {
                let frames = try self.tokenizer.decodeFrames(codes)   // every column shows the context
                for t in 0..<count { try writer.write(t, pictures: Array(repeating: frames[t], count: columns)) }
            }
        }
    }

    /// Queues generated frame `g` (after the context): `codes` holds each sample's grid, [S, h, w].
    package func add(frame g: Int, codes: [UInt16]) {
        queue.async { [self] in
            run {
                let t = contextFrames + g
                var grids = codes
                let hasTruth = truth.map { t < $0.frames } ?? false
                if let truth, hasTruth {
                    let n = truth.codesPerFrame
                    grids = Array(truth.codes[(t * n)..<((t + 1) * n)]) + grids
                }
                var pictures: [[UInt8]?] = try tokenizer.decodeFrames(grids)
                if truth != nil && !hasTruth { pictures.insert(nil, at: 0) }
                try writer.write(t, pictures: pictures)
            }
        }
    }

    /// Waits for the queued frames and completes the file.
    /// - Throws: the first error met while decoding or writing.
    package func finish() throws {
        try queue.sync {
            if let failure { throw failure }
            try writer.finish()
        }
    }

    /// Stops after the frame being written (the queued ones are skipped) and waits for it, so no
    /// decoding runs while the process ends; the unfinished file is removed with the writer.
    package func cancel() {
        queue.sync { cancelled = true }
    }

    private func run(_ body: () throws -> Void) {
        guard failure == nil, !cancelled else { return }
        do { try body() } catch { failure = error }
    }
}
