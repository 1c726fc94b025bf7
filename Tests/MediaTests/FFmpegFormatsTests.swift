import Foundation
import Media
import FrameMetrics
import TestSupport
import XCTest

/// Inputs made with the ffmpeg CLI (skipped when it is absent): other containers and codecs,
/// odd sizes, non-square pixels.
final class FFmpegFormatsTests: XCTestCase {
    private func ffmpeg(_ args: [String]) throws {
        guard let ffmpeg = ProcessRunner.which("ffmpeg") else { throw XCTSkip("ffmpeg CLI not installed") }
        let result = try ProcessRunner.run(ffmpeg, ["-hide_banner", "-loglevel", "error", "-y"] + args)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func testContainersAndCodecsDecodeToExactCounts() throws {
        let dir = TemporaryDirectory()
        let cases: [(String, [String], String)] = [
            ("a.mkv", ["-c:v", "libvpx-vp9", "-deadline", "realtime"], "vp9"),
            ("b.avi", ["-c:v", "mjpeg"], "mjpeg"),
            ("c.mov", ["-c:v", "libx264", "-pix_fmt", "yuv444p"], "h264"),
            ("d.gif", [], "gif"),
            ("e.webm", ["-c:v", "libvpx"], "vp8"),
        ]
        for (name, codecArgs, codec) in cases {
            let path = dir.file(name)
            try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=96x64:rate=10", "-frames:v", "17"] + codecArgs + [path])
            let reader = try VideoReader(path: path, size: (32, 32))
            XCTAssertEqual(reader.info.codec, codec, name)
            var count = 0
            while let frame = try reader.next() {
                XCTAssertEqual(frame.rgb.count, 32 * 32 * 3)
                count += 1
            }
            XCTAssertEqual(count, 17, name)
        }
    }

    func testOddSourceSizeAndPaddedLinesizes() throws {
        // 97×61: odd sizes give padded linesizes and odd chroma; read at native size and scaled.
        let dir = TemporaryDirectory()
        let path = dir.file("odd.mkv")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=97x61:rate=10", "-frames:v", "5", "-c:v", "ffv1", "-pix_fmt", "rgb24", path])
        let native = try VideoReader(path: path)
        let f = try XCTUnwrap(try native.next())
        XCTAssertEqual(f.width, 97)
        XCTAssertEqual(f.height, 61)
        // Lossless RGB source: compare against ffmpeg's own decode.
        let raw = dir.file("odd.rgb")
        try ffmpeg(["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
        let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
        XCTAssertEqual(f.rgb, expected)
        let scaled = try VideoReader(path: path, size: (33, 21), fit: .stretch)
        XCTAssertEqual(try XCTUnwrap(try scaled.next()).rgb.count, 33 * 21 * 3)
    }

    func testRotatedStreamsAreTurnedAsTheFFmpegCLITurnsThem() throws {
        // A lossless 48×32 clip tagged with each rotation: frames come out turned, pixel for pixel
        // as the ffmpeg CLI (which autorotates) decodes them.
        let dir = TemporaryDirectory()
        let source = dir.file("src.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=48x32:rate=10", "-frames:v", "3", "-c:v", "libx264rgb", "-qp", "0", source])
        for rotate in [90, 180, 270] {
            let path = dir.file("rot\(rotate).mp4"), raw = dir.file("rot\(rotate).rgb")
            try ffmpeg(["-i", source, "-c", "copy", "-metadata:s:v:0", "rotate=\(rotate)", path])
            try ffmpeg(["-i", path, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", raw])
            let reader = try VideoReader(path: path)
            XCTAssertNotEqual(reader.info.rotation, 0, "rotate=\(rotate)")
            let frame = try XCTUnwrap(try reader.next())
            XCTAssertEqual([frame.width, frame.height], rotate == 180 ? [48, 32] : [32, 48], "rotate=\(rotate)")
            XCTAssertEqual(frame.rgb, [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw))), "rotate=\(rotate)")
            // At a chosen size the crop happens in the upright frame: 16×16 from a 32×48 portrait.
            let scaled = try VideoReader(path: path, size: (16, 16), fit: .crop)
            XCTAssertEqual(try XCTUnwrap(try scaled.next()).rgb.count, 16 * 16 * 3)
        }
        XCTAssertEqual(try VideoReader(path: source).info.rotation, 0)
    }

    func testNonSquarePixelsAreReported() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("anamorphic.mp4")
        try ffmpeg(["-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-frames:v", "3", "-vf", "setsar=2/1", "-c:v", "libx264", path])
        let reader = try VideoReader(path: path, size: (32, 32), fit: .pad)
        XCTAssertEqual(reader.info.pixelAspect, 2, accuracy: 1e-9)
        let f = try XCTUnwrap(try reader.next())
        // Shown 128×64 wide, so padding puts black bars on the top and bottom rows.
        XCTAssertEqual(f.rgb[0..<(32 * 3 * 4)].reduce(0) { $0 + Int($1) }, 0)
    }
}
