import Foundation
@testable import Media
import FrameMetrics
import TestSupport
import XCTest

final class VideoReaderTests: XCTestCase {
    /// Writes a 64×32 clip whose left half is red and right half blue.
    private func halves(_ dir: TemporaryDirectory) throws -> String {
        let path = dir.file("halves.mp4")
        let writer = try VideoWriter(path: path, width: 64, height: 32, fps: 10)
        var rgb = [UInt8](repeating: 0, count: 64 * 32 * 3)
        for y in 0..<32 {
            for x in 0..<64 {
                let i = (y * 64 + x) * 3
                if x < 32 { rgb[i] = 220 } else { rgb[i + 2] = 220 }
            }
        }
        for _ in 0..<3 { try writer.write(rgb: rgb) }
        try writer.finish()
        return path
    }

    private func pixel(_ f: Frame, _ x: Int, _ y: Int) -> (Int, Int, Int) {
        let i = (y * f.width + x) * 3
        return (Int(f.rgb[i]), Int(f.rgb[i + 1]), Int(f.rgb[i + 2]))
    }

    func testStretchKeepsBothHalves() throws {
        let dir = TemporaryDirectory()
        let reader = try VideoReader(path: try halves(dir), size: (16, 16), fit: .stretch)
        let f = try XCTUnwrap(try reader.next())
        XCTAssertEqual(f.rgb.count, 16 * 16 * 3)
        XCTAssertGreaterThan(pixel(f, 2, 8).0, 180)   // red on the left
        XCTAssertGreaterThan(pixel(f, 13, 8).2, 180)  // blue on the right
    }

    func testCropTakesTheCentre() throws {
        // A 2:1 source cropped to 1:1 keeps x in [16, 48): still red left of centre, blue right.
        let dir = TemporaryDirectory()
        let reader = try VideoReader(path: try halves(dir), size: (16, 16), fit: .crop)
        let f = try XCTUnwrap(try reader.next())
        XCTAssertGreaterThan(pixel(f, 3, 8).0, 180)
        XCTAssertGreaterThan(pixel(f, 12, 8).2, 180)
        let plan = FrameScaler.geometry(width: 64, height: 32, pixelAspect: 1, outputWidth: 16, outputHeight: 16, fit: .crop)
        XCTAssertEqual(plan, FrameScaler.Geometry(scaledWidth: 32, scaledHeight: 16, cropX: 8, cropY: 0))
    }

    func testPadLetterboxesWithBlack() throws {
        let dir = TemporaryDirectory()
        let reader = try VideoReader(path: try halves(dir), size: (16, 16), fit: .pad)
        let f = try XCTUnwrap(try reader.next())
        // The 2:1 picture is 16×8 in the middle; rows 0..3 and 12..15 are black bars.
        XCTAssertEqual(pixel(f, 8, 0).0 + pixel(f, 8, 0).1 + pixel(f, 8, 0).2, 0)
        XCTAssertEqual(pixel(f, 8, 15).0 + pixel(f, 8, 15).1 + pixel(f, 8, 15).2, 0)
        XCTAssertGreaterThan(pixel(f, 2, 8).0, 180)
        XCTAssertGreaterThan(pixel(f, 13, 8).2, 180)
    }

    func testBadInputsThrowClearErrors() throws {
        let dir = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.file("empty.mp4"), contents: Data())
        _ = FileManager.default.createFile(atPath: dir.file("text.mp4"), contents: Data("this is not a video\n".utf8))
        let cases: [(String, String)] = [
            (dir.file("missing.mp4"), "no such file"),
            (dir.file("empty.mp4"), "empty"),
            (dir.file("text.mp4"), "not a video"),
            (dir.path, "directory"),
        ]
        for (path, expected) in cases {
            XCTAssertThrowsError(try VideoReader(path: path)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(path): \(error)")
                XCTAssertTrue("\(error)".contains(path), "error should name the file: \(error)")
            }
        }
        XCTAssertThrowsError(try VideoReader(path: try halves(dir), size: (0, 0)))
    }

    func testTruncatedMP4FailsInsteadOfEndingEarly() throws {
        let dir = TemporaryDirectory()
        let full = dir.file("full.mp4")
        try SyntheticVideo.write(to: full, count: 60)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: full))
        let half = dir.file("half.mp4")
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: half))
        XCTAssertThrowsError(try {
            let reader = try VideoReader(path: half)
            while try reader.skip() {}
        }()) { error in
            XCTAssertTrue("\(error)".contains("half.mp4"), "\(error)")
        }
    }

    func testNonSquarePixelsUseTheDisplayAspect() {
        // 32×32 coded pixels shown 2:1 wide behave like a 64×32 picture.
        let plan = FrameScaler.geometry(width: 32, height: 32, pixelAspect: 2, outputWidth: 16, outputHeight: 16, fit: .pad)
        XCTAssertEqual(plan, FrameScaler.Geometry(scaledWidth: 16, scaledHeight: 8, padX: 0, padY: 4))
        let tall = FrameScaler.geometry(width: 30, height: 60, pixelAspect: 1, outputWidth: 16, outputHeight: 16, fit: .crop)
        XCTAssertEqual(tall, FrameScaler.Geometry(scaledWidth: 16, scaledHeight: 32, cropX: 0, cropY: 8))
    }
}
