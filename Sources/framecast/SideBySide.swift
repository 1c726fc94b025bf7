import CodeFile
import Foundation
import Media

/// Writes labelled side-by-side videos: optional ground truth, then one panel per predicted clip,
/// enlarged by nearest neighbour, with the panel name, the frame number, CONTEXT on real context
/// frames, and the action that led to each frame.
enum SideBySide {
    /// A source of ground-truth frames: decoded codes, or a video's real pixels.
    enum Truth {
        case codes(CodeClip)
        case video(VideoReader, skip: Int)
    }

    static func write(_ path: String, tokenizer: LoadedTokenizer, truth: CodeClip?, predictions: [CodeClip],
                      labels: [String], scale: Int) throws {
        try write(path, tokenizer: tokenizer, truth: truth.map { Truth.codes($0) }, predictions: predictions, labels: labels, scale: scale)
    }

    static func write(_ path: String, tokenizer: LoadedTokenizer, truth: Truth?, predictions: [CodeClip],
                      labels: [String], scale: Int) throws {
        guard let first = predictions.first else { return }
        let w = first.frameWidth * scale, h = first.frameHeight * scale
        let text = max(1, scale / 2), gap = 2 * text, bar = Canvas.textHeight(scale: text) + 2 * gap
        let panels = predictions.count + (truth == nil ? 0 : 1)
        let width = panels * w + (panels + 1) * gap, height = h + 2 * bar
        // Enlarged flat-shaded frames compress as well with x264's veryfast preset as with medium
        // (within 2% here) at several times the speed, which matters to `predict`'s frames/s.
        let writer = try VideoWriter(path: path, width: width + width % 2, height: height + height % 2, fps: first.fps,
                                     preset: "veryfast")
        let frames = predictions.map(\.frames).max() ?? 0
        let contextFrames = first.contextFrames ?? 0
        let startIndex = first.sourceStart ?? 0

        // Decode every panel's frames (short clips: predictions are tens of frames).
        var panelFrames: [[[UInt8]]] = []
        var names: [String] = []
        var panelClips: [CodeClip?] = []
        switch truth {
        case .codes(let clip)?:
            panelFrames.append(try decodeAll(clip, tokenizer))
            names.append("TRUTH")
            panelClips.append(clip)
        case .video(let reader, let skip)?:
            for _ in 0..<skip { guard try reader.skip() else { break } }
            var real: [[UInt8]] = []
            while real.count < frames, let frame = try reader.next() { real.append(frame.rgb) }
            panelFrames.append(real)
            names.append("TRUTH")
            panelClips.append(nil)
        case nil:
            break
        }
        for (clip, label) in zip(predictions, labels) {
            panelFrames.append(try decodeAll(clip, tokenizer))
            names.append(label)
            panelClips.append(clip)
        }
        for t in 0..<frames {
            var canvas = Canvas(width: writer.width, height: writer.height, fill: (24, 24, 24))
            for (p, framesOfPanel) in panelFrames.enumerated() {
                let x = gap + p * (w + gap)
                canvas.draw(names[p], x: x, y: gap, scale: text)
                guard t < framesOfPanel.count else { continue }
                canvas.paste(framesOfPanel[t], width: first.frameWidth, height: first.frameHeight, x: x, y: bar, scale: scale)
                if t < contextFrames { canvas.label("CONTEXT", x: x + text, y: bar + text, scale: text) }
                if t > 0, let clip = panelClips[p] {
                    let a = Int(clip.actions[t - 1])
                    let name = a >= 0 && a < clip.actionNames.count ? clip.actionNames[a] : ""
                    canvas.draw(name, x: x, y: bar + h + gap, scale: text, color: (200, 200, 120))
                }
            }
            canvas.draw("FRAME \(startIndex + t)", x: writer.width - Canvas.textWidth("FRAME \(startIndex + t)", scale: text) - gap, y: gap, scale: text, color: (160, 160, 160))
            try writer.write(rgb: canvas.rgb)
        }
        try writer.finish()
    }

    private static func decodeAll(_ clip: CodeClip, _ tokenizer: LoadedTokenizer) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        try tokenizer.decode(clip) { out.append($0) }
        return out
    }
}
