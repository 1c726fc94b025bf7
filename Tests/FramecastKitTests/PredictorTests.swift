import CodeFile
@testable import FramecastKit
import Foundation
import Media
import FrameMetrics
import NN
import Prior
import SafeTensors
import TestSupport
import XCTest

/// `Predictor` on the shipped model and a shipped validation clip.
final class PredictorTests: TwoThreadTestCase {
    static let tokenizer = Repository.root + "/Models/default/tokenizer.safetensors"
    static let prior = Repository.root + "/Models/default/prior.safetensors"
    static let clip = Repository.root + "/Clips/my_way_home_s3.mp4"

    func testTheShippedPairLoadsCheckedAndWidenedFromF16() throws {
        let predictor = try Predictor(tokenizer: Self.tokenizer, prior: Self.prior, threads: 2)
        // The prior records the tokenizer it was trained on; the shipped pair matches.
        XCTAssertEqual(predictor.prior.source.tokenizerHash, predictor.tokenizer.hash)
        XCTAssertEqual(predictor.actionNames.count, predictor.prior.model.config.actionCount)
        // Stored F16 on disk, float32 in the model, with the F16 values exactly.
        let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: Self.prior))
        let name = "head.weight"
        let entry = try XCTUnwrap(file[name])
        XCTAssertEqual(entry.dtype, SafeTensors.DType.f16)
        let stored = try entry.floats()
        let model = try XCTUnwrap(predictor.prior.model.namedParameters.first { $0.0 == name }?.1)
        XCTAssertEqual(model.dtype, NN.DType.float32)
        XCTAssertEqual(try model.floats(), stored)
        // A prior trained on another tokenizer's codes is refused.
        var other = predictor.prior.source
        other.tokenizerHash = String(repeating: "0", count: 64)
        let stranger = PriorCheckpoint.Loaded(model: predictor.prior.model, source: other, baselines: nil, metadata: [:])
        XCTAssertThrowsError(try Predictor(tokenizer: predictor.tokenizer, prior: stranger)) {
            XCTAssertTrue("\($0)".contains("not the tokenizer the prior was trained on"), "\($0)")
        }
    }

    func testSteppingGivesTheFramesOfOneRollout() throws {
        let predictor = try Predictor(tokenizer: Self.tokenizer, prior: Self.prior, threads: 2)
        let actions = ["TURN_LEFT", "TURN_LEFT", "MOVE_FORWARD", "MOVE_FORWARD", "TURN_RIGHT", "MOVE_FORWARD",
                       "MOVE_FORWARD", "MOVE_FORWARD", "TURN_LEFT", "TURN_LEFT", "MOVE_FORWARD"]  // 11 > the 8-frame window
        let context = try predictor.reset(video: Self.clip, start: 40)
        XCTAssertEqual(context.count, predictor.contextFrames)
        XCTAssertEqual(context[0].count, predictor.frameWidth * predictor.frameHeight * 3)
        let rolled = try predictor.rollout(actions: actions)
        let rolledCodes = predictor.codes
        try predictor.reset(video: Self.clip, start: 40)
        let stepped = try actions.map { try predictor.step(action: $0) }
        XCTAssertEqual(stepped, rolled)
        XCTAssertEqual(predictor.codes, rolledCodes)
        XCTAssertEqual(predictor.codes.count, predictor.contextFrames + actions.count)
        // The sampler's one-shot rollout of the same context and actions gives the same codes.
        let tok = predictor.tokenizer
        let clip = try tok.encode(video: Self.clip, limit: 48)
        let sampler = PriorSampler(model: predictor.prior.model, source: predictor.prior.source, codeVectors: try tok.model.codeVectors())
        let rollout = try sampler.rollout(context: try sampler.context(from: clip, start: 40, frames: 8),
                                          actions: try actions.map(predictor.actionID), options: Recipe.sampling)
        XCTAssertEqual(rollout.codes, Array(rolledCodes.dropFirst(8).joined()))
        // Another action script gives other frames.
        try predictor.reset(video: Self.clip, start: 40)
        XCTAssertNotEqual(try predictor.rollout(actions: Array(repeating: "TURN_RIGHT", count: actions.count)), rolled)
    }

    func testMisuseFailsClearly() throws {
        let predictor = try Predictor(tokenizer: Self.tokenizer, prior: Self.prior, threads: 2)
        XCTAssertThrowsError(try predictor.step(action: 0)) { XCTAssertTrue("\($0)".contains("reset"), "\($0)") }
        try predictor.reset(video: Self.clip)
        XCTAssertThrowsError(try predictor.step(action: "JUMP")) {
            XCTAssertTrue("\($0)".contains("unknown action 'JUMP'") && "\($0)".contains("MOVE_FORWARD"), "\($0)")
        }
        XCTAssertThrowsError(try predictor.step(action: predictor.actionNames.count)) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
        XCTAssertThrowsError(try Predictor(tokenizer: Self.tokenizer + ".missing", prior: Self.prior)) {
            XCTAssertTrue("\($0)".contains(".missing"), "\($0)")
        }
    }

    /// A smoke bound on the shipped model: greedy one-frame predictions from 4 evenly spaced windows
    /// (inside one episode) of each validation clip are closer to the real next frame than the
    /// last real frame is, on average.
    func testTheShippedModelBeatsCopyLastAtTheFirstFrame() throws {
        var options = Recipe.sampling
        options.temperature = 0
        let predictor = try Predictor(tokenizer: Self.tokenizer, prior: Self.prior, options: options, threads: 2)
        let c = predictor.contextFrames
        var (model, copy, windows) = (0.0, 0.0, 0)
        for name in ["my_way_home_s3", "health_gathering_s6", "basic_s9"] {
            let video = Repository.root + "/Clips/\(name).mp4"
            let clip = try predictor.tokenizer.encode(video: video)
            var real: [[UInt8]] = []
            let reader = try VideoReader(path: video, size: (predictor.frameWidth, predictor.frameHeight), fit: FitMode.crop)
            while let frame = try reader.next() { real.append(frame.rgb) }
            for window in RolloutEvaluation.evenlySpaced(RolloutEvaluation.windowStarts([clip], span: c + 1), count: 4) {
                let s = window.start
                try predictor.reset(clip: clip, start: s)
                let frame = try predictor.step(action: Int(clip.actions[s + c - 1]))
                model += ImageMetrics.psnr(frame, real[s + c])
                copy += ImageMetrics.psnr(real[s + c - 1], real[s + c])
                windows += 1
            }
        }
        (model, copy) = (model / Double(windows), copy / Double(windows))
        print("shipped model, h = 1 over \(windows) validation windows: greedy \(model) dB, copy-last \(copy) dB")
        XCTAssertEqual(windows, 12)
        XCTAssertGreaterThan(model, copy)
    }
}
