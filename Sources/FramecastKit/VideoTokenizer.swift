import CodeFile
import Foundation
import Media
import Prior
import SafeTensors
import VQVAE

/// A per-frame VQ-VAE tokenizer loaded from a checkpoint: video ⇄ code clip. `hash` is what code
/// files and priors record (the content hash, or for tokenizers made by the since-removed
/// decoder-only retraining, the parent's).
public struct VideoTokenizer {
    public let model: VQVAE
    public let hash: String
    public let path: String

    /// Loads the tokenizer checkpoint at `path`.
    /// - Throws: `CheckpointError` naming the file and the problem.
    public init(_ path: String) throws {
        let (model, metadata, _) = try TokenizerCheckpoint.load(path)
        self.init(model: model, hash: try TokenizerCheckpoint.codesHash(model, metadata: metadata), path: path)
    }

    /// An in-memory model (e.g. a fresh one for benchmarks); `path` only names it.
    package init(model: VQVAE, path: String) throws {
        self.init(model: model, hash: try TokenizerCheckpoint.contentHash(model), path: path)
    }

    private init(model: VQVAE, hash: String, path: String) {
        self.model = model
        self.hash = hash
        self.path = path
    }

    public var config: VQVAEConfig { model.config }

    /// How videos of another aspect ratio become this tokenizer's frames (its config's `fit`).
    public var fit: FitMode { config.fitMode }

    /// A reader of `video`'s frames at this tokenizer's size and fit. A tokenizer trained with
    /// `--fit crop` says once per process when it cuts more than 5% of a frame away; one that
    /// predates the field (the one shipped until 2026-12-07) crops silently, as it always did.
    public func reader(_ video: String) throws -> VideoReader {
        let reader = try VideoReader(path: video, size: (config.frameWidth, config.frameHeight), fit: fit)
        if config.fit != nil { CropWarning.check(reader, what: "tokenizer \(path)") }
        return reader
    }

    /// Checks that `clip` (read from `file`) holds this tokenizer's codes.
    /// - Throws: `CodeFileError` naming the file and both hashes, or the codebook sizes.
    public func check(_ clip: CodeClip, file: String) throws {
        try clip.validate(against: hash, codebookSize: config.codebookSize, file: file)
    }

    /// Encodes a video (streaming, in batches) into a code clip with its sidecar's actions; with
    /// `limit`, only its first `limit` frames are encoded (the sidecar must still have a row for
    /// every frame of the video). `frames`, when given, sees each batch of decoded frames (packed
    /// RGB at the tokenizer's size) before it is encoded.
    public func encode(video: String, batch: Int = 64, limit: Int? = nil, frames seen: (([UInt8]) -> Void)? = nil) throws -> CodeClip {
        let c = config
        let reader = try self.reader(video)
        let track = try ActionTrack.load(forVideo: video)
        let batches = ReadAheadBatches(reader, batch: batch, limit: limit)
        var codes: [UInt16] = []
        while case let frames = try batches.next(), !frames.isEmpty {
            seen?(frames)
            codes += try model.encode(frames: frames, count: frames.count / (c.frameWidth * c.frameHeight * 3))
        }
        let count = batches.framesRead
        guard count > 0 else { throw MediaError(video, "contains no decodable frames") }
        var actions = [Int32](repeating: -1, count: count)
        var starts = [Bool](repeating: false, count: count)
        starts[0] = true
        var names: [String] = []
        if let track {
            let csv = ActionTrack.sidecarPaths(forVideo: video).csv
            // One row per frame of the whole video, as probe and encode require: with a limit, the
            // rest of the video is counted (decoded, not converted).
            let total = count == limit ? try VideoReader(path: video).countRemaining() : count
            try track.validate(frameCount: total, video: video, csv: csv)
            actions = track.steps.prefix(count).map { Int32($0.actionID) }
            starts = track.steps.prefix(count).map(\.episodeStart)
            starts[0] = true
            names = track.actionNames
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: video)[.size] as? NSNumber)?.intValue ?? 0
        return CodeClip(codes: codes, frames: count, gridH: c.gridHeight, gridW: c.gridWidth, actions: actions,
                        episodeStart: starts, fps: reader.info.fps > 0 ? reader.info.fps : (track?.fps ?? 15),
                        frameWidth: c.frameWidth, frameHeight: c.frameHeight, codebookSize: c.codebookSize,
                        tokenizerHash: hash, source: video, sourceBytes: size,
                        sourceHash: try SHA256.hex(fileAt: video), actionNames: names)
    }

    /// Decodes a code clip's frames in batches, handing each frame to `body`.
    public func decode(_ clip: CodeClip, batch: Int = 64, _ body: ([UInt8]) throws -> Void) throws {
        let n = clip.codesPerFrame
        for start in stride(from: 0, to: clip.frames, by: batch) {
            let count = min(batch, clip.frames - start)
            for frame in try decodeFrames(Array(clip.codes[(start * n)..<((start + count) * n)]), batch: batch) { try body(frame) }
        }
    }

    /// The frames (packed RGB each) of code grids given row-major, decoded `batch` at a time.
    public func decodeFrames(_ codes: [UInt16], batch: Int = 64) throws -> [[UInt8]] {
        let n = config.gridWidth * config.gridHeight, frameBytes = config.frameWidth * config.frameHeight * 3
        let frames = codes.count / n
        var out: [[UInt8]] = []
        out.reserveCapacity(frames)
        for start in stride(from: 0, to: frames, by: batch) {
            let count = min(batch, frames - start)
            let pixels = try model.decode(codes: Array(codes[(start * n)..<((start + count) * n)]), count: count)
            for i in 0..<count { out.append(Array(pixels[(i * frameBytes)..<((i + 1) * frameBytes)])) }
        }
        return out
    }
}

extension VideoTokenizer {
    /// Loads the prior at `path` and checks it was trained on this tokenizer's codes.
    /// - Throws: `CheckpointError` naming both hashes when it was not.
    public func loadPrior(_ path: String) throws -> PriorCheckpoint.Loaded {
        let loaded = try PriorCheckpoint.load(path)
        guard hash == loaded.source.tokenizerHash else {
            throw CheckpointError(path, "was trained on codes of tokenizer \(loaded.source.tokenizerHash.prefix(12))…, but the tokenizer \(self.path) is \(hash.prefix(12))…")
        }
        return loaded
    }
}

extension VQVAEConfig {
    /// `fit` as a `FitMode` ("crop" when the config predates the field).
    public var fitMode: FitMode { fit.flatMap(FitMode.init(rawValue:)) ?? .crop }
}

/// Says once per process when a crop cuts a large share of the frames away.
package enum CropWarning {
    nonisolated(unsafe) private static var warned = false
    private static let lock = NSLock()

    /// Writes a warning to stderr the first time `reader`'s crop cuts more than 5% of a frame.
    package static func check(_ reader: VideoReader, what: String) {
        let cut = reader.cutFraction
        guard cut > 0.05 else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !warned else { return }
        warned = true
        let info = reader.info
        FileHandle.standardError.write(Data(String(format: "warning: %@: %@ crops its %dx%d frames to %dx%d, cutting %.0f%% of each frame away; a tokenizer trained with --fit stretch or --fit pad keeps the whole frame\n",
                                                   reader.path, what, info.width, info.height, reader.outputWidth, reader.outputHeight, cut * 100).utf8))
    }
}
