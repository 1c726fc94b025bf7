import Foundation
import FrameMetrics
import NN
import TestSupport
@testable import VQVAE
import XCTest

final class VQVAETests: TwoThreadTestCase {

    /// A small configuration: 16×16 frames, 4×4 grid, K = 32.
    static var tiny: VQVAEConfig {
        var c = VQVAEConfig()
        c.frameWidth = 16
        c.frameHeight = 16
        c.gridWidth = 4
        c.gridHeight = 4
        c.codebookSize = 32
        c.codeDim = 8
        c.baseChannels = 16
        return c
    }

    /// Training options for the tiny model: batch 16, learning rate 2e-3, 20 warm-up steps.
    static func tinyTraining(steps: Int) -> TokenizerTrainingOptions {
        var options = TokenizerTrainingOptions()
        options.steps = steps
        options.batch = 16
        options.learningRate = 2e-3
        options.warmup = 20
        options.edgeWeight = 0
        return options
    }

    static func syntheticBank(_ count: Int, size: Int = 16) -> FrameBank {
        var bank = FrameBank(width: size, height: size)
        for t in 0..<count { bank.append(SyntheticVideo.frame(t, width: size, height: size)) }
        return bank
    }

    func testShapesOfEncodeAndDecode() throws {
        Torch.manualSeed(1)
        let model = try VQVAE(config: Self.tiny)
        let bank = Self.syntheticBank(3)
        let codes = try model.encode(frames: bank.bytes, count: 3)
        XCTAssertEqual(codes.count, 3 * 4 * 4)
        XCTAssertTrue(codes.allSatisfy { $0 < 32 })
        let frames = try model.decode(codes: codes, count: 3)
        XCTAssertEqual(frames.count, bank.bytes.count)
    }

    func testChannelsLastEncodingMatchesNCHW() throws {
        // encode() feeds the encoder a channels-last batch (faster convolutions); training feeds NCHW.
        Torch.manualSeed(4)
        var c = Self.tiny
        c.encoderBlocksPerLevel = 1   // blocks (GroupNorms) at every level
        let model = try VQVAE(config: c)
        let bank = Self.syntheticBank(4)
        try Tensor.noGrad {
            let x = try FrameTensor.fromBytes(bank.bytes, count: 4, width: 16, height: 16).contiguous()
            let nchw = try model.encoder(x).floats()
            let last = try model.encoder(x.channelsLast()).floats()
            XCTAssertEqual(nchw.count, last.count)
            for (a, b) in zip(nchw, last) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        }
        let z = try model.encoder(FrameTensor.fromBytes(bank.bytes, count: 4, width: 16, height: 16).contiguous())
        let flat = try z.permute([0, 2, 3, 1]).reshape([-1, c.codeDim])
        XCTAssertEqual(try model.encode(frames: bank.bytes, count: 4), try model.quantizer.nearest(flat).int64s().map { UInt16($0) })
    }

    func testQuantizerPassesGradientStraightThrough() throws {
        // d(loss)/d(z_e) must equal d(loss)/d(z_q): the quantizer is the identity for gradients.
        Torch.manualSeed(2)
        let q = try VectorQuantizer(codebookSize: 8, codeDim: 4, emaDecay: 0.99)
        let ze = try Tensor.randn([2, 4, 3, 3]).requiresGrad(true)
        let out = try q(ze)
        let weights = try Tensor.randn([2, 4, 3, 3])
        try (out.quantized * weights).sum().backward()
        let grad = try XCTUnwrap(ze.grad).floats()
        let expected = try weights.floats()
        for (g, e) in zip(grad, expected) { XCTAssertEqual(g, e, accuracy: 1e-6) }
    }

    func testQuantizerPicksTheNearestCode() throws {
        let q = try VectorQuantizer(codebookSize: 3, codeDim: 2, emaDecay: 0.99)
        try Tensor.noGrad { try q.codebook.copyFrom(Tensor([0, 0, 10, 0, 0, 10] as [Float], shape: [3, 2])) }
        let z = try Tensor([1, 1, 9, 2, -1, 7, 6, 5] as [Float], shape: [4, 2])
        XCTAssertEqual(try q.nearest(z).ints(), [0, 1, 2, 1])
    }

    func testCommitmentLossMatchesTheFormula() throws {
        let q = try VectorQuantizer(codebookSize: 2, codeDim: 1, emaDecay: 0)
        try Tensor.noGrad { try q.codebook.copyFrom(Tensor([0, 4] as [Float], shape: [2, 1])) }
        let ze = try Tensor([1, 3] as [Float], shape: [1, 1, 1, 2])  // nearest codes 0 and 4
        let out = try q(ze)
        // ‖z_e − e‖²: ((1 − 0)² + (3 − 4)²) / 2 = 1, for both loss terms.
        XCTAssertEqual(try out.commitment.item(), 1, accuracy: 1e-6)
        XCTAssertEqual(try out.codebookLoss.item(), 1, accuracy: 1e-6)
        XCTAssertEqual(try out.indices.ints(), [0, 1])
    }

