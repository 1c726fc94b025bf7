import Foundation
import Media
import TestSupport
import XCTest

final class CLICommandTests: XCTestCase {
    func testLibgompStartsPassiveInOneProcessImage() throws {
        // libgomp prints its settings when it initialises, once per process image. The spin count
        // is 0 only under OMP_WAIT_POLICY=PASSIVE (300000 when unset); one line means the load-time
        // hook restarted the process before libgomp (and libtorch) initialised, not after.
        var env = ProcessInfo.processInfo.environment
        for name in ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "FRAMECAST_NO_REEXEC"] { env[name] = nil }
        env["OMP_DISPLAY_ENV"] = "verbose"
        func spinCounts(_ env: [String: String]) throws -> [String] {
            let r = try ProcessRunner.run(ProcessRunner.framecast, ["--version"], environment: env)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasSuffix("0.1.0\n"), r.stdout)
            return (r.stdout + r.stderr).components(separatedBy: "\n").filter { $0.contains("GOMP_SPINCOUNT") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        XCTAssertEqual(try spinCounts(env), ["GOMP_SPINCOUNT = '0'"])
        var off = env
        off["FRAMECAST_NO_REEXEC"] = "1"                         // the hook and main's fallback both off
        XCTAssertEqual(try spinCounts(off), ["GOMP_SPINCOUNT = '300000'"])
        env["OMP_WAIT_POLICY"] = "ACTIVE"                        // a user's own setting is kept
        XCTAssertEqual(try spinCounts(env).count, 1)
        XCTAssertNotEqual(try spinCounts(env), ["GOMP_SPINCOUNT = '0'"])
    }

    func testProbeReportsExactFramesAndSidecar() throws {
        let clip = try XCTUnwrap(Repository.clips().first)
        let result = try ProcessRunner.framecast(["probe", clip, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let track = try XCTUnwrap(try ActionTrack.load(forVideo: clip))
        XCTAssertEqual(json["frames"] as? Int, track.steps.count)
        XCTAssertEqual(json["codec"] as? String, "h264")
        XCTAssertEqual((json["actions"] as? [String: Any])?["rows"] as? Int, track.steps.count)
    }

    func testTranscodeResizesAndCarriesTheSidecar() throws {
        let dir = TemporaryDirectory()
        let clip = try XCTUnwrap(Repository.clips().first)
        let out = dir.file("small.mp4")
        let result = try ProcessRunner.framecast(["transcode", clip, "-o", out, "--size", "64x64"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reader = try VideoReader(path: out)
        XCTAssertEqual(reader.info.width, 64)
        XCTAssertEqual(reader.info.height, 64)
        let frames = try reader.countRemaining()
        let source = try XCTUnwrap(try ActionTrack.load(forVideo: clip))
        XCTAssertEqual(frames, source.steps.count)
        XCTAssertEqual(try ActionTrack.load(forVideo: out)?.steps, source.steps)
    }

    func testTranscodeChangesFrameRateByTimestamp() throws {
        let dir = TemporaryDirectory()
        let input = dir.file("in.mp4")
        try SyntheticVideo.write(to: input, count: 30, fps: 15)  // 2 s
        let out = dir.file("out.mp4")
        let result = try ProcessRunner.framecast(["transcode", input, "-o", out, "--fps", "5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let reader = try VideoReader(path: out)
        XCTAssertEqual(reader.info.fps, 5, accuracy: 1e-9)
        XCTAssertEqual(try reader.countRemaining(), 10)
    }

    func testContactSheetWritesAPNG() throws {
        let dir = TemporaryDirectory()
        let input = dir.file("in.mp4")
        try SyntheticVideo.write(to: input, count: 30)
        let sheet = dir.file("sheet.png")
        let result = try ProcessRunner.framecast(["contact-sheet", input, "-o", sheet, "--every", "10", "--columns", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: sheet)))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // 3 thumbnails of 64×64 in 2 columns, each with a 9-pixel label strip under it, 2-pixel gaps: 134 × (2·(64 + 9 + 2) + 2) = 134×152.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual([width, height], [134, 152])
        XCTAssertTrue(result.stdout.contains("3 frames"))
    }
}
