import CodeFile
import NN
@testable import Prior
import Foundation
import XCTest

let testHash = "aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44ee55ff66aa11bb22cc33dd44"

/// A clip of random codes and actions with the given episode starts.
func randomClip(frames: Int, grid: Int = 2, k: Int = 8, actions names: [String] = ["A", "B", "C"],
                episodeStarts: Set<Int> = [0], seed: UInt64, hash: String = testHash) -> CodeClip {
    var rng = SplitMix64(seed: seed)
    let hw = grid * grid
    return CodeClip(
        codes: (0..<(frames * hw)).map { _ in UInt16(rng.next() % UInt64(k)) }, frames: frames, gridH: grid, gridW: grid,
        actions: (0..<frames).map { _ in Int32(rng.next() % UInt64(names.count)) },
        episodeStart: (0..<frames).map { $0 == 0 || episodeStarts.contains($0) },
        fps: 10, frameWidth: 8 * grid, frameHeight: 8 * grid, codebookSize: k, tokenizerHash: hash,
        source: "synthetic", sourceBytes: 0, actionNames: names)
}

/// A tiny config matching `randomClip`'s defaults, trained on windows of twice the context.
func tinyConfig(contextFrames: Int = 3) -> PriorConfig {
    var c = PriorConfig()
    c.trainingFrames = 2 * contextFrames
    c.layers = 2
    c.width = 32
    c.heads = 2
    c.contextFrames = contextFrames
    c.gridWidth = 2
    c.gridHeight = 2
    c.codebookSize = 8
    c.actionCount = 3
    c.dropout = 0.1
    return c
}

/// Random values in every block's action modulation (zero in a fresh model, which would hide it).
func randomiseModulation(_ model: PriorModel, std: Double = 0.5) throws {
    try Tensor.noGrad {
        for (name, p) in model.namedParameters where name.hasSuffix("modulation.weight") { try p.copyFrom(Tensor.randn(p.shape) * std) }
    }
}

/// The moving-square world: a 4×4 grid of codes (0 background, 1 square) where one square moves
/// by the action taken (noop, left, right, up, down), wrapping at the edges. Episodes restart at a
/// random cell every `episodeLength` frames.
enum SquareWorld {
    static let names = ["noop", "left", "right", "up", "down"]
    static let size = 4

    /// The cell after taking `action` in `cell` (row-major index).
    static func move(_ cell: Int, _ action: Int) -> Int {
        var (r, c) = (cell / size, cell % size)
        switch action {
        case 1: c = (c + size - 1) % size
        case 2: c = (c + 1) % size
        case 3: r = (r + size - 1) % size
        case 4: r = (r + 1) % size
        default: break
        }
        return r * size + c
    }

    static func grid(_ cell: Int) -> [UInt16] { (0..<(size * size)).map { $0 == cell ? 1 : 0 } }

    static func clip(frames: Int, episodeLength: Int = 50, seed: UInt64) -> CodeClip {
        var rng = SplitMix64(seed: seed)
        var codes: [UInt16] = [], actions: [Int32] = [], starts: [Bool] = []
        var cell = 0
        for t in 0..<frames {
            let start = t % episodeLength == 0
            if start { cell = Int(rng.next() % 16) } else { cell = move(cell, Int(actions[t - 1])) }
            codes += grid(cell)
            starts.append(start)
            actions.append(Int32(rng.next() % 5))
        }
        return CodeClip(codes: codes, frames: frames, gridH: size, gridW: size, actions: actions, episodeStart: starts,
                        fps: 10, frameWidth: 16, frameHeight: 16, codebookSize: 2, tokenizerHash: testHash,
                        source: "square-world", sourceBytes: 0, actionNames: names)
    }
}

/// Asserts that `body` throws a `PriorError` whose problem matches and whose description mentions every fragment.
func assertPriorError<T>(_ body: @autoclosure () throws -> T, _ matches: (PriorError.Problem) -> Bool,
                         mentions fragments: [String] = [], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let error = error as? PriorError else { return XCTFail("expected PriorError, got \(error)", file: file, line: line) }
        XCTAssertTrue(matches(error.problem), "unexpected problem: \(error)", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(error.description.contains(fragment), "'\(error)' does not mention '\(fragment)'", file: file, line: line)
        }
    }
}

func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("PriorTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
