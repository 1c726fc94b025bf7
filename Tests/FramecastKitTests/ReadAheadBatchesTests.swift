@testable import FramecastKit
import Foundation
import Media
import TestSupport
import XCTest

/// `encode`'s read-ahead: the same frames as reading the video in order, in batches, then empty.
final class ReadAheadBatchesTests: XCTestCase {
    func testBatchesHoldTheVideoInOrderThenStayEmpty() throws {
        let dir = TemporaryDirectory()
        let video = dir.file("v.mp4")
        try SyntheticVideo.write(to: video, count: 50, width: 32, height: 32, fps: 10)
        var expected: [UInt8] = []
        let plain = try VideoReader(path: video, size: (16, 16), fit: .crop)
        while let frame = try plain.next() { expected += frame.rgb }

        let batches = ReadAheadBatches(try VideoReader(path: video, size: (16, 16), fit: .crop), batch: 8)
        var sizes: [Int] = [], bytes: [UInt8] = []
        while case let b = try batches.next(), !b.isEmpty {
            sizes.append(b.count / (16 * 16 * 3))
            bytes += b
        }
        XCTAssertEqual(sizes, [8, 8, 8, 8, 8, 8, 2])
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual(batches.framesRead, 50)
        XCTAssertEqual(try batches.next(), [])              // after the end: empty again, no wait

        let limited = ReadAheadBatches(try VideoReader(path: video, size: (16, 16), fit: .crop), batch: 8, limit: 13)
        XCTAssertEqual(try limited.next().count, 8 * 16 * 16 * 3)
        XCTAssertEqual(try limited.next(), Array(expected[(8 * 768)..<(13 * 768)]))
        XCTAssertEqual(try limited.next(), [])
        XCTAssertEqual(limited.framesRead, 13)
    }
}
