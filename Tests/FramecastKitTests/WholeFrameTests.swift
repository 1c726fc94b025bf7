@testable import FramecastKit
import Foundation
import Media
import TestSupport
import VQVAE
import XCTest

/// The whole frame by default: a 96×48 clip whose only moving object runs up and down its
/// rightmost 8 columns. A tokenizer with the recipe's fit (stretch) sees it; a crop to the middle
/// square cuts it away, and says so.
final class WholeFrameTests: XCTestCase {
    /// Gray frames with a white 8×8 square in the right edge at a height that moves with `t`.
    static func writeEdgeClip(_ path: String, frames: Int) throws {
        let (w, h) = (96, 48)
        let writer = try VideoWriter(path: path, width: w, height: h, fps: 15)
        for t in 0..<frames {
            var rgb = [UInt8](repeating: 64, count: w * h * 3)
            let top = (t * 4) % (h - 8)
            for y in top..<(top + 8) { for x in (w - 8)..<w { for c in 0..<3 { rgb[(y * w + x) * 3 + c] = 255 } } }
            try writer.write(rgb: rgb)
        }
        try writer.finish()
    }

    /// The brightest value in the rightmost `columns` columns of a packed RGB frame.
    func edgeMax(_ rgb: [UInt8], width: Int, height: Int, columns: Int) -> UInt8 {
        var m: UInt8 = 0
        for y in 0..<height { for x in (width - columns)..<width { m = max(m, rgb[(y * width + x) * 3]) } }
        return m
    }

    func tokenizer(fit: String?) throws -> VideoTokenizer {
        var c = VQVAEConfig()
        (c.frameWidth, c.frameHeight, c.gridWidth, c.gridHeight) = (32, 32, 4, 4)
        (c.codebookSize, c.codeDim, c.baseChannels, c.maxChannels) = (8, 4, 8, 8)
        c.fit = fit
        return try VideoTokenizer(model: try VQVAE(config: c), path: "test-tokenizer")
    }

    func testTheRecipeKeepsTheWholeFrameAndAnOldTokenizerStillCrops() throws {
        XCTAssertEqual(Recipe.tokenizer.fitMode, .stretch)
        XCTAssertEqual(VQVAEConfig().fitMode, .stretch)
        // A config saved without the field (the tokenizer shipped until 2026-12-07) crops, as it was trained, and encodes as it was.
        var old = VQVAEConfig()
        old.fit = nil
        let saved = try JSONEncoder().encode(old)
        XCTAssertFalse(String(decoding: saved, as: UTF8.self).contains("fit"))
        let decoded = try JSONDecoder().decode(VQVAEConfig.self, from: saved)
        XCTAssertNil(decoded.fit)
        XCTAssertEqual(decoded.fitMode, .crop)
        let dir = TemporaryDirectory()
        let clip = dir.file("edge.mp4")
        try Self.writeEdgeClip(clip, frames: 12)
        for (fit, seen) in [("stretch", true), ("pad", true), (nil, false), ("crop", false)] as [(String?, Bool)] {
            let reader = try tokenizer(fit: fit).reader(clip)
            var brightest: UInt8 = 0
            while let frame = try reader.next() {
                brightest = max(brightest, edgeMax(frame.rgb, width: 32, height: 32, columns: 4))
            }
            XCTAssertEqual(reader.framesRead, 12)
            if seen { XCTAssertGreaterThan(brightest, 200, "fit \(fit ?? "nil"): the object at the edge is in the frame") }
            else { XCTAssertLessThan(brightest, 100, "fit \(fit ?? "nil"): the crop cuts the edge away") }
            XCTAssertEqual(reader.cutFraction, seen ? 0 : 0.5, accuracy: 1e-9)
        }
    }

    func testLoadingFramesFollowsTheConfigsFit() throws {
        let dir = TemporaryDirectory()
        let clip = dir.file("edge.mp4")
        try Self.writeEdgeClip(clip, frames: 6)
        var config = try tokenizer(fit: "stretch").config
        let stretched = try loadFrames(ClipSet(videos: [clip]), config: config, label: "test")
        config.fit = "crop"
        let cropped = try loadFrames(ClipSet(videos: [clip]), config: config, label: "test")
        XCTAssertEqual([stretched.count, cropped.count], [6, 6])
        XCTAssertGreaterThan(edgeMax(Array(stretched.frame(2)), width: 32, height: 32, columns: 4), 200)
        XCTAssertLessThan(edgeMax(Array(cropped.frame(2)), width: 32, height: 32, columns: 4), 100)
    }
}
