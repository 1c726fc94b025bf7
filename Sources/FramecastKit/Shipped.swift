import Foundation

/// Finds the files framecast ships (the default model, sample clips) whether it runs from the
/// repository root or from anywhere else through its build folder.
public enum Shipped {
    /// The default model's folder, relative to the repository.
    public static let modelFolder = "Models/default"
    /// The clip `demo` predicts from, relative to the repository.
    public static let demoClip = "Clips/my_way_home_s3.mp4"

    /// `path` as given when it exists (or is absolute); otherwise the same relative path under the
    /// first ancestor folder of the executable that has it; otherwise `path` unchanged, so the
    /// error that follows names what was asked for.
    public static func locate(_ path: String) -> String {
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
