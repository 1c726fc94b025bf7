import SafeTensors

/// An error reading, writing or checking a code file.
///
/// `description` names the file (when known) and the problem, e.g.
/// `run/clip.codes.safetensors: code 600 at frame 3 is out of range for codebook size 512`.
public struct CodeFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Problem: Sendable, Equatable {
        /// The safetensors container itself is unreadable, corrupt or unwritable.
        case container(SafeTensorsError.Problem)
        /// The `format` metadata is missing or not `framecast-codes`.
        case wrongFormat(found: String?)
        /// The `version` metadata is missing or not one this build reads.
        case unsupportedVersion(found: String?)
        /// A required tensor is absent.
        case missingTensor(name: String)
        /// A tensor has the wrong dtype.
        case wrongDType(tensor: String, expected: DType, found: DType)
        /// A tensor has the wrong number of dimensions.
        case wrongRank(tensor: String, expectedRank: Int, shape: [Int])
        /// A per-frame array's length differs from the number of frames.
        case frameCountMismatch(name: String, count: Int, frames: Int)
        /// The codes array's length differs from frames × gridH × gridW.
        case codeCountMismatch(count: Int, frames: Int, gridH: Int, gridW: Int)
        /// The clip has no frames.
        case noFrames
        /// A required metadata key is absent.
        case missingMetadata(key: String)
        /// A metadata value is malformed.
        case invalidMetadata(key: String, value: String, expected: String)
        /// The `grid` metadata disagrees with the codes tensor's shape.
        case gridMismatch(grid: String, codesShape: [Int])
        /// A code index is not below the codebook size.
        case codeOutOfRange(code: Int, frame: Int, codebookSize: Int)
        /// An action id is below −1, or not a valid index into the action names.
        case actionOutOfRange(action: Int, frame: Int, actionCount: Int)
        /// An `episode_start` value is neither 0 nor 1.
        case invalidEpisodeStart(value: Int, frame: Int)
        /// Frame 0 is not marked as an episode start.
        case firstFrameNotEpisodeStart
        /// The codes were made by a different tokenizer than the one given.
        case tokenizerMismatch(fileHash: String, givenHash: String)
        /// The codes' codebook size differs from the given tokenizer's.
        case codebookSizeMismatch(fileSize: Int, givenSize: Int)
    }

    /// The file involved, or `nil` for in-memory data.
    public let file: String?
    /// What went wrong.
    public let problem: Problem

    /// Creates an error about `file` (or about in-memory data when `nil`).
    public init(file: String?, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        if case .container(let inner) = problem {
            return SafeTensorsError(file: file, problem: inner).description
        }
        let prefix = file.map { "\($0): " } ?? ""
        return prefix + problem.message
    }
}

extension CodeFileError.Problem {
    var message: String {
        switch self {
        case .container(let inner):
            return SafeTensorsError(file: nil, problem: inner).description
        case .wrongFormat(let found):
            return "not a framecast code file (format is \(quoted(found)), expected '\(CodeFileFormat.formatTag)')"
        case .unsupportedVersion(let found):
            return "unsupported code-file version \(quoted(found)) (this build reads version \(CodeFileFormat.version))"
        case .missingTensor(let name):
            return "missing tensor '\(name)'"
        case .wrongDType(let tensor, let expected, let found):
            return "tensor '\(tensor)' has dtype \(found.rawValue), expected \(expected.rawValue)"
        case .wrongRank(let tensor, let rank, let shape):
            return "tensor '\(tensor)' has shape \(shape), expected \(rank) dimension\(rank == 1 ? "" : "s")"
        case .frameCountMismatch(let name, let count, let frames):
            return "'\(name)' has \(count) entries but codes have \(frames) frames"
        case .codeCountMismatch(let count, let frames, let gridH, let gridW):
            return "\(count) codes do not fill \(frames) frames of \(gridH)x\(gridW)"
        case .noFrames:
            return "the clip has no frames"
        case .missingMetadata(let key):
            return "missing metadata '\(key)'"
        case .invalidMetadata(let key, let value, let expected):
            return "metadata '\(key)' is '\(value)', expected \(expected)"
        case .gridMismatch(let grid, let shape):
            return "metadata grid '\(grid)' disagrees with codes shape \(shape)"
        case .codeOutOfRange(let code, let frame, let codebookSize):
            return "code \(code) at frame \(frame) is out of range for codebook size \(codebookSize)"
        case .actionOutOfRange(let action, let frame, let count):
            return count > 0
                ? "action id \(action) at frame \(frame) is out of range for \(count) action names (−1 means unknown)"
                : "action id \(action) at frame \(frame) is invalid (ids are ≥ 0, or −1 for unknown)"
        case .invalidEpisodeStart(let value, let frame):
            return "episode_start at frame \(frame) is \(value), expected 0 or 1"
        case .firstFrameNotEpisodeStart:
            return "episode_start at frame 0 must be 1"
        case .tokenizerMismatch(let fileHash, let givenHash):
            return "codes were made by tokenizer \(abbreviated(fileHash)), but the given tokenizer is "
                + "\(abbreviated(givenHash)); re-encode the clip with the given tokenizer"
        case .codebookSizeMismatch(let fileSize, let givenSize):
            return "codes use a codebook of \(fileSize) codes, but the given tokenizer has \(givenSize)"
        }
    }
}

/// `'value'`, or `missing` for nil.
private func quoted(_ value: String?) -> String {
    value.map { "'\($0)'" } ?? "missing"
}

/// The first 12 characters of a hash followed by an ellipsis, or the whole hash if short.
private func abbreviated(_ hash: String) -> String {
    hash.count > 12 ? String(hash.prefix(12)) + "…" : hash
}
