import CodeFile
import Foundation
import FramecastKit
import NN
import Prior

/// What every `framecast play` session shares, read-only once loaded: the checked tokenizer and
/// prior, the clip the real context comes from, the keys and the sampling settings.
public final class PlayWorld: @unchecked Sendable {
    public let tokenizer: VideoTokenizer
    public let prior: PriorCheckpoint.Loaded
    /// The context clip (its actions mapped to the prior's ids by name).
    public let clip: CodeClip
    /// Its first context frame.
    public let start: Int
    public let keys: PlayKeys
    /// Frames per second of play: the clip's.
    public let fps: Double
    /// Sampling settings of a new session (temperature, top-k, seed).
    public let sampling: SamplingOptions
    /// The clip's path, for messages and the page.
    public let clipPath: String

    /// Loads the pair and encodes the context from `video` at `start`.
    /// - Parameters:
    ///   - keys: `--keys` (nil: `PlayKeys.defaults`).
    /// - Throws: the loaders' errors (naming the file), `PlayError` for keys or a start past the clip's end.
    public init(tokenizer path: String, prior priorPath: String, clip video: String, start: Int, keys: String?,
                sampling: SamplingOptions = Recipe.sampling) throws {
        tokenizer = try VideoTokenizer(path)
        prior = try tokenizer.loadPrior(priorPath)
        let names = prior.source.actionNames
        self.keys = try keys.map { try PlayKeys.parse($0, actionNames: names) } ?? PlayKeys.defaults(for: names)
        let n = prior.model.config.contextFrames
        let encoded = try tokenizer.encode(video: video, limit: start + n)
        guard encoded.frames >= start + n else {
            throw PlayError("\(video): has \(encoded.frames) frames; --start \(start) needs \(start + n) (the prior's \(n) context frames)")
        }
        clip = try prior.source.mapActions(of: encoded, file: video)
        self.start = start
        fps = clip.fps > 0 ? clip.fps : 15
        self.sampling = sampling
        clipPath = video
    }

    /// The prior's action names.
    public var actionNames: [String] { prior.source.actionNames }
    /// Real frames a session starts from.
    public var contextFrames: Int { prior.model.config.contextFrames }
    public var frameWidth: Int { tokenizer.config.frameWidth }
    public var frameHeight: Int { tokenizer.config.frameHeight }

    /// Seconds one session needs per frame (sampling and decoding on one thread), measured on
    /// `frames` frames after a warm-up.
    public func secondsPerFrame(frames: Int = 12) throws -> Double {
        let session = try PlaySession(world: self, seed: sampling.seed)
        for _ in 0..<3 { _ = try session.tick() }
        let started = Date()
        for _ in 0..<frames { _ = try session.tick() }
        return Date().timeIntervalSince(started) / Double(frames)
    }
}
