import Foundation
import Media
import NN
import VQVAE

/// `train tokenizer` as a library call: the per-frame VQ-VAE trained on the frames of clips.
package final class TokenizerTraining: TrainingJob {
    /// What a new run is made of; `Recipe` gives every default.
    package struct Settings {
        /// Training clips: a folder of videos, a manifest.json (its "train" split) or a video.
        package var clips: String?
        /// Validation clips (default: the clips manifest's "validation" split).
        package var validation: String?
        package var config = Recipe.tokenizer
        package var options = Recipe.tokenizerTraining
        /// Start from this tokenizer checkpoint's weights and shape.
        package var initFrom: String?
        /// Validation frames per evaluation during training (evenly spaced).
        package var evalFrames = Recipe.tokenizerEvalFrames
        package init() {}
    }

    package let label = "train tokenizer"
    package let trainer: TokenizerTrainer
    package let validationFrames: FrameBank?
    private let evalFrames: Int
    private var window: [TokenizerStepStats] = []

    package init(_ settings: Settings, run: TrainingRun) throws {
        let sources = try run.sources(["clips": settings.clips.map { [$0] } ?? [], "validation": settings.validation.map { [$0] } ?? []])
        guard let clips = sources["clips"]?.first else { throw CheckpointError(run.folder, "no training clips (--clips) given or recorded in run.json") }
        // A manifest holds its own validation split.
        let validation = sources["validation"]?.first ?? (clips.hasSuffix(".json") ? clips : nil)
        let initial = try settings.initFrom.map { try TokenizerCheckpoint.load($0) }
        initial?.model.setFit(settings.config.fit)   // the fit asked for (the recipe's by default), not the initial tokenizer's
        let config = run.resume ? try TokenizerCheckpoint.config(of: run.checkpoint) : initial?.model.config ?? settings.config
        let trainSet = try ClipSet.resolve(clips, split: "train")
        let validationSet = try validation.map { try ClipSet.resolve($0, split: "validation") }
        if let validationSet {
            let overlap = Set(trainSet.videos.map { URL(fileURLWithPath: $0).standardized.path })
                .intersection(validationSet.videos.map { URL(fileURLWithPath: $0).standardized.path })
            guard overlap.isEmpty else { throw MediaError(validation ?? "", "validation clips are also training clips: \(overlap.sorted().joined(separator: ", "))") }
        }
        let data = try loadFrames(trainSet, config: config, label: "training clips")
        if run.resume {
            trainer = try TokenizerCheckpoint.resume(run.checkpoint, data: data).trainer
        } else {
            Torch.manualSeed(settings.options.seed)
            trainer = try TokenizerTrainer(model: try initial?.model ?? VQVAE(config: config), options: settings.options, data: data)
        }
        // Rank 0 alone validates (the others never read the validation clips).
        validationFrames = try run.isLeader ? validationSet.map { try loadFrames($0, config: config, label: "validation clips") } : nil
        evalFrames = settings.evalFrames
        if let group = run.group { try trainer.join(group) }
    }

    package var stepper: any StepTrainer { trainer }
    package func advance() throws { window.append(try finiteStep(trainer.trainStep())) }

    package func logRow(elapsed: Double) -> (row: [String: Any], progress: String) {
        defer { window.removeAll() }
        guard let last = window.last else { return ([:], "") }
        let n = Double(window.count)
        let loss = window.map(\.loss).reduce(0, +) / n
        let framesPerSecond = Double(window.count * trainer.options.batch) / window.map(\.seconds).reduce(0, +)
        let row: [String: Any] = [
            "loss": round4(loss), "mse": round4(window.map(\.reconstructionMSE).reduce(0, +) / n),
            "psnr": round4(last.psnr), "edge": round4(window.map(\.edge).reduce(0, +) / n),
            "commitment": round4(window.map(\.commitment).reduce(0, +) / n),
            "batch_codes": last.batchCodes, "restarted": window.map(\.restarted).reduce(0, +),
            "lr": last.learningRate, "frames_per_second": round4(framesPerSecond), "elapsed": round4(elapsed),
        ]
        return (row, String(format: "loss %.4f, PSNR %.2f dB, %d codes/batch, %.0f frames/s", loss, last.psnr, last.batchCodes, framesPerSecond))
    }

    package func validate() throws -> (row: [String: Any], line: String)? {
        guard let validationFrames else { return nil }
        let e = try trainer.model.evaluate(validationFrames, limit: evalFrames)
        return (["val_psnr": round4(e.psnr), "val_ssim": round4(e.ssim), "val_sharpness": round4(e.sharpness),
                 "val_usage": round4(e.usage), "val_perplexity": round4(e.perplexity)],
                String(format: "PSNR %.2f dB, SSIM %.3f, sharpness %.3f, %d/%d codes, perplexity %.1f",
                       e.psnr, e.ssim, e.sharpness, e.codesUsed, e.codebookSize, e.perplexity))
    }

    /// The final validation's frames: 4 regular passes' worth.
    var finalFrames: Int { 4 * evalFrames }
    package var finalValidationPasses: Double {
        guard let validationFrames else { return 0 }
        return Double(min(validationFrames.count, finalFrames)) / Double(max(1, min(validationFrames.count, evalFrames)))
    }

    package func saveCheckpoint(to path: String) throws {
        try TokenizerCheckpoint.save(trainer.model, trainer: trainer, to: path)
    }

    /// Trains to the end, writes RUN/tokenizer.safetensors and RUN/report.json (validation on
    /// every validation frame); returns the report as one JSON line.
    /// In a data-parallel `group`, rank 0 alone writes (and returns the report); the others return nil.
    package static func run(_ settings: Settings, folder: String, resume: Bool, cadence: TrainingCadence,
                            group: ProcessGroup? = nil) throws -> String? {
        let run = try TrainingRun(folder: folder, resume: resume, group: group)
        let job = try TokenizerTraining(settings, run: run)
        let log = try run.openLog(at: job.step)
        let model = job.trainer.model, config = model.config
        if run.isLeader {
            FileHandle.standardError.write(Data(("tokenizer: \(model.parameterCount) parameters, grid \(config.gridWidth)x\(config.gridHeight), K=\(config.codebookSize), D=\(config.codeDim), \(Torch.threads) threads"
                + (group.map { ", rank \($0.rank) of \($0.size)" } ?? "") + "\n").utf8))
        }
        if job.trainer.options.bfloat16Convolutions, run.isLeader {
            let note = CPUFlags.bfloat16Support.map { "convolutions in bfloat16 (this CPU has \($0))" }
                ?? "warning: convolutions in bfloat16, but this CPU has neither AMX nor AVX512-BF16: expect them slower than float32"
            FileHandle.standardError.write(Data("tokenizer: \(note)\n".utf8))
        }
        let seconds = try run.train(job, cadence: cadence, probeSteps: 20, log: log)
        guard run.isLeader else { return nil }
        let hash = try TokenizerCheckpoint.contentHash(model)
        try TokenizerCheckpoint.save(model, metadata: ["steps": String(job.step)], to: folder + "/tokenizer.safetensors")
        var report: [String: Any] = ["tokenizer": folder + "/tokenizer.safetensors", "tokenizer_sha256": hash, "codes_hash": hash,
                                     "steps": job.step, "parameters": model.parameterCount,
                                     "train_frames": job.trainer.trainingFrames, "seconds": round4(seconds)]
        if let frames = job.validationFrames {
            let count = min(frames.count, job.finalFrames)
            FileHandle.standardError.write(Data("train tokenizer: final validation on \(count) frames (report.json)...\n".utf8))
            report["validation"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try model.evaluate(frames, limit: count)))
        }
        return try run.writeReport(report)
    }
}
