import Foundation
import NN
import SafeTensors
import TestSupport
import XCTest
@testable import Prior
@testable import VQVAE

/// framecast's tokenizer and prior against the PyTorch reference in Tools/reference: the same
/// checkpoints and inputs must give the same latents, codes, reconstructions and logits (max abs
/// difference ≤ 1e-4), and a deliberately broken reference must fail the check.
final class ReferenceTests: XCTestCase {
    static let tolerance = 1e-4

    func testPyTorchReferenceReproducesFramecast() throws {
        let python = try ReferenceCase.python()
        let c = try ReferenceCase.shared()
        let result = try ProcessRunner.run(python, c.checkArguments(), timeout: 600)
        XCTAssertFalse(result.timedOut || result.crashed, result.stderr)
        XCTAssertEqual(result.status, 0, "check.py failed:\n\(result.stdout)\n\(result.stderr)")
        let report = try ReferenceCase.report(result)
        print("reference check: " + ReferenceCase.figureNames.map { "\($0)=\(report[$0].map { String(format: "%.3g", $0) } ?? "missing")" }
            .joined(separator: " "))
        for name in ReferenceCase.figureNames {
            let value = try XCTUnwrap(report[name], "check.py did not report \(name)")
            let limit = name.hasSuffix("mismatched") || name.hasSuffix("missing") ? 0 : Self.tolerance
            XCTAssertLessThanOrEqual(value, limit, name)
        }
        XCTAssertEqual(report["tokenizer_frames"], Double(c.frameCount))
        // The figures mean something only if the outputs are not tiny and training moved the loss.
        XCTAssertGreaterThan(try XCTUnwrap(report["prior_logit_scale"]), 1)
        XCTAssertGreaterThan(try XCTUnwrap(report["train_grad_scale"]), 1e-3)
        XCTAssertGreaterThan(try XCTUnwrap(report["train_loss_drop"]), 0)
    }

    func testCheckFailsWhenTheReferenceDiverges() throws {
        let python = try ReferenceCase.python()
        let c = try ReferenceCase.shared()
        for (perturbation, figure) in [("gelu-tanh", "prior_logits_max_abs_diff"),
                                       ("upsample-bilinear", "tokenizer_reconstruction_max_abs_diff")] {
            let result = try ProcessRunner.run(python, c.checkArguments() + ["--perturb", perturbation], timeout: 600)
            XCTAssertEqual(result.status, 1, "check.py should fail with --perturb \(perturbation):\n\(result.stdout)\n\(result.stderr)")
            let report = try ReferenceCase.report(result)
            print("reference check with --perturb \(perturbation): \(figure)=\(report[figure].map { String(format: "%.3g", $0) } ?? "missing")")
            XCTAssertGreaterThan(try XCTUnwrap(report[figure]), Self.tolerance, perturbation)
            XCTAssertEqual(report["passed"], 0, perturbation)
        }
    }
}

/// Small models with every parameter randomised (so a reference that ignored a norm gain or a bias
/// would be caught), saved as framecast saves them, reloaded, run on fixed inputs; inputs and
/// outputs go to one safetensors file for Tools/reference/check.py.
final class ReferenceCase: @unchecked Sendable {
    static let figureNames = ["tokenizer_latents_max_abs_diff", "tokenizer_codes_mismatched", "tokenizer_reconstruction_max_abs_diff",
                              "prior_logits_max_abs_diff", "prior_code_logits_max_abs_diff",
                              "rollout_codes_mismatched", "rollout_logits_max_abs_diff",
                              "train_loss_max_abs_diff", "train_parameters_missing", "train_grad_max_abs_diff",
                              "train_param_after_3_steps_max_abs_diff"]
    static let script = Repository.root + "/Tools/reference/check.py"

    let directory = TemporaryDirectory()
    var io: String { directory.file("io.safetensors") }
    var tokenizer: String { directory.file("checkpoint.safetensors") }
    var prior: String { directory.file("prior.safetensors") }
    let frameCount = 4

    func checkArguments() -> [String] {
        [Self.script, io, "--tokenizer", tokenizer, "--prior", prior, "--json"]
    }

    nonisolated(unsafe) private static var made: ReferenceCase?
    private static let lock = NSLock()

    static func shared() throws -> ReferenceCase {
        lock.lock()
        defer { lock.unlock() }
        if let made { return made }
        let c = ReferenceCase()
        try c.write()
        made = c
        return c
    }

