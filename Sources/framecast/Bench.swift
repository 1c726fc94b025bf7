import FramecastKit
import ArgumentParser
import Foundation
import Media

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure framecast's own throughput: video decoding, tokenizer, prior.",
        subcommands: [BenchDecode.self, BenchTokenizer.self, BenchPrior.self]
    )
}

struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode and resize a video as fast as possible; print frames/s and peak memory.",
        discussion: """
            Example:
              framecast bench decode .data/bench/long_5000.mp4 --size 64x64 --json
            """
    )

    @Argument(help: "The video to decode.")
    var video: String

    @Option(help: "Output size WIDTHxHEIGHT.")
    var size = FrameSize(width: 64, height: 64)

    @Option(help: "How to fit a different aspect ratio: crop, stretch or pad.")
    var fit: FitMode = .stretch

    @Flag(help: "Print one JSON line.")
    var json = false

    func validate() throws { try size.validate("--size") }

    struct Report: Encodable {
        var path: String
        var frames: Int
        var seconds: Double
        var framesPerSecond: Double
        var peakRSSMegabytes: Double

        enum CodingKeys: String, CodingKey {
            case path, frames, seconds
            case framesPerSecond = "frames_per_second", peakRSSMegabytes = "peak_rss_mb"
        }
    }

    func run() throws {
        let start = Date()
        let reader = try VideoReader(path: video, size: (size.width, size.height), fit: fit)
        var frames = 0
        var checksum = 0
        while let frame = try reader.next() {
            frames += 1
            checksum &+= Int(frame.rgb[frame.rgb.count / 2])
        }
        let seconds = Date().timeIntervalSince(start)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let report = Report(path: video, frames: frames, seconds: seconds, framesPerSecond: Double(frames) / seconds,
                            peakRSSMegabytes: Double(usage.ru_maxrss) / 1024)
        if json {
            try printJSON(report)
        } else {
            print(String(format: "%@: %d frames in %.3f s = %.0f frames/s, peak RSS %.1f MB (checksum %d)",
                         video, frames, seconds, report.framesPerSecond, report.peakRSSMegabytes, checksum))
        }
    }
}

/// The middle value (mean of the two middle ones for an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
