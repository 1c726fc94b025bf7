import Foundation
import SafeTensors

extension CodeClip {
    /// Reads and validates the code file at `url`.
    /// - Throws: `CodeFileError` naming the file and the problem: unreadable or corrupt
    ///   container, wrong format tag or version, missing tensor, wrong dtype or shape, frame counts
    ///   that disagree, grid metadata that disagrees with the codes, codes ≥ K, action ids out of
    ///   range, malformed metadata.
    public static func read(from url: URL) throws -> CodeClip {
        let container: SafeTensorsFile
        do {
            container = try SafeTensorsFile.read(from: url)
        } catch let error as SafeTensorsError {
            throw CodeFileError(file: url.path, problem: .container(error.problem))
        }
        return try CodeClip(safeTensors: container, fileName: url.path)
    }

    /// Reads and validates the code file at `path`; see `read(from:)`.
    public static func read(path: String) throws -> CodeClip {
        try read(from: URL(fileURLWithPath: path))
    }

    /// Decodes and validates a clip from a safetensors container.
    /// - Parameter fileName: the name used in error messages.
    /// - Throws: `CodeFileError`; see `read(from:)`.
    public init(safeTensors container: SafeTensorsFile, fileName: String? = nil) throws {
        func fail(_ problem: CodeFileError.Problem) -> CodeFileError {
            CodeFileError(file: fileName, problem: problem)
        }
        typealias Key = CodeFileFormat.Key
        typealias Tensor = CodeFileFormat.Tensor
        let metadata = container.metadata
        guard metadata[Key.format] == CodeFileFormat.formatTag else {
            throw fail(.wrongFormat(found: metadata[Key.format]))
        }
        guard metadata[Key.version] == CodeFileFormat.version else {
            throw fail(.unsupportedVersion(found: metadata[Key.version]))
        }

        func tensor(_ name: String, _ dtype: DType, rank: Int) throws -> TensorEntry {
            guard let entry = container[name] else { throw fail(.missingTensor(name: name)) }
            guard entry.dtype == dtype else { throw fail(.wrongDType(tensor: name, expected: dtype, found: entry.dtype)) }
            guard entry.shape.count == rank else { throw fail(.wrongRank(tensor: name, expectedRank: rank, shape: entry.shape)) }
            return entry
        }
        let codesEntry = try tensor(Tensor.codes, .u16, rank: 3)
        let actionsEntry = try tensor(Tensor.actions, .i32, rank: 1)
        let episodeEntry = try tensor(Tensor.episodeStart, .u8, rank: 1)
        let frames = codesEntry.shape[0]
        guard frames > 0 else { throw fail(.noFrames) }
        guard actionsEntry.shape[0] == frames else {
            throw fail(.frameCountMismatch(name: Tensor.actions, count: actionsEntry.shape[0], frames: frames))
        }
        guard episodeEntry.shape[0] == frames else {
            throw fail(.frameCountMismatch(name: Tensor.episodeStart, count: episodeEntry.shape[0], frames: frames))
        }

        func string(_ key: String) throws -> String {
            guard let value = metadata[key] else { throw fail(.missingMetadata(key: key)) }
            return value
        }
        func integer(_ key: String, minimum: Int) throws -> Int {
            let text = try string(key)
            guard let value = Int(text), value >= minimum else {
                let expected = minimum == 0 ? "a non-negative integer" : "an integer ≥ \(minimum)"
                throw fail(.invalidMetadata(key: key, value: text, expected: expected))
            }
            return value
        }
        let fpsText = try string(Key.fps)
        guard let fps = Double(fpsText), fps.isFinite, fps > 0 else {
            throw fail(.invalidMetadata(key: Key.fps, value: fpsText, expected: "a positive decimal number"))
        }
        let codebookSize = try integer(Key.codebookSize, minimum: 1)
        guard codebookSize <= CodeFileFormat.maxCodebookSize else {
            throw fail(.invalidMetadata(key: Key.codebookSize, value: String(codebookSize),
                                        expected: "at most \(CodeFileFormat.maxCodebookSize) (codes are U16)"))
        }
        let grid = try string(Key.grid)
        guard let (gridH, gridW) = CodeClip.parseGrid(grid) else {
            throw fail(.invalidMetadata(key: Key.grid, value: grid, expected: "HxW, e.g. 8x8"))
        }
        guard codesEntry.shape[1] == gridH, codesEntry.shape[2] == gridW else {
            throw fail(.gridMismatch(grid: grid, codesShape: codesEntry.shape))
        }
        let namesText = try string(Key.actionNames)
        guard let actionNames = try? JSONDecoder().decode([String].self, from: Data(namesText.utf8)) else {
            throw fail(.invalidMetadata(key: Key.actionNames, value: namesText, expected: "a JSON array of strings"))
        }

        let episodeBytes = try episodeEntry.uint8s()
        if let frame = episodeBytes.firstIndex(where: { $0 > 1 }) {
            throw fail(.invalidEpisodeStart(value: Int(episodeBytes[frame]), frame: frame))
        }

        self.init(
            codes: try codesEntry.uint16s(), frames: frames, gridH: gridH, gridW: gridW,
            actions: try actionsEntry.int32s(), episodeStart: episodeBytes.map { $0 == 1 },
            fps: fps,
            frameWidth: try integer(Key.frameWidth, minimum: 1),
            frameHeight: try integer(Key.frameHeight, minimum: 1),
            codebookSize: codebookSize,
            tokenizerHash: try string(Key.tokenizerSHA256),
            source: try string(Key.source),
            sourceBytes: try integer(Key.sourceBytes, minimum: 0),
            sourceHash: metadata[Key.sourceSHA256],
            actionNames: actionNames,
            contextFrames: try metadata[Key.contextFrames].map { _ in try integer(Key.contextFrames, minimum: 0) },
            sourceStart: try metadata[Key.sourceStart].map { _ in try integer(Key.sourceStart, minimum: 0) }
        )
        try checkConsistency(file: fileName)
    }

    /// Parses `"HxW"` into positive (H, W).
    static func parseGrid(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]), height > 0, width > 0 else {
            return nil
        }
        return (height, width)
    }
}
