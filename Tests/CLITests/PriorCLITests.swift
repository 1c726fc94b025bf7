import FramecastKit
import CodeFile
import Foundation
import Media
import Prior
import TestSupport
import XCTest

/// The prior through the command line: train, predict, export, evaluate, and bad requests.
final class PriorCLITests: XCTestCase {
    func testPredictFollowsAnActionScriptAndIsReproducible() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let out = Fixtures.directory.file("p.codes.safetensors"), mp4 = Fixtures.directory.file("p.mp4")
        let args = ["predict", clip, "--tokenizer", tok, "--prior", prior, "--start", "20", "--actions", "LEFT*3,RIGHT,2",
                    "--seed", "7", "-o", out]
        var result = try ProcessRunner.framecast(args + ["--mp4", mp4])
        XCTAssertEqual(result.status, 0, result.stderr)
        let predicted = try CodeClip.read(path: out)
        XCTAssertEqual(predicted.contextFrames, 3)
        XCTAssertEqual(predicted.frames, 3 + 5)
        XCTAssertEqual(predicted.sourceStart, 20)
        // Actions: context actions, then the script (the action after the last context frame first).
        XCTAssertEqual(Array(predicted.actions[2..<7]), [1, 1, 1, 2, 2])
        XCTAssertEqual(try VideoReader(path: mp4).countRemaining(), 8)
        // Same seed ⇒ identical codes.
        let again = Fixtures.directory.file("p2.codes.safetensors")
        result = try ProcessRunner.framecast(args.dropLast(2) + ["-o", again])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try CodeClip.read(path: again).codes, predicted.codes)
    }

    func testARotaryPriorTrainsAndPredictsPastItsWindow() throws {
        // Rotary frame positions (train prior's default) through the CLI: a tiny run on windows of
        // 6 frames banded to 3, then 10 predicted frames (the window slides 8 times).
        let run = Fixtures.directory.file("rotary-prior")
        var result = try ProcessRunner.framecast(["train", "prior", "--codes", try Fixtures.codes(), "--steps", "10", "--layers", "1",
                                                  "--width", "32", "--heads", "2", "--context", "3",
                                                  "--training-frames", "6", "--threads", "2", "--out", run])
        XCTAssertEqual(result.status, 0, result.stderr)
        let checkpoint = try PriorCheckpoint.load(run + "/checkpoint.safetensors")
        XCTAssertEqual(checkpoint.model.config.trainingWindow, 6)
        // The recipe's batch: 8 windows.
        let options = try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(try XCTUnwrap(checkpoint.metadata["options"]).utf8))
        XCTAssertEqual(options.batch, Recipe.priorTraining.batch)
        let prior = run + "/prior.safetensors", out = Fixtures.directory.file("r.codes.safetensors")
        let args = ["predict", try Fixtures.clip(), "--tokenizer", try Fixtures.tokenizer(), "--prior", prior, "--start", "10",
                    "--frames", "10", "--samples", "2", "--seed", "3", "-o", out]
        result = try ProcessRunner.framecast(args)
        XCTAssertEqual(result.status, 0, result.stderr)
        let s1 = Fixtures.directory.file("r.s1.codes.safetensors")
        XCTAssertEqual(try CodeClip.read(path: s1).frames, 3 + 10)
    }

    func testSeveralSamplesAndExport() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), codes = try Fixtures.codes() + "/clip.codes.safetensors"
        let out = Fixtures.directory.file("m.codes.safetensors")
        var result = try ProcessRunner.framecast(["predict", codes, "--tokenizer", tok, "--prior", prior, "--start", "30",
                                                  "--frames", "4", "--samples", "2", "-o", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        let s0 = Fixtures.directory.file("m.s0.codes.safetensors"), s1 = Fixtures.directory.file("m.s1.codes.safetensors")
        XCTAssertEqual(try CodeClip.read(path: s0).frames, 7)
        // Default actions: the clip's own continuation.
        let source = try CodeClip.read(path: codes)
        XCTAssertEqual(Array(try CodeClip.read(path: s1).actions[2..<6]), Array(source.actions[32..<36]))
        let mp4 = Fixtures.directory.file("samples.mp4")
        result = try ProcessRunner.framecast(["export", s0, s1, "--tokenizer", tok, "-o", mp4, "--side-by-side", try Fixtures.clip(), "--scale", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reader = try VideoReader(path: mp4)
        XCTAssertEqual(try reader.countRemaining(), 7)
        XCTAssertGreaterThan(reader.info.width, 3 * 32)  // truth + two samples at scale 2

        // predict --mp4 writes the same video while sampling (on a second thread) as export does afterwards.
        let streamed = Fixtures.directory.file("streamed.mp4"), exported = Fixtures.directory.file("exported.mp4")
        result = try ProcessRunner.framecast(["predict", codes, "--tokenizer", tok, "--prior", prior, "--start", "30",
                                              "--frames", "4", "--samples", "2", "-o", out, "--mp4", streamed, "--scale", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try ProcessRunner.framecast(["export", s0, s1, "--tokenizer", tok, "-o", exported, "--side-by-side", codes, "--scale", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let a = try VideoReader(path: streamed), b = try VideoReader(path: exported)
        XCTAssertEqual(a.info.width, b.info.width)
        XCTAssertEqual(a.info.height, b.info.height)
        var frames = 0
        while let x = try a.next() {
            let y = try XCTUnwrap(try b.next(), "exported video ends at frame \(frames)")
            let diff = zip(x.rgb, y.rgb).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
            XCTAssertLessThanOrEqual(Double(diff) / Double(x.rgb.count), 0.5, "frame \(frames)")
            frames += 1
        }
        XCTAssertEqual(frames, 7)
        XCTAssertNil(try b.next())
    }

    func testEvalPriorReportsCurvesAndBaselines() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior()
        let plot = Fixtures.directory.file("rollout.png")
        let result = try ProcessRunner.framecast(["eval", "prior", "--tokenizer", tok, "--prior", prior, "--clips", try Fixtures.clip(),
                                                  "--horizon", "3", "--windows", "4", "--json", "--plot", plot, "--nearest-mean",
                                                  "--action-classifier", try Fixtures.codes()])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((json["greedy"] as? [String: Any])?["psnr"].map { ($0 as? [Double])?.count }, 3)
        XCTAssertNotNil((json["teacher_forced"] as? [String: Any])?["unigram_bits_per_token"])
        XCTAssertEqual((json["nearest_mean_shuffled"] as? [String: Any])?["ssim"].map { ($0 as? [Double])?.count }, 3)
        XCTAssertNotNil(json["delta_psnr_nearest_mean_h1_8"] as? Double)
        XCTAssertEqual(json["temperature"] as? Double, 1)
        XCTAssertTrue(FileManager.default.fileExists(atPath: plot))
        // Action following: accuracies are shares, over the rollouts' pairs (4 windows × 3 frames).
        let accuracy = try XCTUnwrap(json["action_accuracy"] as? [String: Any])
        for key in ["real", "majority", "greedy", "sampled"] {
            let value = try XCTUnwrap(accuracy[key] as? Double, key)
            XCTAssertTrue((0...1).contains(value), "\(key) \(value)")
        }
        XCTAssertEqual(accuracy["rollout_pairs"] as? Int, 4 * 3)
        XCTAssertGreaterThan(try XCTUnwrap(accuracy["training_pairs"] as? Int), 0)
    }

    func testTrainPriorInitStartsFromATrainedPriorWithActionsByName() throws {
        let dir = TemporaryDirectory()
        let result = try ProcessRunner.framecast(["train", "prior", "--codes", try Fixtures.codes(), "--init", try Fixtures.prior(),
                                                  "--steps", "2", "--batch", "2", "--threads", "2", "--out", dir.file("tuned")])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("actions matched by name: "), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("tuned/prior.safetensors")))
        let resumed = try ProcessRunner.framecast(["train", "prior", "--resume", "--init", try Fixtures.prior(), "--out", dir.file("tuned")])
        XCTAssertEqual(resumed.status, 64, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("--init starts a new run"), resumed.stderr)
    }

    func testEvalPriorFiguresDoNotDependOnTheThreadCount() throws {
        // Windows are scored on one worker per thread and summed in window order.
        var figures: [String] = []
        for threads in ["1", "2"] {
            let result = try ProcessRunner.framecast(["eval", "prior", "--tokenizer", try Fixtures.tokenizer(), "--prior", try Fixtures.prior(),
                                                      "--clips", try Fixtures.clip(), "--horizon", "3", "--windows", "5", "--json",
                                                      "--action-guidance", "1.5",
                                                      "--threads", threads])
            XCTAssertEqual(result.status, 0, result.stderr)
            var json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(json["action_guidance"] as? Double, 1.5)
            XCTAssertNotNil(json.removeValue(forKey: "rollout_frames_per_second"))
            figures.append(String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
        }
        XCTAssertEqual(figures[0], figures[1])
        for command in [["eval", "prior", "--tokenizer", "t", "--prior", "p", "--clips", "c"],
                        ["predict", "v.mp4", "--tokenizer", "t", "--prior", "p", "-o", "x.codes.safetensors"],
                        ["demo", "-o", "x.mp4"], ["report", "-o", "x"]] {
            let strong = try ProcessRunner.framecast(command + ["--action-guidance", "25"])
            XCTAssertEqual(strong.status, 64, "\(command): \(strong.stderr)")
            XCTAssertTrue(strong.stderr.contains("--action-guidance must be in 0...20"), "\(command): \(strong.stderr)")
        }
    }

    func testEvalPriorSamplesWithTheGivenTopP() throws {
        // A nucleus this small keeps only the most likely code, so the sampled rollouts are the greedy ones.
        let result = try ProcessRunner.framecast(["eval", "prior", "--tokenizer", try Fixtures.tokenizer(), "--prior", try Fixtures.prior(),
                                                  "--clips", try Fixtures.clip(), "--horizon", "3", "--windows", "4", "--json",
                                                  "--temperature", "0.7", "--top-p", "0.000001"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["temperature"] as? Double, 0.7)
        XCTAssertEqual(json["top_p"] as? Double, 0.000001)
        for (sampled, greedy) in [("sampled", "greedy"), ("sampled_shuffled", "greedy_shuffled")] {
            let s = try XCTUnwrap((json[sampled] as? [String: Any])?["psnr"] as? [Double])
            let g = try XCTUnwrap((json[greedy] as? [String: Any])?["psnr"] as? [Double])
            XCTAssertEqual(s, g, sampled)
        }
        for (option, value) in [("--temperature", "0"), ("--top-p", "1.5")] {
            let bad = try ProcessRunner.framecast(["eval", "prior", "--tokenizer", "t", "--prior", "p", "--clips", "c", option, value])
            XCTAssertEqual(bad.status, 64, "\(option) \(value): \(bad.stderr)")
            XCTAssertTrue(bad.stderr.contains("need --temperature > 0 and 0 < --top-p ≤ 1"), bad.stderr)
        }
    }

    func testBadTrainingSettingsAreUsageErrors() throws {
        for (options, expected) in [(["--context-noise", "1"], "--context-noise must be in [0, 1)"),
                                    (["--context", "6", "--training-frames", "4"], "--training-frames 4 must be at least --context 6"),
                                    (["--width", "36", "--heads", "4"], "even head width"),
                                    (["--frame-positions", "learned"], "--frame-positions")] {
            let result = try ProcessRunner.framecast(["train", "prior", "--codes", try Fixtures.codes()] + options
                                                     + ["--out", Fixtures.directory.file("bad-prior")])
            XCTAssertEqual(result.status, 64, "\(options)")
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: Fixtures.directory.file("bad-prior/checkpoint.safetensors")))
        }
    }

    func testNearestMeanPredictionsRejectSettingsTheyCannotHonour() throws {
        let base = ["predict", "in.codes.safetensors", "--tokenizer", "t", "--prior", "p", "-o", "o.codes.safetensors", "--nearest-mean"]
        for (extra, expected) in [(["--temperature", "0"], "--nearest-mean needs --temperature > 0"),
                                  (["--samples", "2"], "would give identical samples")] {
            let result = try ProcessRunner.framecast(base + extra)
            XCTAssertEqual(result.status, 64, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(extra): \(result.stderr)")
        }
    }

    func testBadPredictRequestsFailClearly() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let out = Fixtures.directory.file("bad.codes.safetensors")
        let cases: [([String], String)] = [
            (["--actions", "JUMP*3"], "unknown action 'JUMP'"),
            (["--actions", "7"], "action id 7 is out of range"),
            (["--start", "58", "--frames", "2", "--actions", "LEFT*2"], "needs 61"),
            (["--context-frames", "70", "--actions", "LEFT"], "context"),
            (["--frames", "5", "--actions", "LEFT*2"], "--actions gives 2 actions but --frames is 5"),
            (["--frames", "2", "--actions", "LEFT*5"], "--actions gives 5 actions but --frames is 2"),   // extra actions are not dropped
        ]
        for (extra, expected) in cases {
            let result = try ProcessRunner.framecast(["predict", clip, "--tokenizer", tok, "--prior", prior, "-o", out] + extra)
            XCTAssertEqual(result.status, 1, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(extra): expected '\(expected)' in \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        }
        // A prior used with another tokenizer's codes.
        let other = Fixtures.directory.file("tok-other")
        XCTAssertEqual(try ProcessRunner.framecast(["train", "tokenizer", "--clips", clip, "--steps", "2", "--seed", "3", "--out", other]
                                                   + Fixtures.tinyTokenizerArgs).status, 0)
        var result = try ProcessRunner.framecast(["predict", clip, "--tokenizer", other + "/tokenizer.safetensors", "--prior", prior, "-o", out])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("tokenizer"), result.stderr)
        // A code file made with another tokenizer, given with the prior's own tokenizer.
        let otherCodes = Fixtures.directory.file("other-tok.codes.safetensors")
        XCTAssertEqual(try ProcessRunner.framecast(["encode", clip, "--tokenizer", other + "/tokenizer.safetensors", "-o", otherCodes]).status, 0)
        result = try ProcessRunner.framecast(["predict", otherCodes, "--tokenizer", tok, "--prior", prior, "--actions", "LEFT", "-o", out])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("other-tok.codes.safetensors") && result.stderr.contains("tokenizer"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
