import Foundation
import TestSupport
import XCTest

/// `framecast bench tokenizer|prior --json --runs N`: the reports Tools/bench reads.
final class BenchCLITests: XCTestCase {
    private func report(_ arguments: [String]) throws -> [String: Any] {
        let result = try ProcessRunner.framecast(arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
    }

    func testBenchTokenizerReportsEveryRun() throws {
        let json = try report(["bench", "tokenizer", "--tokenizer", try Fixtures.tokenizer(), "--batch", "4", "--steps", "1",
                               "--coding-batches", "1", "--runs", "2", "--threads", "1", "--json"])
        let runs = try XCTUnwrap(json["runs"] as? [String: [Double]])
        for key in ["train_frames_per_second", "encode_frames_per_second", "decode_frames_per_second"] {
            XCTAssertEqual(runs[key]?.count, 2, key)
            XCTAssertTrue(runs[key]?.allSatisfy { $0 > 0 } ?? false, key)
            XCTAssertNotNil(json[key] as? Double, key)
        }
        let forward = try XCTUnwrap(json["forward_flops_per_frame"] as? Double)
        let encoder = try XCTUnwrap(json["encoder_flops_per_frame"] as? Double)
        XCTAssertGreaterThan(encoder, 0)
        XCTAssertLessThan(encoder, forward)
        XCTAssertEqual(json["threads"] as? Int, 1)
        // Without --peak the fraction is of a peak measured on this machine.
        let peak = try XCTUnwrap(json["peak_gflop_per_second"] as? Double)
        XCTAssertGreaterThan(peak, 1)
        XCTAssertTrue((json["peak_source"] as? String)?.hasPrefix("measured") ?? false)
        let gflops = try XCTUnwrap(json["train_gflop_per_second"] as? Double)
        XCTAssertEqual(try XCTUnwrap(json["peak_fraction"] as? Double), gflops / peak, accuracy: 1e-9)
    }

    func testBenchTokenizerUsesAGivenPeak() throws {
        let json = try report(["bench", "tokenizer", "--tokenizer", try Fixtures.tokenizer(), "--batch", "2", "--steps", "1",
                               "--coding-batches", "1", "--threads", "1", "--peak", "100", "--json"])
        XCTAssertEqual(json["peak_gflop_per_second"] as? Double, 100)
        XCTAssertEqual(json["peak_source"] as? String, "given (--peak)")
        let gflops = try XCTUnwrap(json["train_gflop_per_second"] as? Double)
        XCTAssertEqual(try XCTUnwrap(json["peak_fraction"] as? Double), gflops / 100, accuracy: 1e-9)
        let bad = try ProcessRunner.framecast(["bench", "tokenizer", "--peak", "0"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--peak must be > 0"), bad.stderr)
    }

    func testBenchPriorReportsEveryRunAndPredict() throws {
        let json = try report(["bench", "prior", "--prior", try Fixtures.prior(), "--tokenizer", try Fixtures.tokenizer(),
                               "--frames", "3", "--train-steps", "1", "--runs", "2", "--threads", "1", "--json"])
        let runs = try XCTUnwrap(json["runs"] as? [String: [Double]])
        for key in ["train_tokens_per_second", "cached_tokens_per_second", "sampled_frames_per_second", "predict_frames_per_second"] {
            XCTAssertEqual(runs[key]?.count, 2, key)
            XCTAssertTrue(runs[key]?.allSatisfy { $0 > 0 } ?? false, key)
        }
        let sampled = try XCTUnwrap(json["sampled_frames_per_second"] as? Double)
        let predicted = try XCTUnwrap(json["predict_frames_per_second"] as? Double)
        XCTAssertLessThanOrEqual(predicted, sampled)  // predict = the same sampling plus decoding
    }
}
