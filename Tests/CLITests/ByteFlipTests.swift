import Foundation
import NN
import TestSupport
import XCTest

/// Random byte flips in a valid clip must never crash or hang the reader (errors are fine).
final class ByteFlipTests: XCTestCase {
    func testTwoHundredByteFlipsNeverCrashOrHang() throws {
        let dir = TemporaryDirectory()
        let clip = dir.file("clip.mp4")
        try SyntheticVideo.write(to: clip, count: 12, width: 32, height: 32)
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clip)))
        var rng = SplitMix64(seed: 2026)
        var failures = 0
        for trial in 0..<200 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                bytes[at] ^= UInt8(1 + rng.next() % 255)
            }
            let path = dir.file("flip.mp4")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let result = try ProcessRunner.framecast(["probe", path], timeout: 20)
            XCTAssertFalse(result.crashed, "trial \(trial) crashed: \(result.stderr)")
            XCTAssertFalse(result.timedOut, "trial \(trial) hung")
            if result.status != 0 {
                failures += 1
                XCTAssertTrue(result.stderr.contains("flip.mp4"), "trial \(trial): \(result.stderr)")
            }
        }
        print("byte flips: \(failures)/200 rejected with an error, the rest decoded")
    }
}
