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
    /// Classifier-free action guidance of predict, demo, eval prior and report: off. On the Clips/
    /// train split (which the default model never trained on; 96 windows) w = 2 moved the greedy
    /// true-vs-shuffled gap by +0.17 dB and the sampled one by −0.03 dB, lowered true-action PSNR by
    /// 0.2–0.3 dB at h ≥ 4, and halves sampling speed (two rows per sample): not worth it by default.
    static let actionGuidance = 1.0
    /// What guidance's u conditions on when it is on.
    static let guidanceBaseline = GuidanceBaseline.noAction
}
