import FramecastKit
import ArgumentParser
import FileOutput
import Foundation
import Media

struct ContactSheet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contact-sheet",
        abstract: "Write a PNG grid of a video's frames, each labelled with its frame number.",
        discussion: """
            Examples:
              framecast contact-sheet Clips/my_way_home_s1.mp4 -o sheet.png
              framecast contact-sheet clip.mp4 -o sheet.png --every 30 --columns 6 --size 96x72
            """
    )

    @Argument(help: "The video to read.")
    var video: String

    @Option(name: .shortAndLong, help: "Output PNG path.")
    var output: String

    @Option(help: "Take every Nth frame, starting with frame 0.")
    var every: Int = 10

    @Option(help: "Frames per row.")
    var columns: Int = 8

    @Option(help: "Thumbnail size WIDTHxHEIGHT. Default: the video's size, halved until at most 160 wide.")
    var size: FrameSize?

    @Option(help: "Stop after this many thumbnails.")
    var limit: Int = 200

    func validate() throws {
        guard every >= 1 else { throw ValidationError("--every must be at least 1, got \(every)") }
        guard (1...64).contains(columns) else { throw ValidationError("--columns must be 1...64, got \(columns)") }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
        try size?.validate("--size")
    }

    func run() throws {
        guard output.lowercased().hasSuffix(".png") else { throw ValidationError("--output must end in .png, got \(output)") }
        try AtomicFile.checkOutput(output, notAny: [video])   // before any work: a regular file, not an input
        let probe = try VideoReader(path: video)
        var thumb = size ?? FrameSize(width: probe.info.width, height: probe.info.height)
        while size == nil && thumb.width > 160 { thumb = FrameSize(width: max(1, thumb.width / 2), height: max(1, thumb.height / 2)) }
        let reader = try VideoReader(path: video, size: (thumb.width, thumb.height), fit: .crop)
        var thumbnails: [Frame] = []
        while thumbnails.count < limit {
            let index = reader.framesRead
            if index % every == 0 {
                guard let frame = try reader.next() else { break }
                thumbnails.append(frame)
            } else if try !reader.skip() {
                break
            }
        }
        guard !thumbnails.isEmpty else { throw MediaError(video, "contains no decodable frames") }
        // Frame numbers go in a strip under each thumbnail, so labels the video itself carries stay readable.
        let gap = 2, strip = Canvas.textHeight() + 2
        let rows = (thumbnails.count + columns - 1) / columns
        let cols = min(columns, thumbnails.count)
        let cellHeight = thumb.height + strip
        var canvas = Canvas(width: cols * (thumb.width + gap) + gap, height: rows * (cellHeight + gap) + gap, fill: (32, 32, 32))
        for (i, frame) in thumbnails.enumerated() {
            let x = gap + (i % columns) * (thumb.width + gap), y = gap + (i / columns) * (cellHeight + gap)
            canvas.paste(frame, x: x, y: y)
            canvas.label("\(frame.index)", x: x, y: y + thumb.height)
        }
        try PNGWriter.write(rgb: canvas.rgb, width: canvas.width, height: canvas.height, to: output)
        print("\(output): \(thumbnails.count) frames (every \(every)), \(canvas.width)x\(canvas.height)")
    }
}
