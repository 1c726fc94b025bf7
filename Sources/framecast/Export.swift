import FramecastKit
import ArgumentParser
import CodeFile
import FileOutput
import Foundation
import Media
import NN

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render code files (e.g. predictions) as a labelled side-by-side MP4.",
        discussion: """
            Each code file becomes a panel, decoded with the tokenizer and enlarged by --scale (nearest \
            neighbour) so 64x64 frames are watchable. --side-by-side adds the ground truth on the left: a video \
            (its real frames, aligned to the prediction's start in the source) or a code file. Context frames are \
            marked CONTEXT; every frame shows its number and the action that led to it.

            Examples:
              framecast export p.codes.safetensors --tokenizer tok.safetensors -o p.mp4 --side-by-side Clips/my_way_home_s3.mp4
              framecast export p.s0.codes.safetensors p.s1.codes.safetensors --tokenizer tok.safetensors -o samples.mp4
            """
    )

    @Argument(help: "Code files to show, one panel each.")
    var codes: [String]

    @Option(help: "Tokenizer checkpoint the codes were made with.")
    var tokenizer: String

    @Option(name: .shortAndLong, help: "Output MP4 path.")
    var output: String

    @Option(help: "Ground truth to show first: a video or a code file.")
    var sideBySide: String?

    @Option(help: "Enlarge frames by this factor (nearest neighbour).")
    var scale = 4

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        try validateThreads(threads)
        guard !codes.isEmpty else { throw ValidationError("give at least one code file") }
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
    }

    func run() throws {
        try AtomicFile.checkOutput(output, notAny: codes + (sideBySide.map { [$0] } ?? []))   // before any work: a regular file, not an input
        Torch.setThreads(threads ?? Torch.allCores)
        let tok = try VideoTokenizer(tokenizer)
        var clips: [CodeClip] = []
        for path in codes {
            let clip = try CodeClip.read(path: path)
            try tok.check(clip, file: path)
            clips.append(clip)
        }
        var truth: SideBySide.Truth?
        if let sideBySide {
            let start = clips[0].sourceStart ?? 0
            if sideBySide.hasSuffix(".codes.safetensors") {
                let clip = try CodeClip.read(path: sideBySide)
                try tok.check(clip, file: sideBySide)
                let end = min(clip.frames, start + clips.map(\.frames).max()!)
                guard start < end else { throw MediaError(sideBySide, "has \(clip.frames) frames; the prediction starts at frame \(start)") }
                truth = .codes(clip.excerpt(from: start, to: end))
            } else {
                let reader = try tok.reader(sideBySide)
                truth = .video(reader, skip: start)
            }
        }
        let labels = clips.count == 1 ? ["PREDICTED"] : (1...clips.count).map { "SAMPLE \($0)" }
        try SideBySide.write(output, tokenizer: tok, truth: truth, predictions: clips, labels: labels, scale: scale)
        print(output)
    }
}
