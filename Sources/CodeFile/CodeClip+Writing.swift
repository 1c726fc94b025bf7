import Foundation
import SafeTensors

extension CodeClip {
    /// The clip as a safetensors container (tensors `codes`, `actions`, `episode_start`).
    /// - Throws: `CodeFileError` when the clip is inconsistent (see `write(to:)`).
    public func safeTensorsFile() throws -> SafeTensorsFile {
        try makeSafeTensorsFile(file: nil)
    }

    /// Writes the clip to `url` (conventionally `NAME.codes.safetensors`) atomically: on failure
    /// the destination is left as it was.
    /// - Throws: `CodeFileError` naming the file when the clip is inconsistent (array lengths,
    ///   codes ≥ K, action ids out of range, frame 0 not an episode start, bad metadata values)
    ///   or the file cannot be written.
    public func write(to url: URL) throws {
        let container = try makeSafeTensorsFile(file: url.path)
        do {
            try container.write(to: url)
        } catch let error as SafeTensorsError {
            throw CodeFileError(file: url.path, problem: .container(error.problem))
        }
    }

    /// Writes the clip to `path` atomically; see `write(to:)`.
    public func write(path: String) throws {
        try write(to: URL(fileURLWithPath: path))
    }

    func makeSafeTensorsFile(file: String?) throws -> SafeTensorsFile {
        try checkConsistency(file: file)
        typealias Key = CodeFileFormat.Key
        typealias Tensor = CodeFileFormat.Tensor
        var metadata: [String: String] = [
            Key.format: CodeFileFormat.formatTag,
            Key.version: CodeFileFormat.version,
            Key.fps: CodeClip.fpsString(fps),
            Key.source: source,
            Key.sourceBytes: String(sourceBytes),
            Key.frameWidth: String(frameWidth),
            Key.frameHeight: String(frameHeight),
            Key.grid: "\(gridH)x\(gridW)",
            Key.codebookSize: String(codebookSize),
            Key.tokenizerSHA256: tokenizerHash,
            Key.actionNames: try CodeClip.actionNamesJSON(actionNames),
        ]
        if let sourceHash {
            metadata[Key.sourceSHA256] = sourceHash
        }
        if let contextFrames {
            metadata[Key.contextFrames] = String(contextFrames)
        }
        if let sourceStart {
            metadata[Key.sourceStart] = String(sourceStart)
        }
        do {
            let entries = [
                try TensorEntry(name: Tensor.codes, uint16s: codes, shape: [frames, gridH, gridW]),
                try TensorEntry(name: Tensor.actions, int32s: actions, shape: [frames]),
                try TensorEntry(name: Tensor.episodeStart, uint8s: episodeStart.map { $0 ? 1 : 0 }, shape: [frames]),
            ]
            return SafeTensorsFile(entries: entries, metadata: metadata)
        } catch let error as SafeTensorsError {
            throw CodeFileError(file: file, problem: .container(error.problem))
        }
    }

    /// `fps` as a decimal string: integers without a fraction ("15"), others in the shortest
    /// form that reads back exactly ("29.97").
    static func fpsString(_ fps: Double) -> String {
        if fps == fps.rounded(), abs(fps) < 1e15 {
            return String(Int64(fps))
        }
        return "\(fps)"
    }

    /// `names` as a JSON array of strings.
    static func actionNamesJSON(_ names: [String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return String(decoding: try encoder.encode(names), as: UTF8.self)
    }
}
