import Foundation
import Media
import TestSupport
import XCTest

final class ActionTrackTests: XCTestCase {
    private let header = "frame,action_id,action_name,reward,episode_start\n"

    private func write(_ dir: TemporaryDirectory, csv: String, names: [String]? = ["NOOP", "MOVE_FORWARD"]) throws -> (String, String) {
        let csvPath = dir.file("clip.actions.csv"), jsonPath = dir.file("clip.json")
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        if let names {
            let json = try JSONSerialization.data(withJSONObject: ["fps": 15, "action_names": names, "env": "test"])
            try json.write(to: URL(fileURLWithPath: jsonPath))
        }
        return (csvPath, jsonPath)
    }

    func testReadsAndWritesTheSidecarFormat() throws {
        let dir = TemporaryDirectory()
        let (csv, json) = try write(dir, csv: header + "0,1,MOVE_FORWARD,0,1\n1,0,NOOP,1.5,0\n2,1,MOVE_FORWARD,0,1\n")
        let track = try ActionTrack.read(csv: csv, json: json)
        XCTAssertEqual(track.actionNames, ["NOOP", "MOVE_FORWARD"])
        XCTAssertEqual(track.steps.map(\.actionID), [1, 0, 1])
        XCTAssertEqual(track.steps.map(\.reward), [0, 1.5, 0])
        XCTAssertEqual(track.steps.map(\.episodeStart), [true, false, true])
        XCTAssertEqual(track.fps, 15)
        XCTAssertEqual(track.settings["env"], "test")
        try track.write(base: dir.file("copy"))
        let copy = try ActionTrack.read(csv: dir.file("copy.actions.csv"), json: dir.file("copy.json"))
        XCTAssertEqual(copy.steps, track.steps)
        XCTAssertEqual(copy.actionNames, track.actionNames)
        XCTAssertEqual(copy.settings, track.settings.merging(["frames": "3"]) { $1 })
        XCTAssertNoThrow(try track.validate(frameCount: 3, video: "v.mp4", csv: csv))
    }

    func testFrameCountMismatchNamesBothCounts() throws {
        let dir = TemporaryDirectory()
        let (csv, json) = try write(dir, csv: header + "0,1,MOVE_FORWARD,0,1\n1,0,NOOP,0,0\n")
        let track = try ActionTrack.read(csv: csv, json: json)
        XCTAssertThrowsError(try track.validate(frameCount: 5, video: "v.mp4", csv: csv)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("2 action rows") && text.contains("5 frames") && text.contains(csv), text)
        }
    }

    func testBadRowsAreRejectedWithTheirLine() throws {
        let cases: [(String, String)] = [
            ("0,forward,MOVE_FORWARD,0,1\n", "line 2: action_id 'forward' is not a whole number"),
            ("0,7,MOVE_FORWARD,0,1\n", "line 2: action_id 7 out of range"),
            ("0,1,NOOP,0,1\n", "line 2: action 1 is named 'NOOP'"),
            ("0,1,MOVE_FORWARD,0,1\n2,1,MOVE_FORWARD,0,0\n", "line 3: frame 2 out of order"),
            ("0,1,MOVE_FORWARD,x,1\n", "line 2: reward 'x' is not a number"),
            ("0,1,MOVE_FORWARD,0,yes\n", "line 2: episode_start must be 0 or 1"),
            ("0,1,MOVE_FORWARD\n", "line 2: expected 5 fields, found 3"),
            ("", "header but no rows"),
        ]
        for (rows, expected) in cases {
            let dir = TemporaryDirectory()
            let (csv, json) = try write(dir, csv: header + rows)
            XCTAssertThrowsError(try ActionTrack.read(csv: csv, json: json)) { error in
                XCTAssertTrue("\(error)".contains(expected), "expected '\(expected)', got: \(error)")
                XCTAssertTrue("\(error)".contains(csv))
            }
        }
        let dir = TemporaryDirectory()
        let (csv, json) = try write(dir, csv: "frame,action\n0,1\n")
        XCTAssertThrowsError(try ActionTrack.read(csv: csv, json: json)) { XCTAssertTrue("\($0)".contains("header"), "\($0)") }
    }

    func testNamesComeFromTheCSVWhenThereIsNoJSON() throws {
        let dir = TemporaryDirectory()
        let (csv, _) = try write(dir, csv: header + "0,2,TURN_LEFT,0,1\n1,0,NOOP,0,0\n", names: nil)
        let track = try ActionTrack.read(csv: csv, json: dir.file("clip.json"))
        XCTAssertEqual(track.actionNames, ["NOOP", "ACTION_1", "TURN_LEFT"])
    }
}

final class ActionTrackBoundsTests: XCTestCase {
    /// A huge action id is refused by line, not turned into a huge table of names.
    func testAHugeActionIDIsRefused() throws {
        let dir = NSTemporaryDirectory() + "bounds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/v.actions.csv"
        try "frame,action_id,action_name,reward,episode_start\n0,0,A,0,1\n1,99999999999,B,0,0\n".write(toFile: csv, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ActionTrack.read(csv: csv, json: nil)) {
            XCTAssertTrue("\($0)".contains("line 3: action_id 99999999999 is too large"), "\($0)")
        }
    }
}
