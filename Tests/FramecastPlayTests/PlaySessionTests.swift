@testable import FramecastPlay
import FramecastKit
import Foundation
import Media
import TestSupport
import XCTest

/// The shipped model and demo clip as a play world, loaded once for the play tests.
enum ShippedWorld {
    nonisolated(unsafe) private static var loaded: PlayWorld?
    private static let lock = NSLock()

    static func world() throws -> PlayWorld {
        try lock.withLock {
            if let loaded { return loaded }
            let world = try PlayWorld(tokenizer: Repository.root + "/Models/default/tokenizer.safetensors",
                                      prior: Repository.root + "/Models/default/prior.safetensors",
                                      clip: Repository.root + "/Clips/my_way_home_s3.mp4", start: 60, keys: nil)
            loaded = world
            return world
        }
    }
}

final class PlaySessionTests: XCTestCase {
    private func frames(_ session: PlaySession, _ n: Int) throws -> [(picture: [UInt8], action: Int)] {
        try (0..<n).compactMap {
            _ = $0
            if case .frame(let picture, let action, _, _) = try session.tick() { return (picture, action) }
            return nil
        }
    }

    func testTheSameSeedAndKeysGiveTheSameGameAndRestartReturnsToTheContext() throws {
        let world = try ShippedWorld.world()
        let a = try PlaySession(world: world, seed: 3), b = try PlaySession(world: world, seed: 3)
        let context = try a.contextPictures
        XCTAssertEqual(context.count, world.contextFrames)
        for session in [a, b] { session.setHeld(["ArrowLeft"], sequence: 1) }
        let fa = try frames(a, 5), fb = try frames(b, 5)
        XCTAssertEqual(fa.map(\.action), Array(repeating: 3, count: 5))
        XCTAssertEqual(fa.map(\.picture), fb.map(\.picture))
        a.restart()
        guard case .restarted(let again) = try a.tick() else { return XCTFail("a restart returns the context") }
        XCTAssertEqual(again, context)
        XCTAssertEqual(a.played, 0)
        a.setPaused(true)
        guard case .paused = try a.tick() else { return XCTFail("a paused game makes no frame") }
    }

    func testHeldKeysAreAppliedAndTheRecordingHoldsEveryFrameAndAction() throws {
        let world = try ShippedWorld.world()
        let session = try PlaySession(world: world, seed: 0)
        XCTAssertEqual(session.setHeld(["ArrowUp", "KeyZ"], sequence: 1), 1, "KeyZ is not bound")
        var applied = try frames(session, 3).map(\.action)
        session.setHeld(["ArrowUp", "ArrowRight"], sequence: 2)
        applied += try frames(session, 2).map(\.action)
        session.setHeld([], sequence: 3)
        applied += try frames(session, 1).map(\.action)
        XCTAssertEqual(applied, [1, 1, 1, 6, 6, 0])
        let (mp4, csv, count) = try session.recording()
        XCTAssertEqual(count, world.contextFrames + 6)
        let dir = TemporaryDirectory()
        try mp4.write(to: URL(fileURLWithPath: dir.file("play.mp4")))
        try csv.write(to: URL(fileURLWithPath: dir.file("play.actions.csv")))
        XCTAssertEqual(try VideoReader(path: dir.file("play.mp4")).countRemaining(), count)
        let track = try ActionTrack.read(csv: dir.file("play.actions.csv"), json: nil)
        XCTAssertEqual(track.steps.count, count)
        let context = world.clip.actions[world.start..<(world.start + world.contextFrames - 1)].map(Int.init)
        XCTAssertEqual(track.steps.map(\.actionID), context + applied + [0], "the context's actions, the played ones, then the one held now")
    }
}
