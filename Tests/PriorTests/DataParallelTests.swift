import CodeFile
import Foundation
import NN
@testable import Prior
import XCTest

/// Data parallelism over c10d/Gloo: two ranks (threads of this process, each with its own process
/// group on 127.0.0.1) each taking half of every batch follow one trainer with the whole batch.
final class DataParallelTests: XCTestCase {
    private final class Results: @unchecked Sendable {
        var losses: [[Double]] = [[], []]
        var errors: [String] = []
        let lock = NSLock()
    }

    func testTwoRanksWithHalfTheBatchFollowOneProcessWithTheWholeBatch() throws {
        var config = tinyConfig()
        config.dropout = 0   // dropout masks are drawn per process; the recipe has none
        let data = try PriorDataset(clips: [randomClip(frames: 40, seed: 1), randomClip(frames: 30, seed: 2)])
        var options = PriorTrainingOptions()
        (options.batch, options.steps, options.warmup, options.seed) = (8, 20, 3, 5)
        (options.actionDropout, options.contextNoise) = (0.2, 0.1)   // drawn for the whole batch, so they split exactly
        Torch.manualSeed(7)
        let single = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        let expected = try (0..<20).map { _ in try single.trainStep().loss }

        Torch.manualSeed(7)
        let first = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        Torch.manualSeed(99)   // another start: joining gives rank 1 rank 0's weights
        let second = try PriorTrainer(model: PriorModel(config: config), options: options, data: data)
        let port = try ProcessGroup.freeLocalPort(), results = Results(), done = DispatchGroup()
        final class Box: @unchecked Sendable { let trainer: PriorTrainer; init(_ t: PriorTrainer) { trainer = t } }
        for (rank, box) in [Box(first), Box(second)].enumerated() {
            done.enter()
            Thread.detachNewThread {
                let trainer = box.trainer
                defer { done.leave() }
                do {
                    let group = try ProcessGroup(host: "127.0.0.1", port: port, rank: rank, size: 2, timeout: 60)
                    try trainer.join(group)
                    for _ in 0..<20 {
                        let loss = try trainer.trainStep().loss
                        results.lock.withLock { results.losses[rank].append(loss) }
                    }
                } catch {
                    results.lock.withLock { results.errors.append("rank \(rank): \(error)") }
                }
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "the ranks did not finish")
        XCTAssertEqual(results.errors, [])
        XCTAssertEqual(results.losses[0], results.losses[1], "every rank logs the whole batch's loss")
        XCTAssertEqual(results.losses[0].count, 20)
        for (step, (got, want)) in zip(results.losses[0], expected).enumerated() {
            XCTAssertEqual(got, want, accuracy: 1e-5 * abs(want), "step \(step + 1)")
        }
        for ((name, a), (_, b)) in zip(first.model.namedParameters, single.model.namedParameters) {
            let x = try a.floats(), y = try b.floats()
            let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-5, name)
        }
        for ((name, a), (_, b)) in zip(first.model.namedParameters, second.model.namedParameters) {
            XCTAssertEqual(try a.floats(), try b.floats(), "rank 1's \(name) is rank 0's")
        }
    }

    func testABatchThatDoesNotSplitEvenlyIsRefused() throws {
        let data = try PriorDataset(clips: [randomClip(frames: 40, seed: 1)])
        var options = PriorTrainingOptions()
        options.batch = 3
        let trainer = try PriorTrainer(model: PriorModel(config: tinyConfig()), options: options, data: data)
        let group = try ProcessGroup(host: "127.0.0.1", port: try ProcessGroup.freeLocalPort(), rank: 0, size: 1, timeout: 10)
        XCTAssertNoThrow(try trainer.join(group), "one process takes the whole batch")
        let port = try ProcessGroup.freeLocalPort()
        let results = Results(), done = DispatchGroup()
        done.enter()
        Thread.detachNewThread {
            defer { done.leave() }
            do { _ = try ProcessGroup(host: "127.0.0.1", port: port, rank: 1, size: 2, timeout: 20) } catch {}
        }
        let pair = try ProcessGroup(host: "127.0.0.1", port: port, rank: 0, size: 2, timeout: 20)
        XCTAssertThrowsError(try trainer.join(pair)) { XCTAssertTrue("\($0)".contains("must split evenly over 2 processes"), "\($0)") }
        done.wait()
        withExtendedLifetime(results) {}
    }
}
