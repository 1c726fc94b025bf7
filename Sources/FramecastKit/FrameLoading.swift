import FileOutput
import Foundation
import Media
import VQVAE

/// Reads every frame of `clips` at a tokenizer config's size and fit into memory.
package func loadFrames(_ clips: ClipSet, config: VQVAEConfig, label: String) throws -> FrameBank {
    var bank = FrameBank(width: config.frameWidth, height: config.frameHeight)
    let progress = ProgressReporter("loading \(label)", total: clips.videos.count, unit: "clips")
    for (i, video) in clips.videos.enumerated() {
        let reader = try VideoReader(path: video, size: (config.frameWidth, config.frameHeight), fit: config.fitMode)
        CropWarning.check(reader, what: "--fit crop")
        while let frame = try reader.next() { bank.append(frame.rgb) }
        progress.update(i + 1, extra: "\(bank.count) frames")
    }
    progress.finish(clips.videos.count, extra: "\(bank.count) frames")
    return bank
}

/// Appends one JSON object per line to a log file.
package final class JSONLinesLog {
    private let handle: FileHandle

    package init(path: String, truncate: Bool) throws {
        if truncate || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw MediaError(path, "cannot create the training log")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw MediaError(path, "cannot open the training log") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    package func write(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    deinit { try? handle.close() }

    /// Drops lines of the log at `path` past `step` (from a run that went further than its last
    /// checkpoint), so a resumed run logs each step once.
    package static func truncate(_ path: String, after step: Int) throws {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return }
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let s = object["step"] as? Int else { return false }
            return s <= step
        }
        try AtomicFile.write(Data((kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).utf8), to: path)
    }
}

/// Rounds for logs and reports.
package func round4(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
