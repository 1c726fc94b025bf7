import FramecastKit
import ArgumentParser
import Foundation
import Media

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a video: container, codec, size, fps, duration, exact frame count, sidecar check.",
        discussion: """
            Decodes every frame to count them exactly. When NAME.actions.csv sits beside the video, it is \
            validated and must have one row per frame; a mismatch is an error (exit 1).

            Examples:
              framecast probe Clips/my_way_home_s1.mp4
              framecast probe clip.mkv --json
            """
    )

    @Argument(help: "The video file to describe.")
    var video: String

    @Flag(help: "Print one JSON line instead of a table.")
    var json = false

    struct Report: Encodable {
        var path: String
        var container: String
        var codec: String
        var width: Int
        var height: Int
        var pixelAspect: Double
        var rotation: Int
        var fps: Double
        var duration: Double?
        var statedFrames: Int?
        var frames: Int
        var actions: ActionSummary?

        enum CodingKeys: String, CodingKey {
            case path, container, codec, width, height, rotation, fps, duration, frames, actions
            case pixelAspect = "pixel_aspect", statedFrames = "stated_frames"
        }
    }

    struct ActionSummary: Encodable {
        var csv: String
        var rows: Int
        var actionNames: [String]
        var episodes: Int

        enum CodingKeys: String, CodingKey {
            case csv, rows, episodes
            case actionNames = "action_names"
        }
    }

    func run() throws {
        let reader = try VideoReader(path: video)
        let frames = try reader.countRemaining()
        let info = reader.info
        var summary: ActionSummary?
        let csv = ActionTrack.sidecarPaths(forVideo: video).csv
        if let track = try ActionTrack.load(forVideo: video) {
            try track.validate(frameCount: frames, video: video, csv: csv)
            summary = ActionSummary(csv: csv, rows: track.steps.count, actionNames: track.actionNames,
                                    episodes: track.steps.filter(\.episodeStart).count)
        }
        let report = Report(path: video, container: info.container, codec: info.codec, width: info.width,
                            height: info.height, pixelAspect: info.pixelAspect, rotation: info.rotation, fps: info.fps,
                            duration: info.duration, statedFrames: info.statedFrameCount, frames: frames,
                            actions: summary)
        if json {
            try printJSON(report)
            return
        }
        var lines = [
            ("file", video),
            ("container", info.container),
            ("codec", info.codec),
            ("size", "\(info.width)x\(info.height)" + (info.pixelAspect != 1 ? String(format: " (pixel aspect %.4g)", info.pixelAspect) : "")
                + (info.rotation != 0 ? " (shown turned \(info.rotation)° clockwise)" : "")),
            ("fps", String(format: "%.3f", info.fps)),
            ("duration", info.duration.map { String(format: "%.3f s", $0) } ?? "unknown"),
            ("frames", "\(frames) decoded" + (info.statedFrameCount.map { " (container says \($0))" } ?? "")),
        ]
        if let summary {
            lines.append(("actions", "\(summary.rows) rows in \(summary.csv), \(summary.actionNames.count) actions, \(summary.episodes) episode start(s): ok"))
        } else {
            lines.append(("actions", "no sidecar (\(csv))"))
        }
        for (key, value) in lines {
            print(key.padding(toLength: 10, withPad: " ", startingAt: 0) + value)
        }
    }
}
