import CodeFile
import Foundation
import NN

extension VideoTokenizer {
    /// Encodes videos to code files: several videos side by side, one per worker with one compute
    /// thread each (its frames decoded a batch ahead on another); one video gets every thread.
    /// `encoded(index, line)` is called in input order as results become available (a line per
    /// video). Stops at the first failure and rethrows it. Returns the total frame count.
    /// Workers share the tokenizer: encoding only reads its weights, which libtorch allows from
    /// several threads.
    package func encode(_ jobs: [(source: String, destination: String)], batch: Int = 64, threads: Int,
                        progress: ProgressReporter? = nil, encoded: @escaping (Int, String) -> Void) throws -> Int {
        let workers = min(threads, jobs.count)
        if workers <= 1 { Torch.setThreads(threads) }
        var lines: [Int: String] = [:]
        var (printed, frames) = (0, 0)
        let counts = try WorkerPool.map(jobs.count, workers: workers, torchThreads: 1, finished: { index, clip in
            frames += clip.frames
            lines[index] = "\(jobs[index].destination): \(clip.frames) frames, grid \(clip.gridW)x\(clip.gridH), K=\(clip.codebookSize)"
            while let next = lines.removeValue(forKey: printed) {
                encoded(printed, next)
                printed += 1
            }
            progress?.update(printed + lines.count, extra: "\(frames) frames")   // finished: printed + waiting for an earlier one
        }) { (k: Int) -> (frames: Int, gridW: Int, gridH: Int, codebookSize: Int) in
            let clip = try self.encode(video: jobs[k].source, batch: batch)
            try clip.write(path: jobs[k].destination)
            return (clip.frames, clip.gridW, clip.gridH, clip.codebookSize)
        }
        return counts.map(\.frames).reduce(0, +)
    }
}
