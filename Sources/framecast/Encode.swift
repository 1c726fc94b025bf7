import FramecastKit
import ArgumentParser
import CodeFile
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

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one video or folder") }
        guard batch > 0 else { throw ValidationError("--batch must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        var videos: [String] = []
        for input in inputs { videos += try ClipSet.resolve(input).videos }
        let single = videos.count == 1 && output.hasSuffix(".codes.safetensors")
        if !single {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        }
        let tok = try VideoTokenizer(tokenizer)
        let threads = self.threads ?? Torch.allCores
        let progress = ProgressReporter("encode", total: videos.count, unit: "videos")
        let started = Date()
        let jobs = EncodeJobs(videos: videos.map { video in
            let name = URL(fileURLWithPath: video).deletingPathExtension().lastPathComponent
            return (video, single ? output : (output as NSString).appendingPathComponent(name + ".codes.safetensors"))
        }, tokenizer: tok, batch: batch, progress: progress)
        // Several videos: one per core, each on one compute thread (its frames decoded a batch ahead
        // on another). Measured on 2 cores: ~20% more frames/s than one video at a time on both cores
        // (whose OpenMP regions, it seems, wait while the decoding thread holds a core). One video:
        // all threads on it.
        let workers = min(threads, videos.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            Torch.setThreads(workers > 1 ? 1 : threads)  // OpenMP's thread count is per calling thread
            jobs.work()
        }
        if let error = jobs.error { throw error }
        let seconds = Date().timeIntervalSince(started)
        progress.finish(videos.count, extra: String(format: "%d frames, %.0f frames/s", jobs.totalFrames, Double(jobs.totalFrames) / seconds))
    }
}

/// The videos of one `encode` run, handed out to worker threads one at a time; collects their
/// results (printed in input order as they become available) and the first error, after which no
/// new video is started. Workers share the tokenizer: encoding only reads its weights, which
/// libtorch allows from several threads.
private final class EncodeJobs: @unchecked Sendable {
    private let lock = NSLock()
    private let videos: [(source: String, destination: String)]
    private let tokenizer: VideoTokenizer
    private let batch: Int
    private let progress: ProgressReporter
    private var nextIndex = 0
    private var lines: [Int: String] = [:]
    private var printed = 0
    private(set) var totalFrames = 0
    private(set) var error: (any Error)?

    init(videos: [(source: String, destination: String)], tokenizer: VideoTokenizer, batch: Int, progress: ProgressReporter) {
        self.videos = videos
        self.tokenizer = tokenizer
        self.batch = batch
        self.progress = progress
    }

    /// Encodes videos until none is left (or one failed).
    func work() {
        while let index = take() {
            let video = videos[index]
            do {
                let clip = try tokenizer.encode(video: video.source, batch: batch)
                try clip.write(path: video.destination)
                finished(index, frames: clip.frames,
                         line: "\(video.destination): \(clip.frames) frames, grid \(clip.gridW)x\(clip.gridH), K=\(clip.codebookSize)")
            } catch {
                failed(error)
            }
        }
    }

    /// The index of the next video to encode, or nil when all are taken or one failed.
    private func take() -> Int? {
        lock.withLock {
            guard error == nil, nextIndex < videos.count else { return nil }
            defer { nextIndex += 1 }
            return nextIndex
        }
    }

    private func finished(_ index: Int, frames: Int, line: String) {
        lock.withLock {
            totalFrames += frames
            lines[index] = line
            while let next = lines.removeValue(forKey: printed) {
                print(next)
                printed += 1
            }
            progress.update(printed + lines.count, extra: "\(totalFrames) frames")  // finished: printed + waiting for an earlier one
        }
    }

    private func failed(_ error: any Error) {
        lock.withLock { if self.error == nil { self.error = error } }
    }
}
