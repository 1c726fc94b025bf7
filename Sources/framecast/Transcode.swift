import FramecastKit
import ArgumentParser
import FileOutput
import Foundation
import Media

struct Transcode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a video, resize it, and encode it as an H.264 MP4.",
        discussion: """
            The I/O path end to end, streaming: memory does not grow with the video's length. With --fps, \
            frames are dropped or repeated by timestamp. When the input has an action sidecar it is written \
            beside the output too (resampled with the frames).

            Examples:
              framecast transcode Clips/my_way_home_s1.mp4 -o small.mp4 --size 64x64
              framecast transcode movie.mkv -o small.mp4 --size 128x72 --fit pad --fps 10
            """
    )

    @Argument(help: "The video to read.")
    var video: String

    @Option(name: .shortAndLong, help: "Output MP4 path.")
    var output: String

    @Option(help: "Output size WIDTHxHEIGHT (even numbers). Default: the input's size.")
    var size: FrameSize?

    @Option(help: "How to fit a different aspect ratio: crop (center), stretch, or pad (letterbox).")
    var fit: FitMode = .crop

    @Option(help: "Output frame rate. Default: the input's.")
    var fps: Double?

    @Option(help: "H.264 quality, 0 (lossless) to 51 (worst).")
    var crf: Int = 18

    func validate() throws {
        try size?.validate("--size", even: true)
        if let fps, !(fps > 0 && fps <= 1000) { throw ValidationError("--fps must be in (0, 1000], got \(fps)") }
        guard (0...51).contains(crf) else { throw ValidationError("--crf must be 0...51, got \(crf)") }
    }

    func run() throws {
        try AtomicFile.checkOutput(output, notAny: [video])   // before any work: a regular file, not an input
        let reader = try VideoReader(path: video, size: size.map { ($0.width, $0.height) }, fit: fit)
        let track = try ActionTrack.load(forVideo: video)
        let sourceFPS = reader.info.fps > 0 ? reader.info.fps : (track?.fps ?? 25)
        let outputFPS = fps ?? sourceFPS
        guard reader.outputWidth % 2 == 0, reader.outputHeight % 2 == 0 else {
            throw MediaError(video, "is \(reader.outputWidth)x\(reader.outputHeight); yuv420p output needs even sizes: pass --size")
        }
        let writer = try VideoWriter(path: output, width: reader.outputWidth, height: reader.outputHeight,
                                     fps: outputFPS, crf: crf)
        let progress = ProgressReporter("transcode", total: reader.info.statedFrameCount)
        // Without --fps (or with the same rate) every frame is written once; otherwise by timestamp.
        var resampler = fps.map { $0 != sourceFPS ? FrameRateResampler(outputFPS: $0) : nil } ?? nil
        func start(_ frame: Frame) -> Double { frame.time ?? Double(frame.index) / sourceFPS }
        var sourceOfOutput: [Int] = []  // source frame index behind each output frame
        var pending: Frame?
        func emit(_ frame: Frame, until end: Double) throws {
            let copies = resampler?.count(start: start(frame), end: end) ?? 1
            for _ in 0..<copies {
                try writer.write(frame)
                sourceOfOutput.append(frame.index)
            }
        }
        while let frame = try reader.next() {
            if let previous = pending { try emit(previous, until: start(frame)) }
            pending = frame
            progress.update(frame.index + 1)
        }
        guard let last = pending else { throw MediaError(video, "contains no decodable frames") }
        try emit(last, until: start(last) + 1 / sourceFPS)
        if let track {
            try track.validate(frameCount: last.index + 1, video: video, csv: ActionTrack.sidecarPaths(forVideo: video).csv)
        }
        try writer.finish()
        progress.finish(last.index + 1)
        if let track {
            try track.resampled(sourceOfOutput).write(base: URL(fileURLWithPath: output).deletingPathExtension().path)
        }
        print("\(output): \(writer.framesWritten) frames, \(writer.width)x\(writer.height), \(String(format: "%g", outputFPS)) fps, \(writer.codec.rawValue)")
    }
}

/// Decides how many output frames each source frame covers when changing the frame rate:
/// output frame k (at time k / outputFPS) shows the last source frame that started by then.
struct FrameRateResampler {
    let outputFPS: Double
    private var origin: Double?
    private var emitted = 0

    init(outputFPS: Double) { self.outputFPS = outputFPS }

    /// Output frames showing the source frame that starts at `start` and is replaced at `end` (seconds).
    mutating func count(start: Double, end: Double) -> Int {
        if origin == nil { origin = start }
        var n = 0
        while Double(emitted) / outputFPS < end - origin! - 1e-9 {
            emitted += 1
            n += 1
        }
        return n
    }
}

extension ActionTrack {
    /// The track for a resampled video whose output frame k shows source frame `sources[k]`.
    func resampled(_ sources: [Int]) -> ActionTrack {
        var out: [Step] = []
        var previous = -1
        for source in sources {
            var step = steps[min(source, steps.count - 1)]
            // An episode start skipped over by dropped frames still starts the episode here.
            step.episodeStart = (previous + 1...max(previous + 1, source)).contains { steps[min($0, steps.count - 1)].episodeStart }
            if source == previous { step.episodeStart = false }
            out.append(step)
            previous = source
        }
        return ActionTrack(actionNames: actionNames, steps: out, settings: settings.merging(["frames": String(out.count)]) { $1 })
    }
}
