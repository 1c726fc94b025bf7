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
