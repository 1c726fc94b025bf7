import FramecastKit
import ArgumentParser
import FileOutput
import Foundation
import Prior
import SafeTensors
import VQVAE

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Strip a checkpoint to what inference needs (no optimizer state), optionally storing a prior in F16.",
        discussion: """
            Writes the weights and metadata of a tokenizer or prior checkpoint without the optimizer state. \
            With --f16 a prior's weights are stored as half precision (loading widens them back to float32); \
            a tokenizer always stays float32, because code files and priors record the tokenizer's content \
            hash, which rounding would change.

            Examples:
              framecast compact runs/prior/prior.safetensors -o Models/default/prior.safetensors --f16
              framecast compact runs/tok/checkpoint.safetensors -o tokenizer.safetensors
            """
    )

    @Argument(help: "A tokenizer or prior checkpoint.")
    var input: String

    @Option(name: .shortAndLong, help: "The file to write (.safetensors).")
    var output: String

    @Flag(help: "Store a prior's weights as F16 (half the size).")
    var f16 = false

    func validate() throws {
        guard output.hasSuffix(".safetensors") else { throw ValidationError("--output must end in .safetensors, got \(output)") }
    }

    func run() throws {
        try AtomicFile.checkOutput(output, notAny: [input])   // before any work: a regular file, not an input
        let format: String?
        do {
            format = try SafeTensorsFile(data: Data(contentsOf: URL(fileURLWithPath: input)), fileName: input).metadata["format"]
        } catch {
            throw CheckpointError(input, "cannot read (\(error))")
        }
        var kept: [String: String] = [:]
        switch format {
        case TokenizerCheckpoint.format:
            guard !f16 else {
                throw CheckpointError(input, "is a tokenizer: --f16 would change its content hash and orphan the code files and priors made with it")
            }
            let (model, metadata, _) = try TokenizerCheckpoint.load(input)
            kept["trained_steps"] = metadata["step"] ?? metadata["trained_steps"]
            kept[TokenizerCheckpoint.codesHashKey] = metadata[TokenizerCheckpoint.codesHashKey]
            try TokenizerCheckpoint.save(model, metadata: kept, to: output)
        case PriorCheckpoint.format:
            let loaded = try PriorCheckpoint.load(input)
            kept["trained_steps"] = loaded.metadata["step"] ?? loaded.metadata["trained_steps"]
            try PriorCheckpoint.save(loaded.model, source: loaded.source, metadata: kept, baselines: loaded.baselines, to: output, compact: f16)
        default:
            throw CheckpointError(input, "is neither a framecast tokenizer nor a prior checkpoint (format '\(format ?? "missing")')")
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.intValue ?? 0
        FileHandle.standardError.write(Data(String(format: "wrote %@ (%.1f MB)\n", output, Double(bytes) / 1e6).utf8))
        print(output)
    }
}
