/// An error from the prior: bad inputs, mismatched code files, unusable checkpoints.
/// `description` names the file (when there is one) and the problem.
public struct PriorError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Problem: Sendable, Equatable {
        /// An action name that is not one of the prior's action names.
        case unknownActionName(String, known: [String])
        /// An action id outside −1 ..< actionCount.
        case actionOutOfRange(id: Int, actionCount: Int)
        /// More context frames were asked for than the clip has from `start`.
        case contextTooLong(start: Int, frames: Int, clipFrames: Int)
        /// Empty context, wrong code count, or codes ≥ K.
        case invalidContext(String)
        /// The codes were made by a different tokenizer than the prior's.
        case tokenizerMismatch(expected: String, found: String)
        /// The codes' codebook size differs from the prior's K.
        case codebookSizeMismatch(expected: Int, found: Int)
        /// The codes' grid differs from the prior's.
        case gridMismatch(expected: String, found: String)
        /// The clips' action names differ from the prior's.
        case actionNamesMismatch(expected: [String], found: [String])
        /// No window of this many frames (training or context frames) fits without crossing an episode start.
        case noWindows(frames: Int)
        /// No code files were found or given.
        case noClips
        /// The configuration is unusable.
        case invalidConfig(String)
        /// Sampling settings are unusable.
        case invalidSampling(String)
        /// A checkpoint is missing, unreadable or not a prior checkpoint.
        case checkpoint(String)
        /// Data-parallel training cannot go on (a batch that does not split, a process that stopped).
        case dataParallel(String)
    }

    /// The file involved, if any.
    public let file: String?
    public let problem: Problem

    public init(file: String? = nil, _ problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String { (file.map { "\($0): " } ?? "") + problem.message }
}

extension PriorError.Problem {
    var message: String {
        switch self {
        case .unknownActionName(let name, let known):
            return "unknown action name '\(name)' (the prior knows \(known.isEmpty ? "no action names" : known.joined(separator: ", ")))"
        case .actionOutOfRange(let id, let count):
            return "action id \(id) is out of range: the prior has \(count) actions (ids 0..<\(count), or −1 for unknown)"
        case .contextTooLong(let start, let frames, let clipFrames):
            return "context of \(frames) frames from frame \(start) is longer than the clip (\(clipFrames) frames)"
        case .invalidContext(let why):
            return "invalid context: \(why)"
        case .tokenizerMismatch(let expected, let found):
            return "codes were made by tokenizer \(short(found)), but the prior was trained on codes of tokenizer \(short(expected))"
        case .codebookSizeMismatch(let expected, let found):
            return "codes use a codebook of \(found) codes, but the prior models K = \(expected)"
        case .gridMismatch(let expected, let found):
            return "codes have a \(found) grid, but the prior models \(expected) grids"
        case .actionNamesMismatch(let expected, let found):
            return "action names \(found) differ from the prior's \(expected)"
        case .noWindows(let c):
            return "no window of \(c) consecutive frames without an episode start inside; use longer clips or fewer context (or training) frames"
        case .noClips:
            return "no code files (*.codes.safetensors)"
        case .invalidConfig(let why):
            return "invalid prior configuration: \(why)"
        case .invalidSampling(let why):
            return "invalid sampling settings: \(why)"
        case .checkpoint(let why):
            return why
        case .dataParallel(let why):
            return "data-parallel training: \(why)"
        }
    }
}

private func short(_ hash: String) -> String { hash.count > 12 ? String(hash.prefix(12)) + "…" : hash }
