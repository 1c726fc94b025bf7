import Foundation
import NN

/// Runs independent jobs on worker threads, each with its own libtorch (OpenMP) thread count,
/// and returns their results in job order. Jobs are handed out one at a time; the first error
/// stops new jobs from starting and is rethrown. Used for rollout windows and for encoding
/// several videos.
package enum WorkerPool {
    /// `body(0) … body(count − 1)` on `workers` threads, each running libtorch ops on
    /// `torchThreads` threads (restored on the calling thread afterwards); `finished(index, result)`
    /// is called under a lock as each job completes.
    package static func map<T>(_ count: Int, workers: Int, torchThreads: Int = 1,
                               finished: ((Int, T) -> Void)? = nil, _ body: (Int) throws -> T) throws -> [T] {
        let workers = max(1, min(workers, count))
        guard workers > 1 else {          // on the calling thread, with its own thread count
            return try (0..<count).map { k in
                let result = try body(k)
                finished?(k, result)
                return result
            }
        }
        let threads = Torch.threads
        defer { Torch.setThreads(threads) }
        return try withoutActuallyEscaping(body) { body in
            let shared = WorkerPoolJobs<T>(count: count, body: body, finished: finished)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                Torch.setThreads(torchThreads)      // OpenMP's thread count is per calling thread
                while let k = shared.take() {
                    do {
                        let result = try shared.body(k)
                        shared.lock.withLock {
                            shared.results[k] = result
                            shared.finished?(k, result)
                        }
                    } catch {
                        shared.lock.withLock { if shared.error == nil { shared.error = error } }
                        return
                    }
                }
            }
            if let error = shared.error { throw error }
            return shared.results.map { $0! }
        }
    }
}

/// Shared by a pool's workers: the next job, the results (each slot written once), the first
/// error, guarded by `lock`.
private final class WorkerPoolJobs<T>: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var results: [T?]
    var error: (any Error)?
    let body: (Int) throws -> T
    let finished: ((Int, T) -> Void)?

    init(count: Int, body: @escaping (Int) throws -> T, finished: ((Int, T) -> Void)?) {
        (results, self.body, self.finished) = (Array(repeating: nil, count: count), body, finished)
    }

    /// The next job's index, or nil when all are taken or one failed.
    func take() -> Int? {
        lock.withLock {
            guard error == nil, next < results.count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
