import Foundation
import FramecastKit
import Media
import Prior

/// One player's game: a `Predictor` started from the world's real context, stepped once per tick
/// under the keys held at that moment. Controls (keys, pause, temperature, restart) may be set
/// from any thread; `tick` and `recording` run the model and must not run at the same time as
/// each other (the session's loop calls them in turn).
public final class PlaySession: @unchecked Sendable {
    public let world: PlayWorld
    private let predictor: Predictor
    private let lock = NSLock()
    // Guarded by `lock`: what the page asked for.
    private var held: [String] = []
    private var keysSequence: UInt32 = 0
    private var paused = false
    private var restartAsked = false
    private var temperatureAsked: Double?
    // Touched only by tick / recording (the loop's thread at a time).
    /// The action after each frame since the (re)start: the context's real ones, then the played ones.
    private var actions: [Int32] = []
    /// Frames predicted since the (re)start.
    public private(set) var played = 0

    /// Longest recording: the first this many frames after a (re)start are kept for "record".
    public static let maxRecordedFrames = 9000

    /// A new game from the world's context.
    public init(world: PlayWorld, seed: UInt64) throws {
        self.world = world
        var options = world.sampling
        options.seed = seed
        predictor = try Predictor(tokenizer: world.tokenizer, prior: world.prior, options: options)
        try start()
    }

    /// Starts (again) from the real context; returns its frames as the tokenizer reconstructs them.
    @discardableResult
    private func start() throws -> [[UInt8]] {
        let frames = try predictor.reset(clip: world.clip, start: world.start, frames: world.contextFrames, file: world.clipPath)
        let n = world.contextFrames
        actions = Array(world.clip.actions[world.start..<(world.start + n - 1)])   // the actions between the context frames
        played = 0
        return frames
    }

    /// The context frames (RGB) of the current game.
    public var contextPictures: [[UInt8]] {
        get throws { try world.tokenizer.decodeFrames(Array(predictor.codes.prefix(world.contextFrames).joined())) }
    }

    // MARK: Controls (any thread)

    /// The keys held now (oldest press first) and the page's sequence number of that state.
    /// - Returns: how many of the keys are not bound (ignored).
    @discardableResult
    public func setHeld(_ keys: [String], sequence: UInt32) -> Int {
        let bound = keys.filter(world.keys.binds)
        lock.withLock { (held, keysSequence) = (bound, sequence) }
        return keys.count - bound.count
    }

    public func setPaused(_ on: Bool) { lock.withLock { paused = on } }
    public var isPaused: Bool { lock.withLock { paused } }
    public func restart() { lock.withLock { restartAsked = true } }
    public func setTemperature(_ t: Double) { lock.withLock { temperatureAsked = t } }

    // MARK: The model (the loop's thread)

    /// What one tick produced.
    public enum Tick: Sendable {
        /// The game (re)started: its context frames.
        case restarted([[UInt8]])
        /// A predicted frame (RGB), the action it was predicted under, the frame's number since the
        /// start and the sequence number of the keys it applied.
        case frame(picture: [UInt8], action: Int, index: Int, keys: UInt32)
        /// Paused: nothing.
        case paused
    }

    /// Applies a pending restart or temperature, then predicts one frame under the held keys.
    public func tick() throws -> Tick {
        let (keys, sequence, isPaused, restarting, temperature) = lock.withLock {
            defer { (restartAsked, temperatureAsked) = (false, nil) }
            return (held, keysSequence, paused, restartAsked, temperatureAsked)
        }
        if let temperature { predictor.setTemperature(temperature) }
        if restarting { return .restarted(try start()) }
        if isPaused { return .paused }
        let action = world.keys.action(held: keys)
        let picture = try predictor.step(action: action)
        if played < Self.maxRecordedFrames { actions.append(Int32(action)) }
        played += 1
        return .frame(picture: picture, action: action, index: played, keys: sequence)
    }

    /// The game so far as a recording: an MP4 of the context and the played frames (the action
    /// under each frame, like `predict --mp4`) and its action sidecar (`NAME.actions.csv`).
    /// - Returns: the two files' bytes and the frame count.
    public func recording(scale: Int = 4) throws -> (mp4: Data, csv: Data, frames: Int) {
        let n = world.contextFrames
        let frames = n + min(played, Self.maxRecordedFrames)
        let codes = Array(predictor.codes.prefix(frames).joined())
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("framecast-play-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let names = world.actionNames
        let writer = try SideBySideWriter(path: folder + "/play.mp4", panels: [.init(name: "PLAYED", actions: actions, actionNames: names)],
                                          frameWidth: world.frameWidth, frameHeight: world.frameHeight, fps: world.fps,
                                          contextFrames: n, startIndex: world.start, scale: scale)
        let pictures = try world.tokenizer.decodeFrames(codes)
        for (t, picture) in pictures.enumerated() { try writer.write(t, pictures: [picture]) }
        try writer.finish()
        // Row t: the action taken after frame t; after the last, the one held now (it applies next).
        let next = Int32(world.keys.action(held: lock.withLock { held }))
        let steps = (actions.prefix(frames - 1) + [next]).enumerated().map { ActionTrack.Step(actionID: Int($0.element), episodeStart: $0.offset == 0) }
        try ActionTrack(actionNames: names, steps: steps, settings: ["fps": String(world.fps), "source": "framecast play"]).write(base: folder + "/play")
        return (try Data(contentsOf: URL(fileURLWithPath: folder + "/play.mp4")),
                try Data(contentsOf: URL(fileURLWithPath: folder + "/play.actions.csv")), frames)
    }
}
