import Foundation
import TestSupport
import XCTest

/// `framecast play` in a real browser: Tools/play-check.py drives Debian's chromium through
/// playwright (Tools/setup-browser installs both; Tools/test runs it). It holds ArrowLeft for 2 s
/// and ArrowRight for 2 s, and checks frames/s ≥ 12, that the two turns' frames differ, that every
/// frame was predicted under the keys sent, and that Record gives an MP4 and an actions sidecar
/// with exactly the frames shown and the actions applied.
final class PlayBrowserTests: XCTestCase {
    func testPlayingInChromium() throws {
        let python = Repository.root + "/.venv-play/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python), ProcessRunner.which("chromium") != nil else {
            throw XCTSkip("chromium or playwright is missing: run Tools/setup-browser (Tools/test does) to play-test in a browser")
        }
        let dir = TemporaryDirectory()
        let result = try ProcessRunner.run(python, [Repository.root + "/Tools/play-check.py", "check", "--framecast", ProcessRunner.framecast,
                                                    "--out", dir.path], timeout: 300)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
        XCTAssertEqual(report["failures"] as? [String], [], result.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.file("play.mp4")))
    }
}
