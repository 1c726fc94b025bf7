import Foundation
import Media
import TestSupport
import XCTest

/// The shipped clips in Clips/: real footage with sidecars that must agree with the video.
final class ClipsTests: XCTestCase {
    func testEveryClipDecodesToItsSidecarFrameCount() throws {
        let clips = Repository.clips()
        XCTAssertGreaterThanOrEqual(clips.count, 8, "Clips/ should hold at least 8 clips")
        let ffprobe = ProcessRunner.which("ffprobe")
        for clip in clips {
            let reader = try VideoReader(path: clip, size: (64, 64))
            XCTAssertEqual(reader.info.codec, "h264", clip)
            var frames = 0
            while let frame = try reader.next() {
                XCTAssertEqual(frame.rgb.count, 64 * 64 * 3)
                frames += 1
            }
            XCTAssertGreaterThanOrEqual(frames, 200, clip)
            let track = try XCTUnwrap(try ActionTrack.load(forVideo: clip), "\(clip) has no sidecar")
            XCTAssertEqual(track.steps.count, frames, clip)
            XCTAssertTrue(track.steps[0].episodeStart, clip)
            XCTAssertEqual(track.fps, reader.info.fps, clip)
            if let ffprobe {
                let result = try ProcessRunner.run(ffprobe, ["-v", "error", "-count_frames", "-select_streams", "v:0",
                                                             "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", clip])
                XCTAssertEqual(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), frames, clip)
            }
        }
    }

    func testManifestSplitsClipsWithoutOverlap() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Repository.root + "/Clips/manifest.json"))
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String]])
        let train = Set(manifest["train"] ?? []), validation = Set(manifest["validation"] ?? [])
        XCTAssertFalse(train.isEmpty)
        XCTAssertFalse(validation.isEmpty)
        XCTAssertTrue(train.isDisjoint(with: validation))
        for name in train.union(validation) {
            XCTAssertTrue(FileManager.default.fileExists(atPath: Repository.root + "/Clips/\(name).mp4"), name)
        }
    }
}
