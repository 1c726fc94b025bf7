import Foundation
import NN
import SafeTensors

/// An error about a checkpoint file, naming the file.
public struct CheckpointError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let path: String
    public let reason: String
    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// Tokenizer checkpoints: one safetensors file with the model's tensors (PyTorch-style names),
/// metadata (`format`, `config` JSON, `step`, ...), and, for resumable training checkpoints, the
/// optimizer state under `optimizer.` and the training options.
public enum TokenizerCheckpoint {
    public static let format = "framecast-tokenizer"
    /// Metadata key of a tokenizer whose codes are another's (its decoder was retrained with the
    /// encoder and codebook fixed): that tokenizer's codes hash.
    public static let codesHashKey = "codes_hash"

    /// Saves `model`; with `trainer`, also what `--resume` needs. `compact` stores weights as F16.
    public static func save(_ model: VQVAE, trainer: TokenizerTrainer? = nil, metadata extra: [String: String] = [:],
                            to path: String, compact: Bool = false) throws {
        var metadata = extra
        metadata["format"] = format
        metadata["version"] = "1"
        metadata["config"] = try jsonString(model.config)
        var tensors = model.stateDict
        if let trainer {
            metadata["step"] = String(trainer.step)
            metadata["options"] = try jsonString(trainer.options)
            tensors += trainer.optimizer.namedState.map { ("optimizer.\($0.0)", $0.1) }
        }
        try Checkpoint.save(tensors, metadata: metadata, to: path, storeFloatsAs: compact ? .f16 : .f32)
    }

    /// Loads the model of a checkpoint and its metadata.
    public static func load(_ path: String) throws -> (model: VQVAE, metadata: [String: String], tensors: [String: Tensor]) {
        guard FileManager.default.fileExists(atPath: path) else { throw CheckpointError(path, "no such tokenizer checkpoint") }
        let (tensors, metadata): ([String: Tensor], [String: String])
        do {
            (tensors, metadata) = try Checkpoint.load(path)
        } catch {
            throw CheckpointError(path, "cannot read the tokenizer checkpoint (\(error))")
        }
        guard metadata["format"] == format else {
            throw CheckpointError(path, "not a framecast tokenizer checkpoint (format is '\(metadata["format"] ?? "missing")')")
        }
        guard let configText = metadata["config"], let config = try? JSONDecoder().decode(VQVAEConfig.self, from: Data(configText.utf8)) else {
            throw CheckpointError(path, "checkpoint has no readable model config")
        }
        let model: VQVAE
        do {
            model = try VQVAE(config: config)
            try model.load(tensors)
        } catch {
            throw CheckpointError(path, "\(error)")
        }
        return (model, metadata, tensors)
    }

    /// The model configuration recorded in a checkpoint, without building the model.
    public static func config(of path: String) throws -> VQVAEConfig {
        let metadata: [String: String]
        do { metadata = try SafeTensorsFile.read(path: path).metadata } catch {
            throw CheckpointError(path, "cannot read the tokenizer checkpoint (\(error))")
        }
        guard metadata["format"] == format, let text = metadata["config"],
              let config = try? JSONDecoder().decode(VQVAEConfig.self, from: Data(text.utf8)) else {
            throw CheckpointError(path, "not a framecast tokenizer checkpoint")
        }
        return config
    }

    /// What code files and priors record as their tokenizer: the content hash, or for a tokenizer
    /// whose decoder was retrained on fixed codes, the codes hash of the tokenizer it came from.
    /// Two tokenizers with the same codes hash map every frame to the same codes.
    public static func codesHash(_ model: VQVAE, metadata: [String: String]) throws -> String {
        try metadata[codesHashKey] ?? contentHash(model)
    }

    /// Rebuilds a trainer from a training checkpoint so it continues at the saved step; also returns
    /// the checkpoint's metadata (e.g. its codes hash).
    public static func resume(_ path: String, data: FrameBank) throws -> (trainer: TokenizerTrainer, metadata: [String: String]) {
        let (model, metadata, tensors) = try load(path)
        guard let optionsText = metadata["options"], let step = metadata["step"].flatMap(Int.init), step >= 0 else {
            throw CheckpointError(path, "not a training checkpoint (no optimizer state); it can be used as a tokenizer but not resumed")
        }
        let options: TokenizerTrainingOptions
        do {
            options = try JSONDecoder().decode(TokenizerTrainingOptions.self, from: Data(optionsText.utf8))
        } catch let DecodingError.dataCorrupted(context) {
            throw CheckpointError(path, context.debugDescription)
        } catch {
            throw CheckpointError(path, "its training options are unreadable (\(error))")
        }
        let trainer = try TokenizerTrainer(model: model, options: options, data: data)
        func withPrefix(_ prefix: String) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (name, tensor) in tensors where name.hasPrefix(prefix) { out[String(name.dropFirst(prefix.count))] = tensor }
            return out
        }
        do {
            try trainer.optimizer.loadState(withPrefix("optimizer."), step: step)
        } catch {
            throw CheckpointError(path, "optimizer state does not match the model (\(error))")
        }
        return (trainer, metadata)
    }

    /// SHA-256 over the config and every state tensor's name, shape and float32 values: identifies
    /// the model whatever file it came from (a compact F16 copy hashes as the values it loads to).
    public static func contentHash(_ model: VQVAE) throws -> String {
        var h = SHA256()
        h.update(try jsonString(model.config))
        for (name, tensor) in model.stateDict where !name.hasPrefix("quantizer.ema") {
            h.update("\(name)\(tensor.shape)")
            let values = try tensor.floats()
            values.withUnsafeBytes { h.update($0) }
        }
        return h.hexDigest()
    }

    static func jsonString<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
