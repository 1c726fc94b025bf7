import CodeFile
import Foundation
import NN
import Prior
import VQVAE

/// A tokenizer and a prior checked as a pair, used as an environment (the shape of IRIS's
/// `WorldModelEnv`): `reset` from real frames, then `step` one action at a time, or `rollout` a
/// whole action script. Frames are packed RGB bytes at the tokenizer's frame size
/// (`frameWidth × frameHeight × 3`, row-major).
///
/// ```swift
/// let predictor = try Predictor(tokenizer: "Models/default/tokenizer.safetensors", prior: "Models/default/prior.safetensors")
/// let context = try predictor.reset(video: "Clips/my_way_home_s3.mp4", start: 40)
/// let frame = try predictor.step(action: "MOVE_FORWARD")
/// ```
///
/// The same seed, context and actions give the same frames, and stepping gives exactly the frames
/// of one `rollout` of the same actions. The rollout never has to end: the prior's window slides.
public final class Predictor {
    /// The tokenizer that turns frames into codes and back.
    public let tokenizer: VideoTokenizer
    /// The prior and what it was trained on.
    public let prior: PriorCheckpoint.Loaded
    /// Sampling settings (default: `Recipe.sampling`); a change applies from the next `reset`.
    public var options: SamplingOptions
    private let sampler: PriorSampler
    private var stream: PriorStream?
    /// The codes `[h·w]` of every frame since the last reset: the context, then the predicted frames.
    public private(set) var codes: [[UInt16]] = []

    /// Loads a tokenizer and a prior and checks that the prior was trained on that tokenizer's codes.
    /// - Parameters:
    ///   - threads: compute threads (default: all cores).
    /// - Throws: `CheckpointError` naming the file and the problem (e.g. both hashes for a mismatch).
    public convenience init(tokenizer: String, prior: String, options: SamplingOptions = Recipe.sampling, threads: Int? = nil) throws {
        Torch.setThreads(threads ?? Torch.allCores)
        let tok = try VideoTokenizer(tokenizer)
        try self.init(tokenizer: tok, prior: try tok.loadPrior(prior), options: options)
    }

    /// A predictor from a loaded pair (`VideoTokenizer.loadPrior` checks them).
    public init(tokenizer: VideoTokenizer, prior: PriorCheckpoint.Loaded, options: SamplingOptions = Recipe.sampling) throws {
        guard tokenizer.hash == prior.source.tokenizerHash else {
            throw CheckpointError(tokenizer.path, "is not the tokenizer the prior was trained on (\(prior.source.tokenizerHash.prefix(12))…)")
        }
        self.tokenizer = tokenizer
        self.prior = prior
        self.options = options
        sampler = PriorSampler(model: prior.model, source: prior.source, codeVectors: try tokenizer.model.codeVectors())
    }

    /// The prior's action names; an action id is an index into them.
    public var actionNames: [String] { prior.source.actionNames }
    /// Frames the prior sees: `reset` takes this many real frames by default.
    public var contextFrames: Int { prior.model.config.contextFrames }
    /// Frame size in pixels.
    public var frameWidth: Int { tokenizer.config.frameWidth }
    public var frameHeight: Int { tokenizer.config.frameHeight }

    /// Starts from `frames` real frames of a video (its NAME.actions.csv sidecar gives the actions
    /// between them) from frame `start`.
    /// - Returns: the context frames as the tokenizer reconstructs them.
    @discardableResult
    public func reset(video: String, start: Int = 0, frames: Int? = nil) throws -> [[UInt8]] {
        let n = frames ?? contextFrames
        return try reset(clip: try tokenizer.encode(video: video, limit: start + n), start: start, frames: n, file: video)
    }

    /// Starts from `frames` frames of a code clip (made with this tokenizer) from frame `start`.
    /// - Returns: the context frames as the tokenizer reconstructs them.
    @discardableResult
    public func reset(clip: CodeClip, start: Int = 0, frames: Int? = nil, file: String? = nil) throws -> [[UInt8]] {
        try tokenizer.check(clip, file: file ?? clip.source)
        let clip = try prior.source.mapActions(of: clip, file: file ?? clip.source)     // its actions by name
        let context = try sampler.context(from: clip, start: start, frames: frames ?? contextFrames, file: file)
        stream = try sampler.stream(context: context, options: options)
        let hw = clip.codesPerFrame
        codes = (0..<context.frames).map { Array(context.codes[($0 * hw)..<(($0 + 1) * hw)]) }
        return try tokenizer.decodeFrames(context.codes)
    }

    /// Changes the sampling temperature of the running rollout from its next frame (and of later resets).
    public func setTemperature(_ temperature: Double) {
        options.temperature = temperature
        stream?.temperature = temperature
    }

    /// Predicts the next frame after taking `action` (an id into `actionNames`; −1: no action).
    /// - Throws: `PredictorError` before `reset`; `PriorError` for an id out of range.
    public func step(action: Int) throws -> [UInt8] {
        guard let stream else { throw PredictorError("call reset(video:) or reset(clip:) before step") }
        let next = try stream.next(action: action)
        codes.append(next)
        return try tokenizer.decodeFrames(next)[0]
    }

    /// Predicts the next frame after taking the action named `action`.
    /// - Throws: `PredictorError` for a name the prior does not know (the error lists its names).
    public func step(action: String) throws -> [UInt8] { try step(action: try actionID(action)) }

    /// Predicts one frame per action, in order: the same frames as calling `step` for each (each
    /// frame is decoded alone, as `step` does: the decoder's rounding depends on its batch size).
    public func rollout(actions: [Int]) throws -> [[UInt8]] {
        guard stream != nil else { throw PredictorError("call reset(video:) or reset(clip:) before rollout") }
        return try actions.map { try step(action: $0) }
    }

    /// `rollout` with action names.
    public func rollout(actions: [String]) throws -> [[UInt8]] { try rollout(actions: try actions.map(actionID)) }

    /// The id of an action name. - Throws: `PredictorError` listing the prior's names.
    public func actionID(_ name: String) throws -> Int {
        guard let id = actionNames.firstIndex(of: name) else {
            throw PredictorError("unknown action '\(name)'; the prior's actions are: \(actionNames.joined(separator: ", "))")
        }
        return id
    }
}

/// A misuse of `Predictor`, in words.
public struct PredictorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
