extension CodeClip {
    /// Checks that the clip was made by the given tokenizer.
    ///
    /// Hashes are compared case-insensitively.
    /// - Parameters:
    ///   - tokenizerHash: SHA-256 (hex) of the tokenizer checkpoint about to consume the codes.
    ///   - codebookSize: that tokenizer's K.
    ///   - file: the code file's name, for the error message.
    /// - Throws: `CodeFileError` with `.tokenizerMismatch` or `.codebookSizeMismatch`.
    public func validate(against tokenizerHash: String, codebookSize: Int, file: String? = nil) throws {
        guard self.tokenizerHash.lowercased() == tokenizerHash.lowercased() else {
            throw CodeFileError(file: file, problem: .tokenizerMismatch(fileHash: self.tokenizerHash, givenHash: tokenizerHash))
        }
        guard self.codebookSize == codebookSize else {
            throw CodeFileError(file: file, problem: .codebookSizeMismatch(fileSize: self.codebookSize, givenSize: codebookSize))
        }
    }

    /// Checks the clip's internal consistency: array lengths against frames and grid, codes
    /// below K, action ids in range, episode starts, and sane metadata values.
    func checkConsistency(file: String?) throws {
        func fail(_ problem: CodeFileError.Problem) -> CodeFileError {
            CodeFileError(file: file, problem: problem)
        }
        func invalid(_ key: String, _ value: String, _ expected: String) -> CodeFileError {
            fail(.invalidMetadata(key: key, value: value, expected: expected))
        }
        typealias Key = CodeFileFormat.Key
        guard frames > 0 else { throw fail(.noFrames) }
        guard gridH > 0, gridW > 0 else { throw invalid(Key.grid, "\(gridH)x\(gridW)", "positive grid dimensions") }
        let (perFrame, overflow1) = gridH.multipliedReportingOverflow(by: gridW)
        let (total, overflow2) = perFrame.multipliedReportingOverflow(by: frames)
        guard !overflow1, !overflow2, total == codes.count else {
            throw fail(.codeCountMismatch(count: codes.count, frames: frames, gridH: gridH, gridW: gridW))
        }
        guard actions.count == frames else {
            throw fail(.frameCountMismatch(name: CodeFileFormat.Tensor.actions, count: actions.count, frames: frames))
        }
        guard episodeStart.count == frames else {
            throw fail(.frameCountMismatch(name: CodeFileFormat.Tensor.episodeStart, count: episodeStart.count, frames: frames))
        }
        guard fps.isFinite, fps > 0 else { throw invalid(Key.fps, "\(fps)", "a positive number") }
        guard frameWidth > 0 else { throw invalid(Key.frameWidth, "\(frameWidth)", "a positive integer") }
        guard frameHeight > 0 else { throw invalid(Key.frameHeight, "\(frameHeight)", "a positive integer") }
        guard sourceBytes >= 0 else { throw invalid(Key.sourceBytes, "\(sourceBytes)", "a non-negative integer") }
        guard (1...CodeFileFormat.maxCodebookSize).contains(codebookSize) else {
            throw invalid(Key.codebookSize, "\(codebookSize)", "an integer from 1 to \(CodeFileFormat.maxCodebookSize)")
        }
        guard !tokenizerHash.isEmpty else { throw invalid(Key.tokenizerSHA256, "", "a non-empty hash") }

        if let index = codes.firstIndex(where: { Int($0) >= codebookSize }) {
            throw fail(.codeOutOfRange(code: Int(codes[index]), frame: index / perFrame, codebookSize: codebookSize))
        }
        let upper = actionNames.isEmpty ? Int(Int32.max) : actionNames.count - 1
        if let frame = actions.firstIndex(where: { $0 < -1 || Int($0) > upper }) {
            throw fail(.actionOutOfRange(action: Int(actions[frame]), frame: frame, actionCount: actionNames.count))
        }
        guard episodeStart[0] else { throw fail(.firstFrameNotEpisodeStart) }
    }
}