    func testTrainingBeatsTheUntrainedModelByAWideMargin() throws {
        try trainTinyModel(bfloat16: false)
    }

    /// The same run with the training convolutions in bfloat16 learns as well.
    func testBFloat16TrainingBeatsTheUntrainedModelByAWideMargin() throws {
        try trainTinyModel(bfloat16: true)
    }

    private func trainTinyModel(bfloat16: Bool) throws {
        Torch.manualSeed(3)
        let bank = Self.syntheticBank(64)
        // Validation: the same scene at phases the training frames never show.
        var shifted = FrameBank(width: 16, height: 16)
        for t in 0..<16 { shifted.append(SyntheticVideo.frame(100 + t * 3, width: 16, height: 16)) }
        let model = try VQVAE(config: Self.tiny)
        let before = try model.evaluate(shifted)
        var options = Self.tinyTraining(steps: 300)
        options.bfloat16Convolutions = bfloat16
        let trainer = try TokenizerTrainer(model: model, options: options, data: bank)
        while trainer.step < options.steps { _ = try trainer.trainStep() }
        XCTAssertFalse(Tensor.areConvolutionsInBFloat16)
        let after = try model.evaluate(shifted)
        print("tiny tokenizer (\(bfloat16 ? "bfloat16" : "float32") convolutions) PSNR: untrained \(before.psnr) dB, trained \(after.psnr) dB; SSIM \(before.ssim) → \(after.ssim); codes used \(after.codesUsed)/32")
        XCTAssertLessThan(before.psnr, 15)
        XCTAssertGreaterThan(after.psnr, 22)
        XCTAssertGreaterThan(after.psnr - before.psnr, 10)
        XCTAssertGreaterThan(after.codesUsed, 8)
    }

