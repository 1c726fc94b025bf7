import FramecastKit
import ArgumentParser
import CodeFile
import FileOutput
import Foundation
import Media
import NN

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Encode videos into code files with a tokenizer.",
        discussion: """
            Each video becomes NAME.codes.safetensors: codes u16 [T, h, w], actions i32 [T] from the \
            NAME.actions.csv sidecar (-1 where there is none), episode_start u8 [T], and metadata (fps, source, \
            frame size, grid, K, tokenizer hash, action names). Frames are decoded a batch ahead on a second thread while the tokenizer encodes the current batch \
            (--batch frames), so memory does not grow with the length of a video. Several videos are encoded \
            side by side, one per --threads, each on one compute thread; a single video gets all of them.

            Examples:
              framecast encode Clips/my_way_home_s1.mp4 --tokenizer runs/tok/tokenizer.safetensors -o s1.codes.safetensors
              framecast encode Clips --tokenizer runs/tok/tokenizer.safetensors -o codes/
            """
    )

    @Argument(help: "Videos, or folders of videos.")
    var inputs: [String]

    @Option(help: "Tokenizer checkpoint (tokenizer.safetensors or a training checkpoint).")
    var tokenizer: String

    @Option(name: .shortAndLong, help: "Output: a .codes.safetensors file for one video, else a folder.")
    var output: String

    @Option(help: "Frames per encoder batch.")
    var batch = 64

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @OptionGroup var device: DeviceOption

    func validate() throws {
        try validateThreads(threads)
        guard !inputs.isEmpty else { throw ValidationError("give at least one video or folder") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
    }

    func run() throws {
        try Torch.setDevice(device.device)
        var videos: [String] = []
        for input in inputs { videos += try ClipSet.resolve(input).videos }
        let single = videos.count == 1 && output.hasSuffix(".codes.safetensors")
        if !single {
            try makeOutputFolder(output)
        }
        let tok = try VideoTokenizer(tokenizer)
        let progress = ProgressReporter("encode", total: videos.count, unit: "videos")
        let started = Date()
        let jobs = videos.map { video in
            let name = URL(fileURLWithPath: video).deletingPathExtension().lastPathComponent
            return (source: video, destination: single ? output : (output as NSString).appendingPathComponent(name + ".codes.safetensors"))
        }
        // Every destination is checked before any work: distinct, a regular file, none of the inputs.
        var seen: [String: String] = [:]
        for job in jobs {
            let destination = URL(fileURLWithPath: job.destination).standardized.path
            if let other = seen[destination] {
                throw ValidationError("\(other) and \(job.source) would both be written to \(job.destination); encode them into separate folders")
            }
            seen[destination] = job.source
            try AtomicFile.checkOutput(job.destination, notAny: videos)
        }
        let frames = try tok.encode(jobs, batch: batch, threads: device.device == .cuda ? 1 : threads ?? Torch.allCores, progress: progress) { _, line in print(line) }
        let seconds = Date().timeIntervalSince(started)
        progress.finish(videos.count, extra: String(format: "%d frames, %.0f frames/s", frames, Double(frames) / seconds))
    }
}
