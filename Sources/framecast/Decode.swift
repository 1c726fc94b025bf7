import FramecastKit
import ArgumentParser
import CodeFile
import FileOutput
import Foundation
import Media
import NN

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a code file back into an MP4 with its tokenizer.",
        discussion: """
            With --side-by-side, the source video (resized the same way) is shown left of the reconstruction.

            Examples:
              framecast decode s1.codes.safetensors --tokenizer runs/tok/tokenizer.safetensors -o recon.mp4
              framecast decode s1.codes.safetensors --tokenizer runs/tok/tokenizer.safetensors -o cmp.mp4 --side-by-side Clips/my_way_home_s1.mp4 --scale 4
            """
    )

    @Argument(help: "A .codes.safetensors file.")
    var codes: String

    @Option(help: "Tokenizer checkpoint the codes were made with.")
    var tokenizer: String

    @Option(name: .shortAndLong, help: "Output MP4 path.")
    var output: String

    @Option(help: "Source video to show beside the reconstruction.")
    var sideBySide: String?

    @Option(help: "Enlarge frames by this factor (nearest neighbour).")
    var scale = 1

    @Option(help: "Compute threads (default: all cores).")
    var threads: Int?

    @OptionGroup var device: DeviceOption

    func validate() throws {
        try validateThreads(threads)
        guard (1...16).contains(scale) else { throw ValidationError("--scale must be 1...16, got \(scale)") }
    }

    func run() throws {
        try AtomicFile.checkOutput(output, notAny: [codes] + (sideBySide.map { [$0] } ?? []))   // before any work: a regular file, not an input
        Torch.setThreads(threads ?? Torch.allCores)
        try Torch.setDevice(device.device)
        let clip = try CodeClip.read(path: codes)
        let tok = try VideoTokenizer(tokenizer)
        try tok.check(clip, file: codes)
        let w = clip.frameWidth * scale, h = clip.frameHeight * scale
        let source = try sideBySide.map { try tok.reader($0) }
        let panels = source == nil ? 1 : 2
        let writer = try VideoWriter(path: output, width: w * panels, height: h, fps: clip.fps)
        let progress = ProgressReporter("decode", total: clip.frames)
        var t = 0
        try tok.decode(clip) { frame in
            var canvas = Canvas(width: w * panels, height: h)
            if let source {
                guard let truth = try source.next() else {
                    throw MediaError(sideBySide ?? "", "has fewer frames than \(codes) (\(clip.frames))")
                }
                canvas.paste(truth, x: 0, y: 0, scale: scale)
            }
            canvas.paste(frame, width: clip.frameWidth, height: clip.frameHeight, x: (panels - 1) * w, y: 0, scale: scale)
            try writer.write(rgb: canvas.rgb)
            t += 1
            progress.update(t)
        }
        try writer.finish()
        progress.finish(t)
        print("\(output): \(t) frames, \(writer.width)x\(writer.height), \(String(format: "%g", clip.fps)) fps")
    }
}
