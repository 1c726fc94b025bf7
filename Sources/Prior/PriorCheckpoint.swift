import Foundation
import NN
import SafeTensors

/// Prior checkpoints: one safetensors file with the model's tensors, metadata (`format`
/// "framecast-prior", `config` JSON, `source` JSON with the tokenizer hash, K, grid and action
/// names, plus flat `tokenizer_sha256`, `codebook_size`, `grid`, `action_names` for other tools),
/// the training baselines and, for resumable training checkpoints, the options, step and the
/// optimizer state under `optimizer.`.
public enum PriorCheckpoint {
    public static let format = "framecast-prior"

    /// What `load` returns.
    public struct Loaded {
        public let model: PriorModel
        public let source: CodeSource
        /// Baselines fitted on the training data, when the checkpoint has them.
        public let baselines: Baselines?
        public let metadata: [String: String]
        let tensors: [String: Tensor]

        /// A loaded prior from its parts (for pairing a model in memory with a code source).
        public init(model: PriorModel, source: CodeSource, baselines: Baselines?, metadata: [String: String]) {
            self.init(model: model, source: source, baselines: baselines, metadata: metadata, tensors: [:])
        }

        init(model: PriorModel, source: CodeSource, baselines: Baselines?, metadata: [String: String], tensors: [String: Tensor]) {
            (self.model, self.source, self.baselines, self.metadata, self.tensors) = (model, source, baselines, metadata, tensors)
        }
    }

    /// Saves `model`; with `trainer`, also what resuming needs. `compact` stores weights as F16.
    public static func save(_ model: PriorModel, source: CodeSource, trainer: PriorTrainer? = nil,
                            metadata extra: [String: String] = [:], baselines: Baselines? = nil,
                            to path: String, compact: Bool = false) throws {
        var metadata = extra
        metadata["format"] = format
        metadata["version"] = "1"
        metadata["config"] = try json(model.config)
        metadata["source"] = try json(source)
        metadata["tokenizer_sha256"] = source.tokenizerHash
        metadata["codebook_size"] = String(source.codebookSize)
        metadata["grid"] = source.grid
        metadata["action_names"] = try json(source.actionNames)
        var tensors = model.namedParameters
        if let baselines { metadata["baselines"] = try json(baselines) }
        if let trainer {
            metadata["step"] = String(trainer.step)
            metadata["options"] = try json(trainer.options)
            metadata["baselines"] = try json(trainer.baselines)
            tensors += trainer.optimizer.namedState.map { ("optimizer.\($0.0)", $0.1) }
        }
        try Checkpoint.save(tensors, metadata: metadata, to: path, storeFloatsAs: compact ? .f16 : .f32)
    }

    /// Loads a checkpoint's model, code source and metadata.
    /// - Throws: `PriorError` naming the file: missing, unreadable, not a prior, bad config or tensors.
    public static func load(_ path: String) throws -> Loaded {
        func fail(_ why: String) -> PriorError { PriorError(file: path, .checkpoint(why)) }
        guard FileManager.default.fileExists(atPath: path) else { throw fail("no such prior checkpoint") }
        let (tensors, metadata): ([String: Tensor], [String: String])
        do {
            (tensors, metadata) = try Checkpoint.load(path)
        } catch {
            throw fail("cannot read the prior checkpoint (\(error))")
        }
        guard metadata["format"] == format else {
            throw fail("not a framecast prior checkpoint (format is '\(metadata["format"] ?? "missing")')")
        }
        let config: PriorConfig
        do {
            guard let text = metadata["config"] else { throw fail("checkpoint has no prior config") }
            config = try JSONDecoder().decode(PriorConfig.self, from: Data(text.utf8))
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw fail(context.debugDescription)
        } catch let error as PriorError {
            throw error
        } catch {
            throw fail("checkpoint has no readable prior config")
        }
        guard let source = decode(CodeSource.self, metadata["source"]) else { throw fail("checkpoint has no readable code source") }
        let model: PriorModel
        do {
            model = try PriorModel(config: config)
            let weights = tensors.filter { !$0.key.hasPrefix("optimizer.") }
            try model.load(try weights.mapValues { try $0.to(.float32) })
        } catch {
            throw fail("weights do not match the config (\(error))")
        }
        return Loaded(model: model, source: source, baselines: decode(Baselines.self, metadata["baselines"]),
                      metadata: metadata, tensors: tensors)
    }

    /// Rebuilds a trainer from a training checkpoint so it continues at the saved step.
    /// - Throws: `PriorError` when the checkpoint cannot be resumed or `data` came from another tokenizer.
    public static func resume(_ path: String, data: PriorDataset) throws -> PriorTrainer {
        let loaded = try load(path)
        let options = try trainingOptions(loaded.metadata, path: path)
        let step = try trainingStep(loaded.metadata, path: path)
        let trainer = try PriorTrainer(model: loaded.model, options: options, data: data.mapped(to: loaded.source))
        var state: [String: Tensor] = [:]
        for (name, tensor) in loaded.tensors where name.hasPrefix("optimizer.") {
            state[String(name.dropFirst("optimizer.".count))] = tensor
        }
        do {
            try trainer.optimizer.loadState(state, step: step)
        } catch {
            throw PriorError(file: path, .checkpoint("optimizer state does not match the model (\(error))"))
        }
        return trainer
    }

    /// The training options a training checkpoint records (batch, steps, ...), from its metadata
    /// alone (the file is read; no model or tensor is built).
    /// - Throws: `PriorError` naming the file when it is unreadable or not a training checkpoint.
    public static func trainingOptions(at path: String) throws -> PriorTrainingOptions {
        let metadata: [String: String]
        do { metadata = try SafeTensorsFile.read(path: path).metadata } catch {
            throw PriorError(file: path, .checkpoint("cannot read the prior checkpoint (\(error))"))
        }
        _ = try trainingStep(metadata, path: path)
        return try trainingOptions(metadata, path: path)
    }

    /// The step a training checkpoint was saved at; an absent or negative one is not resumable.
    private static func trainingStep(_ metadata: [String: String], path: String) throws -> Int {
        guard let step = metadata["step"].flatMap(Int.init), step >= 0 else {
            throw notResumable(path)
        }
        return step
    }

    private static func notResumable(_ path: String) -> PriorError {
        PriorError(file: path, .checkpoint("not a training checkpoint (no optimizer state); it can be used for sampling but not resumed"))
    }

    private static func trainingOptions(_ metadata: [String: String], path: String) throws -> PriorTrainingOptions {
        guard let text = metadata["options"] else {
            throw notResumable(path)
        }
        do {
            return try JSONDecoder().decode(PriorTrainingOptions.self, from: Data(text.utf8))
        } catch let DecodingError.dataCorrupted(context) {
            throw PriorError(file: path, .checkpoint(context.debugDescription))
        } catch {
            throw PriorError(file: path, .checkpoint("its training options are unreadable (\(error))"))
        }
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        text.flatMap { try? JSONDecoder().decode(type, from: Data($0.utf8)) }
    }
}
