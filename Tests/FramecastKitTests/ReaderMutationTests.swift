import CodeFile
@testable import FramecastKit
import Foundation
import Media
import NN
import Prior
import SafeTensors
import TestSupport
import VQVAE
import XCTest

/// A seeded mutation fuzzer for the readers framecast owns: safetensors containers and code files,
/// the action sidecars (CSV and JSON), model configs and run folders' JSON. Every mutated input
/// must be read or refused with an error; a crash or a hang ends the test process, which is the
/// failure this looks for. Fixed seeds and counts, so every run tries the same inputs.
final class ReaderMutationTests: XCTestCase {
    /// One mutation of `bytes`: flipped bytes, a cut, inserted bytes, or a digit run made huge.
    static func mutate(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var out = bytes
        switch rng.next() % 5 {
        case 0:
            for _ in 0..<(1 + Int(rng.next() % 6)) where !out.isEmpty { out[Int(rng.next() % UInt64(out.count))] ^= UInt8(1 + rng.next() % 255) }
        case 1:
            out = Array(out.prefix(Int(rng.next() % UInt64(out.count + 1))))
        case 2:
            let at = Int(rng.next() % UInt64(out.count + 1))
            out.insert(contentsOf: (0..<(1 + Int(rng.next() % 16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
        case 3:
            // A number in the text made enormous, negative or fractional.
            if let at = out.indices.filter({ (48...57).contains(out[$0]) }).randomElement(using: &rng) {
                let replacement = ["99999999999999999999", "-1", "0", "1e308", "4294967296", "0.5"][Int(rng.next() % 6)]
                out.replaceSubrange(at...at, with: Array(replacement.utf8))
            }
        default:
            // A slice repeated.
            if out.count > 2 {
                let a = Int(rng.next() % UInt64(out.count)), b = min(out.count, a + 1 + Int(rng.next() % 32))
                out.insert(contentsOf: out[a..<b], at: b)
            }
        }
        return out
    }

    func testMutatedCodeFilesAndContainersAreReadOrRefused() throws {
        let dir = TemporaryDirectory()
        let clip = CodeClip(codes: (0..<(6 * 4)).map { UInt16($0 % 8) }, frames: 6, gridH: 2, gridW: 2, actions: [0, 1, 2, 0, 1, -1],
                            episodeStart: [true, false, false, true, false, false], fps: 15, frameWidth: 16, frameHeight: 16,
                            codebookSize: 8, tokenizerHash: String(repeating: "a", count: 64), source: "s.mp4", sourceBytes: 10,
                            actionNames: ["A", "B", "C"])
        try clip.write(path: dir.file("c.codes.safetensors"))
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("c.codes.safetensors"))))
        var rng = SplitMix64(seed: 30)
        var (read, refused) = (0, 0)
        for _ in 0..<2000 {
            let bytes = Self.mutate(original, &rng)
            let path = dir.file("m.codes.safetensors")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let container = try SafeTensorsFile(data: Data(bytes), fileName: path)
                _ = try CodeClip(safeTensors: container, fileName: path)
                _ = try Checkpoint.load(path)
                read += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                refused += 1
            }
        }
        print("code files: \(read) mutated files read, \(refused) refused")
        XCTAssertGreaterThan(refused, 1000)
    }

    func testMutatedSidecarsAreReadOrRefused() throws {
        let dir = TemporaryDirectory()
        let track = ActionTrack(actionNames: ["NOOP", "LEFT", "RIGHT"],
                                steps: (0..<20).map { ActionTrack.Step(actionID: $0 % 3, reward: Double($0) / 4, episodeStart: $0 % 7 == 0) },
                                settings: ["fps": "15"])
        try track.write(base: dir.file("v"))
        let csv = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("v.actions.csv"))))
        let json = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file("v.json"))))
        var rng = SplitMix64(seed: 31)
        var (read, refused) = (0, 0)
        for trial in 0..<1000 {
            let (c, j) = trial % 2 == 0 ? (Self.mutate(csv, &rng), json) : (csv, Self.mutate(json, &rng))
            try Data(c).write(to: URL(fileURLWithPath: dir.file("m.actions.csv")))
            try Data(j).write(to: URL(fileURLWithPath: dir.file("m.json")))
            do {
                let loaded = try ActionTrack.read(csv: dir.file("m.actions.csv"), json: dir.file("m.json"))
                try loaded.validate(frameCount: 20, video: dir.file("m.mp4"), csv: dir.file("m.actions.csv"))
                read += 1
            } catch {
                refused += 1
            }
        }
        print("sidecars: \(read) mutated sidecars read, \(refused) refused")
        XCTAssertGreaterThan(refused, 300)
    }

    func testMutatedRunRecordsAreReadOrRefusedOnResume() throws {
        let dir = TemporaryDirectory()
        let folder = dir.file("run")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: folder + "/checkpoint.safetensors", contents: Data("x".utf8)))
        let original = [UInt8](try JSONSerialization.data(withJSONObject: ["codes": ["a.codes.safetensors", "b.codes.safetensors"],
                                                                             "log_every": ["25"], "eval_every": ["250"], "checkpoint_every": ["1"]],
                                                            options: [.sortedKeys, .prettyPrinted]))
        var rng = SplitMix64(seed: 33)
        var (read, refused) = (0, 0)
        for _ in 0..<500 {
            try Data(Self.mutate(original, &rng)).write(to: URL(fileURLWithPath: folder + "/run.json"))
            do {
                let run = try TrainingRun(folder: folder, resume: true)
                let sources = try run.sources([:])
                let cadence = try run.resolve(TrainingCadence())
                XCTAssertFalse(sources.isEmpty)
                XCTAssertTrue(cadence.log > 0 && cadence.eval > 0 && cadence.checkpoint > 0)
                read += 1
            } catch let error as CheckpointError {
                XCTAssertTrue("\(error)".contains("run.json"), "\(error)")
                refused += 1
            }
        }
        print("run records: \(read) mutated run.json files read, \(refused) refused")
        XCTAssertGreaterThan(refused, 100)
        XCTAssertGreaterThan(read, 50)
    }

    func testMutatedConfigsAreDecodedOrRefusedAndNeverBuildHugeModels() throws {
        var config = PriorConfig()
        (config.layers, config.width, config.heads, config.contextFrames, config.trainingFrames) = (1, 16, 2, 2, 4)
        (config.gridWidth, config.gridHeight, config.codebookSize, config.actionCount) = (2, 2, 8, 3)
        let original = [UInt8](try JSONEncoder().encode(config))
        var rng = SplitMix64(seed: 32)
        var (built, refused) = (0, 0)
        for _ in 0..<1500 {
            let bytes = Self.mutate(original, &rng)
            guard let decoded = try? JSONDecoder().decode(PriorConfig.self, from: Data(bytes)) else { refused += 1; continue }
            if decoded.problems.isEmpty {
                // Within bounds: a model of it can be built (small, by the bounds).
                if decoded.layers * decoded.width * decoded.width <= 4_000_000 && decoded.codebookSize <= 4096 {
                    _ = try PriorModel(config: decoded)
                }
                built += 1
            } else {
                XCTAssertThrowsError(try PriorModel(config: decoded))
                refused += 1
            }
        }
        print("prior configs: \(built) mutated configs usable, \(refused) refused")
        XCTAssertGreaterThan(refused, 500)
    }
}
