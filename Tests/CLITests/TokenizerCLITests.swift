import CodeFile
import Foundation
import Media
import TestSupport
import VQVAE
import XCTest

/// The tokenizer through the command line: train a tiny model, encode, decode, resume.
final class TokenizerCLITests: XCTestCase {
    private var fixture: TemporaryDirectory { Fixtures.directory }
    private static let tinyArgs = Fixtures.tinyTokenizerArgs
    private func clip() throws -> String { try Fixtures.clip() }
    private func tokenizer() throws -> String { try Fixtures.tokenizer() }

    func testTrainingWritesModelReportAndLog() throws {
        let model = try tokenizer()
        XCTAssertTrue(FileManager.default.fileExists(atPath: model))
        let run = (model as NSString).deletingLastPathComponent
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/report.json"))) as? [String: Any])
        XCTAssertEqual(report["steps"] as? Int, 30)
        XCTAssertNotNil((report["validation"] as? [String: Any])?["psnr"])
        let log = try String(contentsOfFile: run + "/log.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(log.count, 1)
    }

    func testEncodeDecodeKeepsFramesFpsAndActions() throws {
        let model = try tokenizer(), video = try clip()
        let codes = fixture.file("a.codes.safetensors")
        var result = try ProcessRunner.framecast(["encode", video, "--tokenizer", model, "-o", codes])
        XCTAssertEqual(result.status, 0, result.stderr)
        let clip = try CodeClip.read(path: codes)
        XCTAssertEqual(clip.frames, 60)
        XCTAssertEqual(clip.fps, 12)
        XCTAssertEqual([clip.gridW, clip.gridH], [4, 4])
        XCTAssertEqual(clip.actions, (0..<60).map { Int32($0 % 3) })
        XCTAssertEqual(clip.episodeStart.enumerated().filter(\.element).map(\.offset), [0, 17])
        XCTAssertEqual(clip.actionNames, ["NOOP", "LEFT", "RIGHT"])

        // A second encode with the same checkpoint gives identical codes.
        let again = fixture.file("b.codes.safetensors")
        result = try ProcessRunner.framecast(["encode", video, "--tokenizer", model, "-o", again])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try CodeClip.read(path: again).codes, clip.codes)

        let mp4 = fixture.file("recon.mp4")
        result = try ProcessRunner.framecast(["decode", codes, "--tokenizer", model, "-o", mp4, "--side-by-side", video, "--scale", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reader = try VideoReader(path: mp4)
        XCTAssertEqual(reader.info.fps, 12, accuracy: 1e-9)
        XCTAssertEqual([reader.info.width, reader.info.height], [64, 32])
        XCTAssertEqual(try reader.countRemaining(), 60)
    }

    /// Several videos are encoded side by side (one per thread): the same codes as one at a time,
    /// lines printed in input order, and a broken video among them fails the run naming it.
    func testEncodingSeveralVideosSideBySideMatchesOneAtATime() throws {
        let model = try tokenizer(), a = try clip(), b = try Fixtures.validationClip()
        let folder = fixture.file("side-by-side")
        let result = try ProcessRunner.framecast(["encode", a, b, "--tokenizer", model, "-o", folder, "--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, result.stdout)
        XCTAssertTrue(lines.first?.hasPrefix(folder + "/clip.codes.safetensors: 60 frames") ?? false, result.stdout)
        XCTAssertTrue(lines.last?.hasPrefix(folder + "/val.codes.safetensors: 30 frames") ?? false, result.stdout)
        for (video, name) in [(a, "clip"), (b, "val")] {
            let alone = fixture.file("\(name)-alone.codes.safetensors")
            let single = try ProcessRunner.framecast(["encode", video, "--tokenizer", model, "-o", alone, "--threads", "2"])
            XCTAssertEqual(single.status, 0, single.stderr)
            let together = try CodeClip.read(path: folder + "/\(name).codes.safetensors")
            XCTAssertEqual(together.codes, try CodeClip.read(path: alone).codes, name)
            XCTAssertEqual(together.actions, try CodeClip.read(path: alone).actions, name)
        }

        try FileManager.default.createDirectory(atPath: fixture.file("broken"), withIntermediateDirectories: true)
        let broken = fixture.file("broken/broken.mp4")
        try Data("not a video".utf8).write(to: URL(fileURLWithPath: broken))
        let bad = try ProcessRunner.framecast(["encode", a, broken, b, "--tokenizer", model, "-o", fixture.file("with-broken"), "--threads", "2"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("broken.mp4"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.file("with-broken/broken.codes.safetensors")))
    }

    func testDecodeRefusesCodesFromAnotherTokenizer() throws {
        let model = try tokenizer(), video = try clip()
        let codes = fixture.file("c.codes.safetensors")
        XCTAssertEqual(try ProcessRunner.framecast(["encode", video, "--tokenizer", model, "-o", codes]).status, 0)
        let other = fixture.file("other")
        var result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--steps", "2", "--seed", "9", "--out", other] + Self.tinyArgs)
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try ProcessRunner.framecast(["decode", codes, "--tokenizer", other + "/tokenizer.safetensors", "-o", fixture.file("x.mp4")])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("tokenizer"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.file("x.mp4")))
    }

    func testInitFineTunesEverything() throws {
        let model = try tokenizer(), video = try clip()
        // --init fine-tunes everything: the codes may change, so the result records its own hash.
        let full = fixture.file("init-full")
        let result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--init", model, "--steps", "3", "--out", full] + Self.tinyArgs)
        XCTAssertEqual(result.status, 0, result.stderr)
        let fullReport = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: full + "/report.json"))) as? [String: Any])
        XCTAssertEqual(fullReport["codes_hash"] as? String, fullReport["tokenizer_sha256"] as? String)
        XCTAssertNotEqual(fullReport["tokenizer_sha256"] as? String, try TokenizerCheckpoint.contentHash(TokenizerCheckpoint.load(model).model))
    }

