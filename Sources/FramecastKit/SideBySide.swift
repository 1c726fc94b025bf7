import CodeFile
import Foundation
import Media

/// Writes labelled side-by-side videos: optional ground truth, then one panel per predicted clip,
/// enlarged by nearest neighbour, with the panel name, the frame number, CONTEXT on real context
/// frames, and the action that led to each frame.
package enum SideBySide {
    /// A source of ground-truth frames: decoded codes, or a video's real pixels.
    package enum Truth {
        case codes(CodeClip)
        case video(VideoReader, skip: Int)
    }

    package static func write(_ path: String, tokenizer: VideoTokenizer, truth: CodeClip?, predictions: [CodeClip],
                      labels: [String], scale: Int) throws {
        try write(path, tokenizer: tokenizer, truth: truth.map { Truth.codes($0) }, predictions: predictions, labels: labels, scale: scale)
    }

    package static func write(_ path: String, tokenizer: VideoTokenizer, truth: Truth?, predictions: [CodeClip],
                      labels: [String], scale: Int) throws {
        guard let first = predictions.first else { return }
        let frames = predictions.map(\.frames).max() ?? 0

        // Every panel's frames; predictions share their context (and often more) with the truth
        // and each other, so each distinct code grid is decoded once.
        var panels: [SideBySideWriter.Panel] = []
        var decodedClips: [CodeClip] = []
        var panelFrames: [[[UInt8]]] = []
        switch truth {
        case .codes(let clip)?:
            decodedClips.append(clip)
            panels.append(.init(name: "TRUTH", clip: clip))
        case .video(let reader, let skip)?:
            for _ in 0..<skip { guard try reader.skip() else { break } }
            var real: [[UInt8]] = []
            while real.count < frames, let frame = try reader.next() { real.append(frame.rgb) }
            panelFrames.append(real)
            panels.append(.init(name: "TRUTH", clip: nil))
        case nil:
            break
        }
        for (clip, label) in zip(predictions, labels) {
            decodedClips.append(clip)
            panels.append(.init(name: label, clip: clip))
        }
        panelFrames += try decodeDistinct(decodedClips, tokenizer)

        let writer = try SideBySideWriter(path: path, panels: panels, like: first, scale: scale)
        for t in 0..<frames {
            try writer.write(t, pictures: panelFrames.map { t < $0.count ? $0[t] : nil })
        }
        try writer.finish()
    }

    /// The frames of each clip, decoding each distinct code grid once (in batches of 64).
    private static func decodeDistinct(_ clips: [CodeClip], _ tokenizer: VideoTokenizer) throws -> [[[UInt8]]] {
        var index: [ArraySlice<UInt16>: Int] = [:]   // code grid → position among the distinct grids
        var distinct: [UInt16] = []
        var frameIndex: [[Int]] = []
        for clip in clips {
            let n = clip.codesPerFrame
            frameIndex.append((0..<clip.frames).map { t in
                let grid = clip.codes[(t * n)..<((t + 1) * n)]
                if let i = index[grid] { return i }
                index[grid] = index.count
                distinct += grid
                return index.count - 1
            })
        }
        let decoded = try tokenizer.decodeFrames(distinct)
        return frameIndex.map { $0.map { decoded[$0] } }
    }
}

/// Composes and encodes a side-by-side MP4 one time step at a time.
package final class SideBySideWriter {
    /// One column of the video: its title and the actions drawn under it (`actions[t − 1]` leads
    /// to frame t; none for a real video).
    package struct Panel {
        package var name: String
        package var actions: [Int32] = []
        package var actionNames: [String] = []

        package init(name: String, clip: CodeClip?) {
            self.name = name
            if let clip { (actions, actionNames) = (clip.actions, clip.actionNames) }
        }

        package init(name: String, actions: [Int32], actionNames: [String]) {
            (self.name, self.actions, self.actionNames) = (name, actions, actionNames)
        }
    }

    private let panels: [Panel]
    private let frameWidth: Int, frameHeight: Int, scale: Int
    private let text: Int, gap: Int, bar: Int
    private let contextFrames: Int, startIndex: Int
    private let writer: VideoWriter

    /// - Parameter like: a clip giving the frame size, fps, context length and source position.
    package convenience init(path: String, panels: [Panel], like first: CodeClip, scale: Int) throws {
        try self.init(path: path, panels: panels, frameWidth: first.frameWidth, frameHeight: first.frameHeight, fps: first.fps,
                      contextFrames: first.contextFrames ?? 0, startIndex: first.sourceStart ?? 0, scale: scale)
    }

    /// - Parameters:
    ///   - contextFrames: the first frames, marked CONTEXT.
    ///   - startIndex: the source frame number of frame 0.
    package init(path: String, panels: [Panel], frameWidth: Int, frameHeight: Int, fps: Double, contextFrames: Int,
         startIndex: Int, scale: Int) throws {
        self.panels = panels
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
        self.scale = scale
        text = max(1, scale / 2)
        gap = 2 * text
        bar = Canvas.textHeight(scale: text) + 2 * gap
        self.contextFrames = contextFrames
        self.startIndex = startIndex
        let width = panels.count * frameWidth * scale + (panels.count + 1) * gap, height = frameHeight * scale + 2 * bar
        // Enlarged flat-shaded frames compress as well with x264's veryfast preset as with medium
        // (within 2% here) at several times the speed, which matters to `predict`'s frames/s.
        writer = try VideoWriter(path: path, width: width + width % 2, height: height + height % 2, fps: fps,
                                 preset: "veryfast")
    }

    /// Writes frame `t`: one picture (packed RGB at the clip's frame size) per panel, nil for none.
    package func write(_ t: Int, pictures: [[UInt8]?]) throws {
        let w = frameWidth * scale, h = frameHeight * scale
        var canvas = Canvas(width: writer.width, height: writer.height, fill: (24, 24, 24))
        for (p, panel) in panels.enumerated() {
            let x = gap + p * (w + gap)
            canvas.draw(panel.name, x: x, y: gap, scale: text)
            guard p < pictures.count, let picture = pictures[p] else { continue }
            canvas.paste(picture, width: frameWidth, height: frameHeight, x: x, y: bar, scale: scale)
            if t < contextFrames { canvas.label("CONTEXT", x: x + text, y: bar + text, scale: text) }
            if t > 0, t - 1 < panel.actions.count {
                let a = Int(panel.actions[t - 1])
                let name = a >= 0 && a < panel.actionNames.count ? panel.actionNames[a] : ""
                canvas.draw(name, x: x, y: bar + h + gap, scale: text, color: (200, 200, 120))
            }
        }
        let frame = "FRAME \(startIndex + t)"
        canvas.draw(frame, x: writer.width - Canvas.textWidth(frame, scale: text) - gap, y: gap, scale: text, color: (160, 160, 160))
        try writer.write(rgb: canvas.rgb)
    }

    /// Completes the file (it appears at its path only now).
    package func finish() throws { try writer.finish() }
}
