import CodeFile
import Foundation

/// Code clips from one tokenizer, with their file names, ready for training or evaluation.
public struct PriorDataset: Sendable {
    /// The clips, in file-name order.
    public let clips: [CodeClip]
    /// The clips' file paths (or labels for in-memory clips), for error messages.
    public let names: [String]
    /// What all clips' codes came from.
    public let source: CodeSource

    /// Clips from one tokenizer. Their action vocabularies are joined by name: the source's action
    /// names are the first clip's, then every name a later clip adds, in order of appearance, and
    /// every clip's ids are renumbered into them (`CodeSource.mapActions`).
    /// - Throws: `PriorError.noClips`, or a mismatch naming the first clip that differs.
    public init(clips: [CodeClip], names: [String]? = nil) throws {
        guard let first = clips.first else { throw PriorError(.noClips) }
        let names = names ?? clips.indices.map { "clip \($0)" }
        precondition(names.count == clips.count, "PriorDataset: \(names.count) names for \(clips.count) clips")
        var source = CodeSource(first)
        if !first.actionNames.isEmpty {
            for clip in clips.dropFirst() {
                for name in clip.actionNames where !source.actionNames.contains(name) { source.actionNames.append(name) }
            }
        }
        self.clips = try zip(clips, names).map { clip, name in
            let mapped = try source.mapActions(of: clip, file: name)
            try source.check(mapped, file: name)
            return mapped
        }
        self.names = names
        self.source = source
    }

    /// The same clips with their actions renumbered into `expected`'s names (a prior's), checked
    /// against it (tokenizer hash, K, grid).
    /// - Throws: `PriorError` naming the first clip that does not fit, or has an action `expected` lacks.
    public func mapped(to expected: CodeSource) throws -> PriorDataset {
        let clips = try zip(clips, names).map { clip, name in
            let mapped = try expected.mapActions(of: clip, file: name)
            try expected.check(mapped, file: name)
            return mapped
        }
        return try PriorDataset(clips: clips, names: names)
    }

    /// Reads code files: each path is a `.codes.safetensors` file or a directory searched
    /// (non-recursively) for them.
    /// - Throws: `CodeFileError` for unreadable files, `PriorError` for mismatches or no files.
    public init(paths: [String]) throws {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PriorError(file: path, .checkpoint("no such file or directory"))
            }
            if isDirectory.boolValue {
                let entries = try FileManager.default.contentsOfDirectory(atPath: path)
                files += entries.filter { $0.hasSuffix(".codes.safetensors") }.sorted()
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0).path }
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else { throw PriorError(file: paths.first, .noClips) }
        try self.init(clips: try files.map { try CodeClip.read(path: $0) }, names: files)
    }

    /// Checks every clip against a prior's source (tokenizer hash, K, grid; action names, after
    /// renumbering by name).
    public func check(against expected: CodeSource) throws { _ = try mapped(to: expected) }

    /// Actions the prior needs: the number of action names, or (unnamed actions) the largest id + 1.
    public var actionCount: Int {
        let maxID = clips.flatMap(\.actions).max() ?? -1
        return max(1, source.actionNames.count, Int(maxID) + 1)
    }

    /// A config for this data with the default transformer shape.
    public func defaultConfig() -> PriorConfig { source.defaultConfig(actionCount: actionCount) }

    /// Total frames.
    public var frameCount: Int { clips.reduce(0) { $0 + $1.frames } }

    /// Every window of `length` frames that stays inside one episode: (clip, start) pairs
    /// such that frames start+1 ..< start+length are not episode starts.
    public func windows(length: Int) -> [Window] {
        var out: [Window] = []
        for (c, clip) in clips.enumerated() where clip.frames >= length {
            // nextStart[t]: the first episode start at or after t (exclusive of frame 0's own start).
            var lastStart = -1  // most recent episode start ≤ t, scanning forward
            for t in 0..<clip.frames {
                if clip.episodeStart[t] { lastStart = t }
                let start = t - length + 1
                if start >= 0 && lastStart <= start { out.append(Window(clip: c, start: start)) }
            }
        }
        return out
    }

    /// A window: `frames` consecutive frames of clip `clip` from `start`.
    public struct Window: Sendable, Equatable, Hashable {
        public var clip: Int
        public var start: Int
    }
}