    /// The fit is how frames are read, not a weight: a tokenizer fine-tuned from a cropping one
    /// reads its footage with the recipe's fit unless --fit says otherwise.
    func testInitTakesTheFitAskedForNotTheInitialTokenizers() throws {
        let video = try clip(), crop = fixture.file("crop")
        var result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--fit", "crop", "--steps", "2", "--out", crop] + Self.tinyArgs)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try TokenizerCheckpoint.load(crop + "/tokenizer.safetensors").model.config.fit, "crop")
        for (args, fit) in [([String](), "stretch"), (["--fit", "crop"], "crop")] {
            let out = fixture.file("tuned-" + fit)
            result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--init", crop + "/tokenizer.safetensors", "--steps", "2", "--out", out] + args + Self.tinyArgs)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(try TokenizerCheckpoint.load(out + "/tokenizer.safetensors").model.config.fit, fit, args.joined(separator: " "))
        }
    }

    func testBFloat16TrainingIsRecordedAndSaysWhatTheCPUOffers() throws {
        let run = fixture.file("bf16")
        let result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", try clip(), "--steps", "3", "--bfloat16",
                                                  "--checkpoint-every", "1", "--out", run] + Self.tinyArgs)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("tokenizer: convolutions in bfloat16 (this CPU has")
                      || result.stderr.contains("tokenizer: warning: convolutions in bfloat16, but this CPU has neither"), result.stderr)
        // The checkpoint's options (safetensors metadata) carry the setting, so --resume keeps it.
        let data = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.safetensors"))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as? [String: Any])
        let options = try XCTUnwrap((header["__metadata__"] as? [String: String])?["options"])
        XCTAssertTrue(options.contains(#""bfloat16Convolutions":true"#), options)

        let off = try ProcessRunner.framecast(["train", "tokenizer", "--clips", try clip(), "--steps", "1", "--no-bfloat16",
                                               "--out", fixture.file("bf16-off")] + Self.tinyArgs)
        XCTAssertEqual(off.status, 0, off.stderr)
        XCTAssertFalse(off.stderr.contains("bfloat16"), off.stderr)
        let resumed = try ProcessRunner.framecast(["train", "tokenizer", "--out", run, "--resume", "--no-bfloat16"])
        XCTAssertNotEqual(resumed.status, 0)
        XCTAssertTrue(resumed.stderr.contains("--resume keeps the run's setting"), resumed.stderr)
    }

    func testKilledRunLeavesAValidCheckpointAndResumeFinishes() throws {
        let video = try clip()
        let run = fixture.file("killed")
        let args = ["train", "tokenizer", "--clips", video, "--steps", "400", "--checkpoint-every", "1", "--log-every", "1", "--out", run] + Self.tinyArgs
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.framecast)
        process.arguments = args
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Kill it (SIGKILL: no cleanup) once a few checkpoints have been written.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning {
            if let log = try? String(contentsOfFile: run + "/log.jsonl", encoding: .utf8), log.split(separator: "\n").count >= 8 { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)

        // The latest checkpoint is complete: resume reads it and runs to the requested step count.
        let result = try ProcessRunner.framecast(["train", "tokenizer", "--out", run, "--resume", "--threads", "2", "--log-every", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("resuming at step"), result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/report.json"))) as? [String: Any])
        XCTAssertEqual(report["steps"] as? Int, 400)
        // The log has exactly one line per step (no duplicates from the killed part).
        let steps = try String(contentsOfFile: run + "/log.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line -> Int? in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["val_psnr"] == nil ? object?["step"] as? Int : nil
        }
        XCTAssertEqual(steps, Array(1...400))
    }

    func testEvalTokenizerReadsTheChosenSplitOfAManifest() throws {
        let model = try tokenizer()  // also writes clip.mp4 and val.mp4 beside the manifest
        let manifest = fixture.file("manifest.json")
        try Data(#"{"train": ["clip"], "validation": ["val"]}"#.utf8).write(to: URL(fileURLWithPath: manifest))
        func frames(_ extra: [String]) throws -> Int? {
            let result = try ProcessRunner.framecast(["eval", "tokenizer", "--tokenizer", model, "--clips", manifest, "--json"] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            let sharpness = try XCTUnwrap(object?["sharpness"] as? Double)
            XCTAssertTrue(sharpness > 0 && sharpness < 2, "sharpness \(sharpness)")
            return object?["frames"] as? Int
        }
        XCTAssertEqual(try frames([]), 30)                      // val.mp4
        XCTAssertEqual(try frames(["--split", "train"]), 60)    // clip.mp4
        let bad = try ProcessRunner.framecast(["eval", "tokenizer", "--tokenizer", model, "--clips", manifest, "--split", "test"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--split must be validation or train, got test"), bad.stderr)
    }

    func testBadTokenizerArgumentsAreUsageErrors() throws {
        let video = try clip()
        let result = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--grid", "5x5", "--out", fixture.file("bad")])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("grid"), result.stderr)
        let blocks = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--encoder-blocks=-1", "--out", fixture.file("bad")])
        XCTAssertEqual(blocks.status, 64)
        XCTAssertTrue(blocks.stderr.contains("encoder blocks per level -1"), blocks.stderr)
        let edge = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--edge-weight=-0.5", "--out", fixture.file("bad")])
        XCTAssertEqual(edge.status, 64)
        XCTAssertTrue(edge.stderr.contains("--edge-weight must not be negative"), edge.stderr)
        let removed = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--adversarial-weight", "0.5", "--out", fixture.file("bad")])
        XCTAssertEqual(removed.status, 64)
        XCTAssertTrue(removed.stderr.contains("--adversarial-weight"), removed.stderr)
        let both = try ProcessRunner.framecast(["train", "tokenizer", "--init", fixture.file("t.safetensors"), "--resume", "--out", fixture.file("bad")])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.stderr.contains("--init starts a new run"), both.stderr)
        let noInit = try ProcessRunner.framecast(["train", "tokenizer", "--clips", video, "--init", fixture.file("nope.safetensors"), "--out", fixture.file("bad")])
        XCTAssertEqual(noInit.status, 1)
        XCTAssertTrue(noInit.stderr.contains("nope.safetensors"), noInit.stderr)
        let missing = try ProcessRunner.framecast(["encode", video, "--tokenizer", fixture.file("nope.safetensors"), "-o", fixture.file("n.codes.safetensors")])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("nope.safetensors"), missing.stderr)
    }

    func testACropThatCutsMuchOfTheFrameSaysSoAndTheFitIsRecorded() throws {
        let dir = TemporaryDirectory()
        let wide = dir.file("wide.mp4")
        try SyntheticVideo.write(to: wide, count: 12, width: 96, height: 48)
        let cropped = try ProcessRunner.framecast(["train", "tokenizer", "--clips", wide, "--fit", "crop", "--steps", "2", "--out", dir.file("crop")] + Self.tinyArgs)
        XCTAssertEqual(cropped.status, 0, cropped.stderr)
        XCTAssertTrue(cropped.stderr.contains("cutting 50% of each frame away"), cropped.stderr)
        XCTAssertEqual(try TokenizerCheckpoint.config(of: dir.file("crop/tokenizer.safetensors")).fit, "crop")
        // Encoding with it says so too; the recipe's stretch keeps the whole frame and says nothing.
        let encoded = try ProcessRunner.framecast(["encode", wide, "--tokenizer", dir.file("crop/tokenizer.safetensors"), "-o", dir.file("w.codes.safetensors")])
        XCTAssertEqual(encoded.status, 0, encoded.stderr)
        XCTAssertTrue(encoded.stderr.contains("cutting 50% of each frame away"), encoded.stderr)
        let stretched = try ProcessRunner.framecast(["train", "tokenizer", "--clips", wide, "--steps", "2", "--out", dir.file("stretch")] + Self.tinyArgs)
        XCTAssertEqual(stretched.status, 0, stretched.stderr)
        XCTAssertFalse(stretched.stderr.contains("cutting"), stretched.stderr)
        XCTAssertEqual(try TokenizerCheckpoint.config(of: dir.file("stretch/tokenizer.safetensors")).fit, "stretch")
        // Letterboxing measured worse and is not offered.
        let padded = try ProcessRunner.framecast(["train", "tokenizer", "--clips", wide, "--fit", "pad", "--steps", "2", "--out", dir.file("pad")] + Self.tinyArgs)
        XCTAssertEqual(padded.status, 64, padded.stderr)
        XCTAssertTrue(padded.stderr.contains("--fit must be stretch or crop"), padded.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("pad")))
    }
}
