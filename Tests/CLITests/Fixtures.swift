import Foundation
import Media
import TestSupport
import XCTest

/// Tiny models trained once per test run through the CLI, shared by the CLI tests: a synthetic
/// 32×32 clip with an action sidecar, a 16×16 tokenizer (4×4 grid, K = 32) and a 1-layer prior.
enum Fixtures {
    nonisolated(unsafe) static let directory = TemporaryDirectory()
    nonisolated(unsafe) private static var tokenizerPath: String?
    nonisolated(unsafe) private static var priorPath: String?

    static let tinyTokenizerArgs = ["--size", "16x16", "--grid", "4x4", "--codebook", "32x8", "--channels", "16",
                                    "--batch", "8", "--eval-frames", "16", "--threads", "2"]

    /// A 60-frame synthetic clip whose sidecar has three actions and an episode start at frame 17.
    static func clip() throws -> String {
        let video = directory.file("clip.mp4")
        if !FileManager.default.fileExists(atPath: video) {
            try SyntheticVideo.write(to: video, count: 60, width: 32, height: 32, fps: 12)
            let names = ["NOOP", "LEFT", "RIGHT"]
            let steps = (0..<60).map { ActionTrack.Step(actionID: $0 % 3, reward: 0, episodeStart: $0 == 0 || $0 == 17) }
            try ActionTrack(actionNames: names, steps: steps, settings: ["fps": "12"]).write(base: directory.file("clip"))
        }
        return video
    }

    /// A second clip of the same world at later phases, for validation.
    static func validationClip() throws -> String {
        let video = directory.file("val.mp4")
        if !FileManager.default.fileExists(atPath: video) {
            try SyntheticVideo.write(to: video, count: 30, width: 32, height: 32, fps: 12, firstFrame: 300)
            let steps = (0..<30).map { ActionTrack.Step(actionID: ($0 / 2) % 3, reward: 0, episodeStart: $0 == 0) }
            try ActionTrack(actionNames: ["NOOP", "LEFT", "RIGHT"], steps: steps, settings: ["fps": "12"]).write(base: directory.file("val"))
        }
        return video
    }

    static func tokenizer() throws -> String {
        if let tokenizerPath { return tokenizerPath }
        let run = directory.file("tok")
        let result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", try clip(), "--validation", try validationClip(),
                                                  "--steps", "30", "--out", run] + tinyTokenizerArgs)
        guard result.status == 0 else { throw FixtureError("tiny tokenizer training failed: \(result.stderr)") }
        tokenizerPath = run + "/tokenizer.safetensors"
        return tokenizerPath!
    }

    /// Code files of a clip, in a folder of their own (`codes` for the training clip, `valcodes`).
    static func codes(validation: Bool = false) throws -> String {
        let folder = directory.file(validation ? "valcodes" : "codes")
        if (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty ?? true {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let video = validation ? try validationClip() : try clip()
            let result = try ProcessRunner.framecast(["encode", video, "--tokenizer", try tokenizer(), "-o", folder])
            guard result.status == 0 else { throw FixtureError("encode failed: \(result.stderr)") }
        }
        return folder
    }

    static func prior() throws -> String {
        if let priorPath { return priorPath }
        let run = directory.file("prior")
        let result = try ProcessRunner.framecast(["train", "prior", "--codes", try codes(), "--validation", try codes(validation: true),
                                                  "--steps", "20", "--layers", "1", "--width", "32", "--heads", "2",
                                                  "--context", "3", "--training-frames", "6", "--batch", "4", "--eval-windows", "8",
                                                  "--threads", "2", "--out", run])
        guard result.status == 0 else { throw FixtureError("tiny prior training failed: \(result.stderr)") }
        priorPath = run + "/prior.safetensors"
        return priorPath!
    }
}

/// A shared fixture could not be made (the message says which command failed and why).
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
