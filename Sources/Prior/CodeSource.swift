import CodeFile

/// Where a prior's codes come from: the tokenizer, its codebook and grid, and the action names.
/// Saved in prior checkpoints; code files fed to the prior must match it.
public struct CodeSource: Codable, Sendable, Equatable {
    /// SHA-256 (hex) of the tokenizer checkpoint that made the codes.
    public var tokenizerHash: String
    /// The tokenizer's K.
    public var codebookSize: Int
    /// Code-grid rows per frame.
    public var gridHeight: Int
    /// Code-grid columns per frame.
    public var gridWidth: Int
    /// Names of the action ids (index = id); may be empty for unnamed actions.
    public var actionNames: [String]
    /// Frames per second of the training footage (for writing videos of rollouts).
    public var fps: Double

    public init(tokenizerHash: String, codebookSize: Int, gridHeight: Int, gridWidth: Int, actionNames: [String], fps: Double) {
        self.tokenizerHash = tokenizerHash
        self.codebookSize = codebookSize
        self.gridHeight = gridHeight
        self.gridWidth = gridWidth
        self.actionNames = actionNames
        self.fps = fps
    }

    /// The source a clip's codes came from.
    public init(_ clip: CodeClip) {
        self.init(tokenizerHash: clip.tokenizerHash, codebookSize: clip.codebookSize, gridHeight: clip.gridH,
                  gridWidth: clip.gridW, actionNames: clip.actionNames, fps: clip.fps)
    }

    /// "HxW".
    public var grid: String { "\(gridHeight)x\(gridWidth)" }

    /// Checks that `clip` was made by the same tokenizer (hash, K, grid) with the same action names.
    /// - Throws: `PriorError` naming `file` and the mismatch.
    public func check(_ clip: CodeClip, file: String? = nil) throws {
        if clip.tokenizerHash.lowercased() != tokenizerHash.lowercased() {
            throw PriorError(file: file, .tokenizerMismatch(expected: tokenizerHash, found: clip.tokenizerHash))
        }
        if clip.codebookSize != codebookSize {
            throw PriorError(file: file, .codebookSizeMismatch(expected: codebookSize, found: clip.codebookSize))
        }
        if clip.gridH != gridHeight || clip.gridW != gridWidth {
            throw PriorError(file: file, .gridMismatch(expected: grid, found: "\(clip.gridH)x\(clip.gridW)"))
        }
        if clip.actionNames != actionNames {
            throw PriorError(file: file, .actionNamesMismatch(expected: actionNames, found: clip.actionNames))
        }
    }

    /// Checks that a model of `config` can model these codes.
    public func check(_ config: PriorConfig, file: String? = nil) throws {
        if config.codebookSize != codebookSize {
            throw PriorError(file: file, .codebookSizeMismatch(expected: config.codebookSize, found: codebookSize))
        }
        if config.gridHeight != gridHeight || config.gridWidth != gridWidth {
            throw PriorError(file: file, .gridMismatch(expected: "\(config.gridHeight)x\(config.gridWidth)", found: grid))
        }
        if !actionNames.isEmpty && config.actionCount != actionNames.count {
            throw PriorError(file: file, .invalidConfig("the prior has \(config.actionCount) actions, the codes name \(actionNames.count)"))
        }
    }

    /// `clip` with its action ids renumbered into this source's action names, by name: clips whose
    /// scenarios have other but overlapping action sets use one prior. A clip without names, or
    /// with this source's names, is returned as it is.
    /// - Throws: `PriorError.unknownActionName` (naming `file`) for an action this source lacks.
    public func mapActions(of clip: CodeClip, file: String? = nil) throws -> CodeClip {
        guard !clip.actionNames.isEmpty, clip.actionNames != actionNames else { return clip }
        var ids: [Int32] = []
        for name in clip.actionNames {
            guard let id = actionNames.firstIndex(of: name) else {
                throw PriorError(file: file, .unknownActionName(name, known: actionNames))
            }
            ids.append(Int32(id))
        }
        var mapped = clip
        mapped.actions = try clip.actions.map { old in
            guard old >= 0 else { return old }
            guard Int(old) < ids.count else { throw PriorError(file: file, .actionOutOfRange(id: Int(old), actionCount: ids.count)) }
            return ids[Int(old)]
        }
        mapped.actionNames = actionNames
        return mapped
    }

    /// The id of an action name.
    /// - Throws: `PriorError.unknownActionName` listing the known names.
    public func actionID(_ name: String) throws -> Int {
        guard let id = actionNames.firstIndex(of: name) else {
            throw PriorError(.unknownActionName(name, known: actionNames))
        }
        return id
    }

    /// A config for these codes with the default transformer shape and `actionCount` actions.
    public func defaultConfig(actionCount: Int? = nil) -> PriorConfig {
        var config = PriorConfig()
        config.codebookSize = codebookSize
        config.gridHeight = gridHeight
        config.gridWidth = gridWidth
        config.actionCount = actionCount ?? max(1, actionNames.count)
        return config
    }
}
