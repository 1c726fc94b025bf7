import Foundation

/// A set of clips named on the command line: a directory of videos, a `manifest.json` split
/// (`{"train": [...], "validation": [...]}`, names relative to the manifest's folder, no
/// extension), or single video files.
public struct ClipSet: Sendable {
    /// Video paths, sorted for determinism.
    public var videos: [String]

    public init(videos: [String]) { self.videos = videos }

    /// Video file extensions picked up from directories.
    public static let videoExtensions: Set<String> = ["mp4", "mkv", "webm", "avi", "mov", "gif", "m4v"]

    /// Resolves `path`: a directory (its videos), a manifest (`split`'s clips), or a video file.
    public static func resolve(_ path: String, split: String = "train") throws -> ClipSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MediaError(path, "no such file or directory")
        }
        if isDirectory.boolValue {
            let names = try FileManager.default.contentsOfDirectory(atPath: path)
            let videos = names.filter { videoExtensions.contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
                .sorted().map { (path as NSString).appendingPathComponent($0) }
            guard !videos.isEmpty else { throw MediaError(path, "folder contains no videos (\(videoExtensions.sorted().joined(separator: ", ")))") }
            return ClipSet(videos: videos)
        }
        if path.lowercased().hasSuffix(".json") {
            return try manifest(path, split: split)
        }
        return ClipSet(videos: [path])
    }

    /// The clips of one split of a manifest.
    public static func manifest(_ path: String, split: String) throws -> ClipSet {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw MediaError(path, "not a JSON manifest object")
        }
        guard let names = object[split] as? [String] else {
            throw MediaError(path, "manifest has no '\(split)' list (it has: \(object.keys.sorted().joined(separator: ", ")))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var videos: [String] = []
        for name in names {
            let base = (folder as NSString).appendingPathComponent(name)
            guard let video = videoExtensions.sorted().map({ base + "." + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw MediaError(path, "clip '\(name)' listed in '\(split)' has no video file beside the manifest")
            }
            videos.append(video)
        }
        guard !videos.isEmpty else { throw MediaError(path, "the '\(split)' list is empty") }
        return ClipSet(videos: videos)
    }
}