    func testTrainingOptionsRoundTripAndRefuseRemovedFeatures() throws {
        var options = TokenizerTrainingOptions()
        options.edgeWeight = 0.25
        options.bfloat16Convolutions = true
        var fields = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(options)) as? [String: Any])
        XCTAssertEqual(try JSONDecoder().decode(TokenizerTrainingOptions.self, from: JSONSerialization.data(withJSONObject: fields)), options)
        fields["bfloat16Convolutions"] = nil
        XCTAssertFalse(try JSONDecoder().decode(TokenizerTrainingOptions.self, from: JSONSerialization.data(withJSONObject: fields)).bfloat16Convolutions)
        // Options of runs that used a removed feature are refused with its name; their zero values are fine.
        for (key, value, name) in [("ssimWeight", 0.1 as Any, "SSIM loss"), ("decoderOnly", true as Any, "decoder-only"),
                                   ("adversarialWeight", 0.3 as Any, "patch discriminator")] {
            var old = fields
            old[key] = value
            XCTAssertThrowsError(try JSONDecoder().decode(TokenizerTrainingOptions.self, from: JSONSerialization.data(withJSONObject: old))) {
                XCTAssertTrue("\($0)".contains(name), "\($0)")
            }
            old[key] = key == "decoderOnly" ? false as Any : 0.0 as Any
            XCTAssertNoThrow(try JSONDecoder().decode(TokenizerTrainingOptions.self, from: JSONSerialization.data(withJSONObject: old)))
        }
    }

    func testEncoderDepthIsSetApartFromTheDecoders() throws {
        var light = Self.tiny
        light.blocksPerLevel = 2
        light.encoderBlocksPerLevel = 0
        let model = try VQVAE(config: light)
        // Encoder: one block (at the grid level) of two 3×3 convs; decoder: 2 per level + 1 at the grid.
        let encoderBlocks = model.namedParameters.filter { $0.0.hasPrefix("encoder.levels.") && $0.0.hasSuffix("conv1.weight") }
        let decoderBlocks = model.namedParameters.filter { $0.0.hasPrefix("decoder.levels.") && $0.0.hasSuffix("conv1.weight") }
        XCTAssertEqual(encoderBlocks.count, 1)
        XCTAssertEqual(decoderBlocks.count, 2 * light.levelChannels.count + 1)
        var symmetric = light
        symmetric.encoderBlocksPerLevel = nil
        XCTAssertLessThan(model.encoderFLOPsPerFrame, try VQVAE(config: symmetric).encoderFLOPsPerFrame)
        XCTAssertEqual(model.decoderFLOPsPerFrame, try VQVAE(config: symmetric).decoderFLOPsPerFrame)
        // It survives a checkpoint, and a config written before the option existed reads as "same as the decoder".
        let dir = TemporaryDirectory()
        try TokenizerCheckpoint.save(model, to: dir.file("light.safetensors"))
        XCTAssertEqual(try TokenizerCheckpoint.config(of: dir.file("light.safetensors")), light)
        var before = Self.tiny
        before.encoderBlocksPerLevel = nil
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(before)) as! [String: Any]
        XCTAssertNil(old["encoderBlocksPerLevel"])   // absent when unset: older tokenizers keep their hashes
        old["blocksPerLevel"] = 3
        let decoded = try JSONDecoder().decode(VQVAEConfig.self, from: JSONSerialization.data(withJSONObject: old))
        XCTAssertEqual(decoded.encoderBlocks, 3)
        light.encoderBlocksPerLevel = -1
        XCTAssertTrue(light.problems.contains { $0.contains("encoder blocks") }, "\(light.problems)")
    }

    func testCheckpointRoundTripAndHash() throws {
        Torch.manualSeed(4)
        let model = try VQVAE(config: Self.tiny)
        let dir = TemporaryDirectory()
        try TokenizerCheckpoint.save(model, to: dir.file("m.safetensors"))
        let loaded = try TokenizerCheckpoint.load(dir.file("m.safetensors")).model
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(try TokenizerCheckpoint.contentHash(loaded), try TokenizerCheckpoint.contentHash(model))
        let bank = Self.syntheticBank(2)
        XCTAssertEqual(try loaded.encode(frames: bank.bytes, count: 2), try model.encode(frames: bank.bytes, count: 2))
        // A compact F16 copy loads as float32 and decodes almost identically.
        try TokenizerCheckpoint.save(model, to: dir.file("c.safetensors"), compact: true)
        let compact = try TokenizerCheckpoint.load(dir.file("c.safetensors")).model
        let codes = try model.encode(frames: bank.bytes, count: 2)
        let a = try model.decode(codes: codes, count: 2), b = try compact.decode(codes: codes, count: 2)
        XCTAssertGreaterThan(ImageMetrics.psnr(a, b), 40)
        // Another model hashes differently.
        Torch.manualSeed(5)
        XCTAssertNotEqual(try TokenizerCheckpoint.contentHash(VQVAE(config: Self.tiny)), try TokenizerCheckpoint.contentHash(model))
    }

    func testBadCheckpointsFailWithTheirPath() throws {
        let dir = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.file("junk.safetensors"), contents: Data("garbage".utf8))
        XCTAssertThrowsError(try TokenizerCheckpoint.load(dir.file("junk.safetensors"))) {
            XCTAssertTrue("\($0)".contains("junk.safetensors"), "\($0)")
        }
        XCTAssertThrowsError(try TokenizerCheckpoint.load(dir.file("missing.safetensors"))) {
            XCTAssertTrue("\($0)".contains("no such"), "\($0)")
        }
        try Checkpoint.save([("x", try Tensor([1] as [Float]))], metadata: ["format": "something-else"], to: dir.file("other.safetensors"))
        XCTAssertThrowsError(try TokenizerCheckpoint.load(dir.file("other.safetensors"))) {
            XCTAssertTrue("\($0)".contains("not a framecast tokenizer"), "\($0)")
        }
    }

    func testResumedTrainingMatchesAnUninterruptedRun() throws {
        let bank = Self.syntheticBank(32)
        var options = TokenizerTrainingOptions()
        options.steps = 12
        options.batch = 8
        options.warmup = 2
        options.edgeWeight = 0.5  // every loss term, so each must resume exactly
        func fresh() throws -> TokenizerTrainer {
            Torch.manualSeed(options.seed)
            return try TokenizerTrainer(model: VQVAE(config: Self.tiny), options: options, data: bank)
        }
        let straight = try fresh()
        while straight.step < 12 { _ = try straight.trainStep() }

        let dir = TemporaryDirectory()
        let first = try fresh()
        while first.step < 5 { _ = try first.trainStep() }
        try TokenizerCheckpoint.save(first.model, trainer: first, to: dir.file("ckpt.safetensors"))
        let resumed = try TokenizerCheckpoint.resume(dir.file("ckpt.safetensors"), data: bank).trainer
        XCTAssertEqual(resumed.step, 5)
        while resumed.step < 12 { _ = try resumed.trainStep() }
        XCTAssertEqual(try TokenizerCheckpoint.contentHash(resumed.model), try TokenizerCheckpoint.contentHash(straight.model))
    }
}
