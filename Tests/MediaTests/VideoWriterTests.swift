import Foundation
import Media
import FrameMetrics
import TestSupport
import XCTest

final class VideoWriterTests: XCTestCase {
    func testRoundTripKeepsCountSizeFpsAndQuality() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("round.mp4")
        let written = try SyntheticVideo.write(to: path, count: 40, width: 64, height: 48, fps: 15)

        let reader = try VideoReader(path: path)
        XCTAssertEqual(reader.info.width, 64)
        XCTAssertEqual(reader.info.height, 48)
        XCTAssertEqual(reader.info.fps, 15, accuracy: 1e-9)
        XCTAssertEqual(reader.info.codec, "h264")
        var psnrs: [Double] = []
        while let frame = try reader.next() {
            XCTAssertEqual(frame.index, psnrs.count)
            XCTAssertEqual(frame.time ?? -1, Double(frame.index) / 15, accuracy: 1e-6)
            psnrs.append(ImageMetrics.psnr(frame.rgb, written[frame.index]))
        }
        XCTAssertEqual(psnrs.count, 40)
        let mean = psnrs.reduce(0, +) / Double(psnrs.count)
        XCTAssertGreaterThanOrEqual(mean, 35, "yuv420p round trip PSNR \(mean) dB")
        XCTAssertGreaterThanOrEqual(psnrs.min()!, 33)
    }

    func testIdenticalInputGivesIdenticalBytes() throws {
        // Several writes in one process: input arrays land at different alignments each time.
        let dir = TemporaryDirectory()
        var files: [Data] = []
        for i in 0..<5 {
            try SyntheticVideo.write(to: dir.file("\(i).mp4"), count: 20, width: 62, height: 46)
            files.append(try Data(contentsOf: URL(fileURLWithPath: dir.file("\(i).mp4"))))
        }
        XCTAssertGreaterThan(files[0].count, 1000)
        for file in files.dropFirst() { XCTAssertEqual(file, files[0]) }
    }

    func testTwentyFiveFramesAtFifteenFpsLastTwentyFiveFifteenths() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("d.mp4")
        try SyntheticVideo.write(to: path, count: 25, fps: 15)
        let reader = try VideoReader(path: path)
        XCTAssertEqual(try XCTUnwrap(reader.info.duration), 25.0 / 15.0, accuracy: 1e-3)
        XCTAssertEqual(try reader.countRemaining(), 25)
    }

    func testFaststartPutsTheIndexFirst() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("f.mp4")
        try SyntheticVideo.write(to: path, count: 5)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        let moov = try XCTUnwrap(text.range(of: "moov"))
        let mdat = try XCTUnwrap(String(decoding: bytes, as: UTF8.self).range(of: "mdat"))
        XCTAssertLessThan(text.distance(from: text.startIndex, to: moov.lowerBound), 4096)
        XCTAssertNotNil(mdat)
    }

    func testMpeg4FallbackRoundTrips() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("m.mp4")
        let written = try SyntheticVideo.write(to: path, count: 10, codec: .mpeg4)
        let reader = try VideoReader(path: path)
        XCTAssertEqual(reader.info.codec, "mpeg4")
        var n = 0
        while let frame = try reader.next() {
            XCTAssertGreaterThan(ImageMetrics.psnr(frame.rgb, written[n]), 30)
            n += 1
        }
        XCTAssertEqual(n, 10)
    }

    func testOddSizeIsRejectedBeforeAnyFileIsMade() throws {
        let dir = TemporaryDirectory()
        XCTAssertThrowsError(try VideoWriter(path: dir.file("odd.mp4"), width: 65, height: 64, fps: 15)) { error in
            XCTAssertTrue("\(error)".contains("even"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testFasterPresetsRoundTripAndUnknownOnesAreRejected() throws {
        let dir = TemporaryDirectory()
        let writer = try VideoWriter(path: dir.file("fast.mp4"), width: 64, height: 48, fps: 15, preset: "veryfast")
        let frames = (0..<10).map { SyntheticVideo.frame($0, width: 64, height: 48) }
        for f in frames { try writer.write(rgb: f) }
        try writer.finish()
        let reader = try VideoReader(path: dir.file("fast.mp4"))
        var psnrs: [Double] = []
        while let frame = try reader.next() { psnrs.append(ImageMetrics.psnr(frame.rgb, frames[frame.index])) }
        XCTAssertEqual(psnrs.count, 10)
        XCTAssertGreaterThanOrEqual(psnrs.min()!, 33)
        XCTAssertThrowsError(try VideoWriter(path: dir.file("x.mp4"), width: 64, height: 48, fps: 15, preset: "ludicrous")) { error in
            XCTAssertTrue("\(error)".contains("preset"), "\(error)")
        }
    }

    func testUnwritableDestinationFailsClearly() {
        XCTAssertThrowsError(try VideoWriter(path: "/nonexistent-dir/x.mp4", width: 64, height: 64, fps: 15)) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/x.mp4"), "\(error)")
        }
    }

    func testAbandonedWriterLeavesNoFile() throws {
        let dir = TemporaryDirectory()
        do {
            let writer = try VideoWriter(path: dir.file("gone.mp4"), width: 64, height: 64, fps: 15)
            try writer.write(rgb: SyntheticVideo.frame(0, width: 64, height: 64))
            XCTAssertThrowsError(try writer.write(rgb: [1, 2, 3]))  // wrong size
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }
}
