import Foundation
import Media
import NN
import Prior
import TestSupport
import XCTest

/// `demo`, `report` and `compact` through the command line, with the tiny fixture models.
final class DemoReportCLITests: XCTestCase {
    func testDemoWritesOnePanelPerScriptWithContextAndPrediction() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let mp4 = Fixtures.directory.file("demo/out.mp4")
        let args = ["demo", "--clip", clip, "--tokenizer", tok, "--prior", prior, "--start", "20", "--frames", "6",
                    "--script", "ALL LEFT=LEFT*6", "--script", "right=RIGHT*2,NOOP*4", "--scale", "2", "-o", mp4]
        let result = try ProcessRunner.framecast(args)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), mp4)
        let reader = try VideoReader(path: mp4)
        XCTAssertEqual(try reader.countRemaining(), 3 + 6)               // context + predicted frames
        // Truth, real actions, ALL LEFT, RIGHT: four 16×16 panels at scale 2 with gaps.
        XCTAssertGreaterThanOrEqual(reader.info.width, 4 * 32)
        XCTAssertLessThan(reader.info.width, 5 * 32)
        XCTAssertTrue(result.stderr.contains("under ALL LEFT"), result.stderr)
        XCTAssertTrue(result.stderr.contains("under RIGHT"), result.stderr)
        // Same seed ⇒ the same video, byte for byte.
        let again = Fixtures.directory.file("demo/again.mp4")
        XCTAssertEqual(try ProcessRunner.framecast(Array(args.dropLast(2)) + ["-o", again]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: mp4)), try Data(contentsOf: URL(fileURLWithPath: again)))
    }

    func testDemoErrorsNameTheProblem() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let mp4 = Fixtures.directory.file("demo-bad.mp4")
        let cases: [([String], String)] = [
            (["--tokenizer", Fixtures.directory.file("nope.safetensors"), "--prior", prior, "--start", "10"], "nope.safetensors: no such tokenizer checkpoint"),
            (["--tokenizer", tok, "--prior", prior, "--script", "JUMP=JUMP*3", "--start", "10"], "unknown action 'JUMP'"),
            (["--tokenizer", tok, "--prior", prior, "--script", "no label", "--start", "10"], "must be LABEL=ACTIONS"),
            (["--tokenizer", tok, "--prior", prior, "--start", "59"], "needs 62"),
        ]
        for (extra, expected) in cases {
            let result = try ProcessRunner.framecast(["demo", "--clip", clip, "-o", mp4] + extra)
            XCTAssertNotEqual(result.status, 0, "\(extra)")
            XCTAssertFalse(result.crashed)
            XCTAssertTrue(result.stderr.contains(expected), "\(extra): expected '\(expected)' in \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: mp4))
        }
    }

    func testReportEmbedsTablesPlotsAndVideos() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior()
        let folder = Fixtures.directory.file("report")
        let result = try ProcessRunner.framecast(["report", "--tokenizer", tok, "--prior", prior, "--clips", try Fixtures.validationClip(),
                                                  "--windows", "3", "--horizon", "3", "--video-frames", "4", "-o", folder])
        XCTAssertEqual(result.status, 0, result.stderr)
        let html = try String(contentsOfFile: folder + "/index.html", encoding: .utf8)
        // Plots: codebook usage, tokenizer curve (the fixture run logs PSNR), rollout curves, prior curve.
        XCTAssertEqual(html.components(separatedBy: "<img ").count - 1, 4)
        XCTAssertEqual(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1, 4)
        // Videos: the reconstruction and one prediction per validation clip.
        XCTAssertEqual(html.components(separatedBy: "src=\"data:video/mp4;base64,").count - 1, 2)
        XCTAssertTrue(html.contains("copy-previous baseline"))
        XCTAssertTrue(html.contains("tokenizer ceiling"))
        XCTAssertFalse(html.contains("src=\"http"), "the page must not load anything from outside")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/report.json"))) as? [String: Any])
        let rollouts = try XCTUnwrap(json["prior"] as? [String: Any])
        XCTAssertEqual(((rollouts["copy_last"] as? [String: Any])?["psnr"] as? [Double])?.count, 3)
        XCTAssertEqual(((rollouts["copy_last_codes"] as? [String: Any])?["psnr"] as? [Double])?.count, 3, "copy the last context frame's codes")
        XCTAssertNotNil((json["tokenizer"] as? [String: Any])?["psnr"])
        // The embedded videos are H.264 a browser can play: decode the first one back.
        let marker = "src=\"data:video/mp4;base64,"
        let start = try XCTUnwrap(html.range(of: marker)).upperBound
        let base64 = html[start...].prefix { $0 != "\"" }
        let mp4 = Fixtures.directory.file("embedded.mp4")
        try XCTUnwrap(Data(base64Encoded: String(base64))).write(to: URL(fileURLWithPath: mp4))
        let reader = try VideoReader(path: mp4)
        XCTAssertEqual(reader.info.codec, "h264")
        XCTAssertEqual(try reader.countRemaining(), 30)
    }

    func testCompactHalvesAPriorAndRefusesToRoundATokenizer() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior()
        let small = Fixtures.directory.file("compact/prior.safetensors")
        try FileManager.default.createDirectory(atPath: Fixtures.directory.file("compact"), withIntermediateDirectories: true)
        var result = try ProcessRunner.framecast(["compact", prior, "-o", small, "--f16"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let before = try PriorCheckpoint.load(prior), after = try PriorCheckpoint.load(small)
        XCTAssertEqual(after.source, before.source)
        XCTAssertNotNil(after.baselines)
        XCTAssertNil(after.metadata["step"], "a compact prior is not a resumable training checkpoint")
        for ((name, a), (_, b)) in zip(before.model.namedParameters, after.model.namedParameters) {
            let x = try a.floats(), y = try b.floats()
            let worst = zip(x, y).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-3, name)   // F16 keeps ~11 significant bits
        }
        result = try ProcessRunner.framecast(["compact", tok, "-o", Fixtures.directory.file("compact/tok.safetensors"), "--f16"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("content hash"), result.stderr)
        result = try ProcessRunner.framecast(["compact", try Fixtures.clip(), "-o", Fixtures.directory.file("compact/x.safetensors")])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("clip.mp4: cannot read"), result.stderr)
    }
}
