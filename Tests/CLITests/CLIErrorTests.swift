import Foundation
import Media
import NN
import TestSupport
import XCTest

/// Bad input through the command line: a clear message naming the problem, a non-zero exit,
/// no crash, and no output file.
final class CLIErrorTests: XCTestCase {
    private func expectFailure(_ args: [String], status: Int32 = 1, mentions: [String], noFile: String? = nil,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try ProcessRunner.framecast(args)
        XCTAssertFalse(result.crashed, "crashed: \(args)", file: file, line: line)
        XCTAssertEqual(result.status, status, "\(args): \(result.stderr)", file: file, line: line)
        for text in mentions {
            XCTAssertTrue(result.stderr.contains(text), "stderr should mention '\(text)': \(result.stderr)", file: file, line: line)
        }
        if let noFile {
            XCTAssertFalse(FileManager.default.fileExists(atPath: noFile), "\(noFile) should not exist", file: file, line: line)
            let dir = URL(fileURLWithPath: noFile).deletingLastPathComponent().path
            let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.contains(".partial") } ?? []
            XCTAssertEqual(leftovers, [], "temporary files left behind", file: file, line: line)
        }
    }

    func testBadVideosFailCleanly() throws {
        let dir = TemporaryDirectory()
        let out = dir.file("out.mp4")
        _ = FileManager.default.createFile(atPath: dir.file("empty.mp4"), contents: Data())
        _ = FileManager.default.createFile(atPath: dir.file("text.mp4"), contents: Data("not a video at all\n".utf8))
        try SyntheticVideo.write(to: dir.file("good.mp4"), count: 60)
        let good = try Data(contentsOf: URL(fileURLWithPath: dir.file("good.mp4")))
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: dir.file("half.mp4")))
        try ProcessRunner.which("ffmpeg").map { ffmpeg in
            _ = try ProcessRunner.run(ffmpeg, ["-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1", dir.file("audio.m4a")])
        }
        try expectFailure(["transcode", dir.file("missing.mp4"), "-o", out], mentions: ["missing.mp4", "no such file"], noFile: out)
        try expectFailure(["transcode", dir.file("empty.mp4"), "-o", out], mentions: ["empty.mp4", "empty"], noFile: out)
        try expectFailure(["transcode", dir.file("text.mp4"), "-o", out], mentions: ["text.mp4", "not a video"], noFile: out)
        try expectFailure(["transcode", dir.file("half.mp4"), "-o", out, "--size", "32x32"], mentions: ["half.mp4"], noFile: out)
        try expectFailure(["probe", dir.file("half.mp4")], mentions: ["half.mp4"])
        if FileManager.default.fileExists(atPath: dir.file("audio.m4a")) {
            try expectFailure(["transcode", dir.file("audio.m4a"), "-o", out], mentions: ["audio.m4a", "no video stream"], noFile: out)
        }
    }

    func testBadSidecarsFail() throws {
        let dir = TemporaryDirectory()
        let video = dir.file("clip.mp4")
        try SyntheticVideo.write(to: video, count: 5)
        let header = "frame,action_id,action_name,reward,episode_start\n"
        try (header + "0,0,NOOP,0,1\n1,0,NOOP,0,0\n").write(toFile: dir.file("clip.actions.csv"), atomically: true, encoding: .utf8)
        try expectFailure(["probe", video], mentions: ["2 action rows", "5 frames"])
        let out = dir.file("out.mp4")
        try expectFailure(["transcode", video, "-o", out], mentions: ["2 action rows", "5 frames"], noFile: out)
        try (header + "0,zero,NOOP,0,1\n").write(toFile: dir.file("clip.actions.csv"), atomically: true, encoding: .utf8)
        try expectFailure(["probe", video], mentions: ["clip.actions.csv", "line 2", "not a whole number"])
    }

    func testDeviceCUDAWithoutAGPUFailsBeforeAnyWork() throws {
        if (try? Torch.setDevice(.cuda)) != nil {
            try? Torch.setDevice(.cpu)
            throw XCTSkip("this libtorch has a GPU: --device cuda works here")
        }
        let dir = TemporaryDirectory()
        let clip = try Fixtures.clip(), tokenizer = try Fixtures.tokenizer(), codes = try Fixtures.codes()
        let out = dir.file("clip.codes.safetensors"), run = dir.file("run")
        try expectFailure(["encode", clip, "--tokenizer", tokenizer, "-o", out, "--device", "cuda"],
                          mentions: ["--device cuda: ", "without CUDA"], noFile: out)
        try expectFailure(["decode", codes, "--tokenizer", tokenizer, "-o", dir.file("out.mp4"), "--device", "cuda"],
                          mentions: ["--device cuda: ", "without CUDA"], noFile: dir.file("out.mp4"))
        try expectFailure(["train", "prior", "--codes", codes, "--steps", "2", "--out", run, "--device", "cuda"],
                          mentions: ["--device cuda: ", "without CUDA"], noFile: run)
        try expectFailure(["train", "tokenizer", "--clips", clip, "--steps", "2", "--out", run, "--device", "cuda", "--nproc", "2"],
                          status: 64, mentions: ["--device cuda trains in one process"], noFile: run)
        try expectFailure(["train", "prior", "--codes", codes, "--steps", "2", "--out", run, "--device", "tpu"],
                          status: 64, mentions: ["--device", "tpu"], noFile: run)
    }

    func testBadOptionsAreUsageErrors() throws {
        let dir = TemporaryDirectory()
        let video = dir.file("clip.mp4")
        try SyntheticVideo.write(to: video, count: 3)
        let out = dir.file("out.mp4")
        try expectFailure(["transcode", video, "-o", out, "--size", "0x0"], status: 64, mentions: ["--size", "0x0"], noFile: out)
        try expectFailure(["transcode", video, "-o", out, "--size", "65x64"], status: 64, mentions: ["even"], noFile: out)
        try expectFailure(["transcode", video, "-o", out, "--fit", "zoom"], status: 64, mentions: ["zoom"], noFile: out)
        try expectFailure(["transcode", video, "-o", "/nonexistent-folder/out.mp4"], mentions: ["/nonexistent-folder/out.mp4"])
        try expectFailure(["contact-sheet", video, "-o", dir.file("s.png"), "--every", "0"], status: 64, mentions: ["--every"])
    }

    func testUnwritableOutputFolderFails() throws {
        guard getuid() != 0 else {
            // root ignores permissions: use a path below a regular file instead.
            let dir = TemporaryDirectory()
            let video = dir.file("clip.mp4")
            try SyntheticVideo.write(to: video, count: 3)
            _ = FileManager.default.createFile(atPath: dir.file("file"), contents: Data())
            try expectFailure(["transcode", video, "-o", dir.file("file/out.mp4")], mentions: ["file/out.mp4"])
            return
        }
        let dir = TemporaryDirectory()
        let video = dir.file("clip.mp4")
        try SyntheticVideo.write(to: video, count: 3)
        let locked = dir.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o500])
        try expectFailure(["transcode", video, "-o", locked + "/out.mp4"], mentions: ["locked/out.mp4"], noFile: locked + "/out.mp4")
    }
}