    /// A python3 that imports torch: $FRAMECAST_PYTHON, Debian's /usr/bin/python3, or python3 on PATH.
    static func python() throws -> String {
        var candidates = ["/usr/bin/python3"]
        if let env = ProcessInfo.processInfo.environment["FRAMECAST_PYTHON"] { candidates.insert(env, at: 0) }
        if let onPath = ProcessRunner.which("python3") { candidates.append(onPath) }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if let r = try? ProcessRunner.run(candidate, ["-c", "import torch"], timeout: 120), r.status == 0 { return candidate }
        }
        throw XCTSkip("no python3 with PyTorch found (tried \(candidates.joined(separator: ", "))); Tools/setup installs Debian's python3-torch")
    }

    /// The last stdout line of check.py --json, as numbers (booleans as 0/1).
    static func report(_ result: ProcessResult) throws -> [String: Double] {
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, "check.py printed nothing: \(result.stderr)")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
        var out: [String: Double] = [:]
        for (key, value) in object {
            if let b = value as? Bool { out[key] = b ? 1 : 0 } else if let n = value as? NSNumber { out[key] = n.doubleValue }
        }
        return out
    }

    private func write() throws {
        Torch.manualSeed(20_240_601)
        var entries: [TensorEntry] = []
        entries += try tokenizerCase()
        entries += try priorCase(to: prior)
        try SafeTensorsFile(entries: entries, metadata: ["format": "framecast-reference-io"]).write(path: io)
    }

    /// A non-square tokenizer (encoder lighter than decoder) saved as a compact (F16) training checkpoint, reloaded as framecast loads it.
    private func tokenizerCase() throws -> [TensorEntry] {
        var config = VQVAEConfig()
        config.frameWidth = 64
        config.frameHeight = 48
        config.gridWidth = 8
        config.gridHeight = 6
        config.codebookSize = 128
        config.blocksPerLevel = 2          // the decoder and encoder differ in depth
        config.encoderBlocksPerLevel = 0
        let fresh = try VQVAE(config: config)
        var rng = SplitMix64(seed: 11)
        let frames = (0..<(frameCount * 64 * 48 * 3)).map { i in
            // Smooth gradients plus noise: structured enough for varied codes.
            UInt8(truncatingIfNeeded: (i / 3 % 64) * 3 + (i / (3 * 64) % 48) * 2 + Int(rng.next() % 40) + (i % 3) * 50)
        }
        let x = try FrameTensor.fromBytes(frames, count: frameCount, width: 64, height: 48)
        try Tensor.noGrad {
            for (name, t) in fresh.stateDict where !name.hasPrefix("quantizer") {
                if name.contains("norm") && name.hasSuffix(".weight") {
                    try t.copyFrom(Tensor.randn(t.shape) * 0.3 + 1)
                } else if name.hasSuffix(".bias") {
                    try t.copyFrom(Tensor.randn(t.shape) * 0.1)
                }
            }
            // Codes spread over the encodings' range, so the nearest-code rule picks varied codes.
            let scale = try fresh.encoder(x).square().mean().item().squareRoot()
            try fresh.quantizer.codebook.copyFrom(Tensor.randn([config.codebookSize, config.codeDim]) * scale)
        }
        var bank = FrameBank(width: 64, height: 48)
        for i in 0..<frameCount { bank.append(Array(frames[(i * 64 * 48 * 3)..<((i + 1) * 64 * 48 * 3)])) }
        let trainer = try TokenizerTrainer(model: fresh, options: TokenizerTrainingOptions(), data: bank)
        try TokenizerCheckpoint.save(fresh, trainer: trainer, to: tokenizer, compact: true)
        let model = try TokenizerCheckpoint.load(tokenizer).model
        return try Tensor.noGrad {
            let latents = try model.encoder(x)
            let forward = try model.forward(x)
            return [try TensorEntry(name: "frames", uint8s: frames, shape: [frameCount, 48, 64, 3]),
                    try latents.entry(name: "latents"),
                    try forward.quantized.indices.entry(name: "codes"),
                    try forward.reconstruction.entry(name: "reconstructions")]
        }
    }

    /// Training on the windows `codes` / `actions`, as `PriorTrainer` does it (cross-entropy of the
    /// codes of frames 1..<F averaged over tokens, global-norm clip at 1, AdamW with its parameter
    /// groups) at a fixed learning rate: the loss and every parameter's gradient at the start, then
    /// the loss before each of 3 steps and every parameter after them. Runs on a copy of the model.
    private func trainingCase(_ loaded: PriorModel, codes: Tensor, actions: Tensor) throws -> [TensorEntry] {
        let model = try PriorModel(config: loaded.config)
        try model.load(Dictionary(uniqueKeysWithValues: loaded.namedParameters.map { ($0.0, try $0.1.detach()) }))
        model.training = true                                                    // dropout 0: deterministic
        let k = model.config.codebookSize, hw = model.config.codesPerFrame
        let targets = try codes.narrow(dim: 1, start: 1, length: codes.size(1) - 1).reshape([-1])      // [B·(F−1)·hw]
        func loss() throws -> Tensor {
            let logits = try model.codeLogits(codes: codes, actions: actions)                       // [B, (F−1)·hw, K]
            return try F.crossEntropy(logits.reshape([-1, k]), targets, reduction: .sum) / Double(targets.numel)
        }
        let optimizer = PriorTrainer.optimizer(for: model, learningRate: 1e-3, weightDecay: 0.1)
        var entries: [TensorEntry] = []
        var losses: [Float] = []
        for step in 0..<3 {
            optimizer.zeroGrad()
            let l = try loss()
            losses.append(Float(try l.item()))
            try l.backward()
            if step == 0 {
                entries += try model.namedParameters.map { try XCTUnwrap($0.1.grad).entry(name: "train.grad." + $0.0) }
            }
            _ = try optimizer.clipGradNorm(1)
            try optimizer.step(lr: 1e-3)
        }
        XCTAssertEqual(targets.numel, 2 * (codes.size(1) - 1) * hw)
        entries.append(try TensorEntry(name: "train.losses", floats: losses, shape: [3]))
        entries += try model.namedParameters.map { try $0.1.detach().entry(name: "train.param." + $0.0) }
        return entries
    }

    /// A prior with a non-square grid saved (F32) to `path` and reloaded; full-window logits for two
    /// windows of 6 frames (longer than its 4-frame context: banded attention), and a greedy KV-cache
    /// rollout whose cache drops its oldest frame.
    private func priorCase(to path: String) throws -> [TensorEntry] {
        var config = PriorConfig()
        config.trainingFrames = 6
        config.layers = 2
        config.width = 64
        config.heads = 4
        config.contextFrames = 4
        config.gridWidth = 4
        config.gridHeight = 3
        config.codebookSize = 64
        config.actionCount = 3
        let fresh = try PriorModel(config: config)
        try Tensor.noGrad {
            for (name, p) in fresh.namedParameters {
                if name.contains("ln") {
                    try p.copyFrom(name.hasSuffix(".weight") ? Tensor.randn(p.shape) * 0.3 + 1 : Tensor.randn(p.shape) * 0.1)
                } else if name.hasSuffix(".bias") {
                    try p.copyFrom(Tensor.randn(p.shape) * 0.1)
                } else if name.contains("embedding") || name.hasSuffix("modulation.weight") {
                    try p.copyFrom(Tensor.randn(p.shape))
                } else {
                    try p.copyFrom(Tensor.randn(p.shape) * (1 / Double(p.size(1)).squareRoot()))
                }
            }
        }
        let source = CodeSource(tokenizerHash: "reference-test", codebookSize: 64, gridHeight: 3, gridWidth: 4,
                                actionNames: ["A", "B", "C"], fps: 15)
        try PriorCheckpoint.save(fresh, source: source, to: path)
        let model = try PriorCheckpoint.load(path).model
        var rng = SplitMix64(seed: 5)
        let frames = config.trainingFrames
        let codes = try Tensor((0..<(2 * frames * 12)).map { _ in Int64(rng.next() % 64) }, shape: [2, frames, 12])
        let actions = try Tensor((0..<(2 * frames)).map { i in [0, 2, 3, 1, 3, 1, 1, 0][i % 8] as Int64 }, shape: [2, frames])  // 3 = no action
        var entries = try Tensor.noGrad {
            [try codes.entry(name: "prior.codes"), try actions.entry(name: "prior.actions"),
             try model.allLogits(codes: codes, actions: actions).entry(name: "prior.logits"),
             try model.codeLogits(codes: codes, actions: actions).entry(name: "prior.code_logits")]
        }
        // Greedy rollout: 3 context frames (unknown first action), 4 generated frames; the window
        // (4 frames) slides twice, so dropping the oldest frame from the cache is exercised too.
        let contextCodes = try codes.select(dim: 0, index: 0).narrow(dim: 0, start: 0, length: 3).int64s()
        let context = PriorContext(codes: contextCodes.map { UInt16($0) }, actions: [-1, 2, 0])
        let future = [1, 2, -1, 0]
        var logits: [Float] = []
        let rollout = try PriorSampler(model: model).rollout(context: context, actions: future, samples: 1,
                                                            options: SamplingOptions(temperature: 0)) { _, _, l in logits += l }
        entries += try trainingCase(model, codes: codes, actions: actions)
        entries += [try TensorEntry(name: "rollout.context_codes", int64s: contextCodes, shape: [3, 12]),
                    try TensorEntry(name: "rollout.context_actions", int64s: [-1, 2, 0], shape: [3]),
                    try TensorEntry(name: "rollout.actions", int64s: future.map { Int64($0) }, shape: [4]),
                    try TensorEntry(name: "rollout.codes", int64s: rollout.codes.map { Int64($0) }, shape: [4, 12]),
                    try TensorEntry(name: "rollout.logits", floats: logits, shape: [4 * 12, 64])]
        return entries
    }
}
