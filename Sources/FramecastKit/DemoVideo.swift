import CodeFile
import Foundation
import Media
import Prior

/// The demo's side-by-side video: real frames beside predictions under several action scripts
/// (used by `framecast demo` and `framecast report`).
package enum DemoVideo {
    /// Writes the side-by-side video of `clip` from `start`: the real frames, the prediction under
    /// the clip's own actions, and one per (label, action script); default scripts hold MOVE_FORWARD,
    /// TURN_LEFT and TURN_RIGHT. Returns a one-line summary with the sampling speed.
    package static func render(clip clipPath: String, tokenizer tok: VideoTokenizer, prior loaded: PriorCheckpoint.Loaded,
                       start: Int, frames: Int, scripts: [(String, String)] = [], options: SamplingOptions,
                       scale: Int, to output: String) throws -> String {
        let codes = try loaded.source.mapActions(of: tok.encode(video: clipPath), file: clipPath)
        let sampler = PriorSampler(model: loaded.model, source: loaded.source)
        let c = loaded.model.config.contextFrames
        guard start + c <= codes.frames else {
            throw MediaError(clipPath, "has \(codes.frames) frames: --start \(start) with \(c) context frames needs \(start + c)")
        }
        let context = try sampler.context(from: codes, start: start, frames: c, file: clipPath)

        // The clip's own continuation (as far as it goes), then each script.
        var runs: [(label: String, actions: [Int])] = []
        let first = start + c - 1
        let real = codes.actions[first..<min(codes.frames - 1, first + frames)].map { Int($0) }
        if !real.isEmpty, real.allSatisfy({ $0 >= 0 }) { runs.append(("REAL ACTIONS", real)) }
        let names = loaded.source.actionNames
        let specs = scripts.isEmpty
            ? [("FORWARD", "MOVE_FORWARD"), ("TURN LEFT", "TURN_LEFT"), ("TURN RIGHT", "TURN_RIGHT")]
                .filter { names.contains($0.1) }.map { ($0.0, "\($0.1)*\(frames)") }
            : scripts
        for (label, spec) in specs {
            runs.append((label, Array(try ActionScript.parse(spec, names: names).prefix(frames))))
        }
        guard !runs.isEmpty else { throw MediaError(clipPath, "has no recorded actions after frame \(first) and no action script was given") }

        var predictions: [CodeClip] = []
        let t0 = Date()
        for (i, run) in runs.enumerated() {
            FileHandle.standardError.write(Data("predicting \(run.actions.count) frames under \(run.label) (\(i + 1)/\(runs.count))\n".utf8))
            let rollout = try sampler.rollout(context: context, actions: run.actions, samples: 1, options: options)
            predictions.append(.prediction(from: codes, start: start, context: context, future: run.actions, rollout: rollout, sample: 0))
        }
        let sampling = Date().timeIntervalSince(t0)
        let reader = try tok.reader(clipPath)
        try SideBySide.write(output, tokenizer: tok, truth: .video(reader, skip: start), predictions: predictions,
                             labels: runs.map(\.label), scale: scale)
        let predicted = runs.map(\.actions.count).reduce(0, +)
        return String(format: "%d frames predicted in %.1f s (%.1f frames/s) from %@ frames %d-%d", predicted, sampling,
                      Double(predicted) / sampling, clipPath, start, start + c - 1)
    }
}
