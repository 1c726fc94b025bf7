import Foundation
import Prior

/// Finds the files framecast ships (the default model, sample clips) whether it runs from the
/// repository root or from anywhere else through its build folder.
enum Shipped {
    /// The default model's folder, relative to the repository.
    static let modelFolder = "Models/default"
    /// The clip `demo` predicts from, relative to the repository.
    static let demoClip = "Clips/my_way_home_s3.mp4"

    /// `path` as given when it exists (or is absolute); otherwise the same relative path under the
    /// first ancestor folder of the executable that has it; otherwise `path` unchanged, so the
    /// error that follows names what was asked for.
    static func locate(_ path: String) -> String {
        let fm = FileManager.default
        if path.hasPrefix("/") || fm.fileExists(atPath: path) { return path }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent(path).path
            if fm.fileExists(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return path
    }
}

/// Sampling defaults of the commands that roll out a prior.
enum PriorDefaults {
    /// Classifier-free action guidance of predict, demo, eval prior and report: w = 2 against the
    /// previous action. Chosen on the Clips/ train split (which the default model never trained on;
    /// 192 windows, shipped prior): true − shuffled ΔPSNR over h = 1…8 1.27 dB sampled / 1.13 greedy
    /// against 1.13 / 0.87 without guidance, with sampled true-action PSNR within −0.04…+0.26 dB of
    /// unguided at h = 1, 2, 4, 8, 12, 16. w = 1.5 gave 1.01 / 0.89, w = 3 1.43 / 1.21 but sampled
    /// PSNR 0.1–0.25 dB lower than w = 2; against the no-action id, w = 2 gave 1.06 / 1.19 with
    /// sampled PSNR up to 0.47 dB lower. While an action is held the twin rows cost nothing.
    static let actionGuidance = 2.0
    /// What guidance's u conditions on.
    static let guidanceBaseline = GuidanceBaseline.previousAction
}
