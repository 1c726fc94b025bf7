import Foundation
import NN
import Prior
import VQVAE

/// `train prior` as a library call: the action-conditioned prior trained on code files.
package final class PriorTraining: TrainingJob {
    /// What a new run is made of; `Recipe` gives every default.
    package struct Settings {
        /// Training and validation code files (folders or files).
        package var codes: [String] = []
        package var validation: [String] = []
        /// The model's shape (grid, K and actions are taken from the code files).
        package var config = Recipe.prior
        package var options = Recipe.priorTraining
        /// Validation windows per evaluation during training.
        package var evalWindows = Recipe.priorEvalWindows
        /// A trained prior to start from (its shape and weights; actions matched by name).
        package var initFrom: String?
        package init() {}
    }

    package let label = "train prior"
    package let trainer: PriorTrainer
    package let data: PriorDataset
    package let validationData: PriorDataset?
    private let evalWindows: Int
    private var window: [PriorStepStats] = []

    /// A new run from `settings`, or (`run.resume`) the run's checkpoint; its data sources are
    /// recorded in the run folder so a resume needs none.
    package init(_ settings: Settings, run: TrainingRun) throws {
        let sources = try run.sources(["codes": settings.codes, "validation": settings.validation])
        let codes = sources["codes"] ?? [], validation = sources["validation"] ?? []
        guard !codes.isEmpty else { throw CheckpointError(run.folder, "no training code files (--codes) given or recorded in run.json") }
        data = try PriorDataset(paths: codes)
        validationData = validation.isEmpty ? nil : try PriorDataset(paths: validation).mapped(to: data.source)
        evalWindows = settings.evalWindows
        if run.resume {
            trainer = try PriorCheckpoint.resume(run.checkpoint, data: data)
        } else {
            let initial = try settings.initFrom.map { try PriorCheckpoint.load($0) }
            let shape = initial?.model.config ?? settings.config
            var config = data.defaultConfig()
            for key in [\PriorConfig.layers, \.width, \.heads, \.contextFrames, \.trainingFrames] { config[keyPath: key] = shape[keyPath: key] }
            config.dropout = settings.config.dropout
            config.actionIntoFrame = shape.actionIntoFrame
            config.actionModulation = shape.actionModulation
            trainer = try PriorTrainer(config: config, options: settings.options, data: data)
            if let initial, let path = settings.initFrom {
                let (old, new) = (initial.model.config, config)
                guard old.codebookSize == new.codebookSize, old.gridWidth == new.gridWidth, old.gridHeight == new.gridHeight else {
                    throw CheckpointError(path, "models K = \(old.codebookSize) codes on a \(old.gridWidth)x\(old.gridHeight) grid, the training codes K = \(new.codebookSize) on \(new.gridWidth)x\(new.gridHeight)")
                }
                let matched = try trainer.model.transfer(from: initial.model, actionNames: initial.source.actionNames, to: data.source.actionNames)
                let fresh = data.source.actionNames.filter { !matched.contains($0) }
                var note = "init from \(path): actions matched by name: \(matched.joined(separator: ", "))"
                    + (fresh.isEmpty ? "" : "; new: \(fresh.joined(separator: ", "))")
                if initial.source.tokenizerHash != data.source.tokenizerHash {
                    note += "; its codes came from another tokenizer (\(initial.source.tokenizerHash.prefix(12))…), so they mean something else unless that tokenizer was the start of this one"
                }
                if run.isLeader { FileHandle.standardError.write(Data((note + "\n").utf8)) }
            }
        }
        if let group = run.group { try trainer.join(group) }
    }

    package var stepper: any StepTrainer { trainer }
    package func advance() throws { window.append(try finiteStep(trainer.trainStep())) }

    package func logRow(elapsed: Double) -> (row: [String: Any], progress: String) {
        defer { window.removeAll() }
        guard let last = window.last else { return ([:], "") }
        let n = Double(window.count)
        let bits = window.map(\.bitsPerToken).reduce(0, +) / n
        let tokensPerSecond = Double(window.map(\.tokens).reduce(0, +)) / window.map(\.seconds).reduce(0, +)
        let row: [String: Any] = ["loss": round4(window.map(\.loss).reduce(0, +) / n), "bits_per_token": round4(bits),
                                  "grad_norm": round4(window.map(\.gradientNorm).reduce(0, +) / n), "lr": last.learningRate,
                                  "tokens_per_second": round4(tokensPerSecond), "elapsed": round4(elapsed)]
        return (row, String(format: "%.3f bits/token, %.0f tokens/s", bits, tokensPerSecond))
    }

    package func validate() throws -> (row: [String: Any], line: String)? {
        guard let validationData else { return nil }
        let e = try trainer.evaluate(validationData, limit: evalWindows)
        return (["val_bits_per_token": round4(e.bitsPerToken), "val_shuffled_bits_per_token": round4(e.shuffledActionBitsPerToken),
                 "val_no_action_bits_per_token": round4(e.noActionBitsPerToken)],
                String(format: "%.3f bits/token (shuffled actions %.3f, no actions %.3f; unigram %.3f, copy-previous %.3f)",
                       e.bitsPerToken, e.shuffledActionBitsPerToken, e.noActionBitsPerToken, e.unigramBitsPerToken, e.copyPreviousBitsPerToken))
    }

    /// The final validation's windows: 4 regular passes' worth.
    var finalWindows: Int { 4 * evalWindows }
    package var finalValidationPasses: Double {
        guard let validationData else { return 0 }
        let available = validationData.windows(length: trainer.model.config.trainingWindow).count
        return Double(min(available, finalWindows)) / Double(max(1, min(available, evalWindows)))
    }

    package func saveCheckpoint(to path: String) throws {
        try PriorCheckpoint.save(trainer.model, source: data.source, trainer: trainer, to: path)
    }

    /// Trains to the end, writes RUN/prior.safetensors and RUN/report.json (with a final
    /// validation on every validation window); returns the report as one JSON line. In a data-
    /// parallel `group`, rank 0 alone writes (and returns the report); the others return nil.
    package static func run(_ settings: Settings, folder: String, resume: Bool, cadence: TrainingCadence,
                            group: ProcessGroup? = nil) throws -> String? {
        let run = try TrainingRun(folder: folder, resume: resume, group: group)
        let job = try PriorTraining(settings, run: run)
        let log = try run.openLog(at: job.step)
        let model = job.trainer.model
        if run.isLeader { FileHandle.standardError.write(Data(("prior: \(model.parameterCount) parameters, \(model.config.layers) layers, width \(model.config.width), context \(model.config.contextFrames) frames, \(job.trainer.windows.count) training windows from \(job.data.clips.count) clips, \(Torch.threads) threads"
            + (group.map { ", rank \($0.rank) of \($0.size)" } ?? "") + "\n").utf8)) }
        let seconds = try run.train(job, cadence: cadence, probeSteps: 10, log: log)
        guard run.isLeader else { return nil }
        try PriorCheckpoint.save(model, source: job.data.source, trainer: nil, metadata: ["steps": String(job.step)],
                                 baselines: job.trainer.baselines, to: folder + "/prior.safetensors")
        var report: [String: Any] = ["prior": folder + "/prior.safetensors", "steps": job.step, "parameters": model.parameterCount,
                                     "training_windows": job.trainer.windows.count, "seconds": round4(seconds)]
        if let validationData = job.validationData {
            let windows = min(validationData.windows(length: job.trainer.model.config.trainingWindow).count, job.finalWindows)
            FileHandle.standardError.write(Data("train prior: final validation on \(windows) windows (report.json)...\n".utf8))
            let e = try job.trainer.evaluate(validationData, limit: job.finalWindows)
            report["validation"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(e))
        }
        return try run.writeReport(report)
    }
}
