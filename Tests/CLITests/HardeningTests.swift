import CodeFile
import Foundation
import NN
import SafeTensors
import TestSupport
import XCTest

/// The cases of the hostile-input sweep (issue 30), each run through the CLI: exit code, message,
/// no crash, and nothing left behind or damaged.
final class HardeningTests: XCTestCase {
    /// Files in `folder` (hidden ones included).
    func files(_ folder: String) -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() }

    func assertFails(_ arguments: [String], status: Int32, mentions expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try ProcessRunner.framecast(arguments, timeout: 120)
        XCTAssertFalse(result.crashed || result.timedOut, "\(arguments) crashed or hung: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.status, status, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.contains(expected), "\(arguments): expected '\(expected)' in \(result.stderr)", file: file, line: line)
    }

    func testPredictWithAnMP4AndABadOutputFailsCleanlyBeforeAnyWork() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let dir = TemporaryDirectory()
        for _ in 0..<3 {
            try assertFails(["predict", clip, "--tokenizer", tok, "--prior", prior, "--frames", "8", "--actions", "LEFT*8",
                             "-o", dir.file("missing/x.codes.safetensors"), "--mp4", dir.file("p.mp4")],
                            status: 1, mentions: "missing does not exist")
            XCTAssertEqual(files(dir.path), [], "no MP4 and no partial file")
        }
        // A failure after the video has started (an output refused at write time) leaves no partial file either.
        try FileManager.default.createDirectory(atPath: dir.file("taken.codes.safetensors"), withIntermediateDirectories: false)
        try assertFails(["predict", clip, "--tokenizer", tok, "--prior", prior, "--frames", "8", "--actions", "LEFT*8",
                         "-o", dir.file("taken.codes.safetensors"), "--mp4", dir.file("p.mp4")],
                        status: 1, mentions: "it is a folder")
        XCTAssertEqual(files(dir.path), ["taken.codes.safetensors"])
    }

    func testDevicesFoldersAndTheInputAreNeverOutputs() throws {
        let clip = try Fixtures.clip(), dir = TemporaryDirectory()
        try assertFails(["transcode", clip, "-o", "/dev/null"], status: 1, mentions: "not a regular file")
        var info = stat()
        XCTAssertEqual(stat("/dev/null", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a device")
        // The input as the output, also spelled another way.
        let copy = dir.file("in.mp4")
        try FileManager.default.copyItem(atPath: clip, toPath: copy)
        let before = try Data(contentsOf: URL(fileURLWithPath: copy))
        try assertFails(["transcode", copy, "-o", dir.path + "/./in.mp4"], status: 1, mentions: "is the input")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: copy)), before)
        let tok = try Fixtures.tokenizer()
        let tokCopy = dir.file("t.safetensors")
        try FileManager.default.copyItem(atPath: tok, toPath: tokCopy)
        try assertFails(["compact", tokCopy, "-o", tokCopy], status: 1, mentions: "is the input")
        XCTAssertEqual(files(dir.path), ["in.mp4", "t.safetensors"])
    }

    func testOutOfRangeOptionsAreUsageErrors() throws {
        let tok = try Fixtures.tokenizer(), prior = try Fixtures.prior(), clip = try Fixtures.clip()
        let predict = ["predict", clip, "--tokenizer", tok, "--prior", prior, "-o", "/tmp/never.codes.safetensors"]
        for (extra, expected) in [(["--threads", "0"], "--threads must be 1..."), (["--threads", "100000"], "--threads must be 1..."),
                                  (["--frames", "9223372036854775807"], "--frames must be 1...100000"),
                                  (["--start", "9223372036854775807"], "--start must be 0...100000000"),
                                  (["--context-frames", "9223372036854775807"], "--context-frames must be 1...1000")] {
            try assertFails(predict + extra, status: 64, mentions: expected)
        }
        for command in [["decode", "x.codes.safetensors", "--tokenizer", tok, "-o", "/tmp/x.mp4"], ["demo"],
                        ["eval", "prior", "--tokenizer", tok, "--prior", prior, "--clips", clip],
                        ["train", "tokenizer", "--clips", clip, "--out", "/tmp/never-run"],
                        ["train", "prior", "--codes", "c", "--out", "/tmp/never-run"]] {
            try assertFails(command + ["--threads", "0"], status: 64, mentions: "--threads must be 1...")
        }
        try assertFails(["train", "prior", "--codes", "c", "--width", "1099511627776", "--heads", "4", "--out", "/tmp/never-run"],
                        status: 64, mentions: "--width must be 1...4096")
        try assertFails(["train", "tokenizer", "--clips", clip, "--size", "8192x8192", "--grid", "1024x1024", "--out", "/tmp/never-run"],
                        status: 64, mentions: "--size must be at most 1024x1024")
        try assertFails(["train", "prior", "--codes", "c", "--lr", "nan", "--out", "/tmp/never-run"], status: 64, mentions: "--lr must be in (0, 1)")
        // A negative number reaches the range check (it used to be "Missing value for '--frames'").
        try assertFails(predict + ["--frames", "-5"], status: 64, mentions: "--frames must be 1...100000")
        try assertFails(predict + ["--temperature", "-1.5"], status: 64, mentions: "--temperature")
        try assertFails(predict + ["--start", "-1"], status: 64, mentions: "--start must be 0...100000000")
        try assertFails(predict + ["--actions", "LEFT*1000000000"], status: 1, mentions: "more than 100000 actions")
        try assertFails(predict + ["--actions", "/no/such/actions.csv"], status: 1, mentions: "no such action file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/never-run"))
    }

    /// A prior checkpoint with its config or weights edited.
    func craftedPrior(_ edit: (inout SafeTensorsFile) throws -> Void) throws -> String {
        var file = try SafeTensorsFile.read(path: try Fixtures.prior())
        try edit(&file)
        let path = Fixtures.directory.file("crafted-\(UUID().uuidString).safetensors")
        try file.write(path: path)
        return path
    }

    func testCraftedModelFilesAreRefusedBeforeAllocating() throws {
        let tok = try Fixtures.tokenizer(), clip = try Fixtures.clip()
        func predict(_ prior: String) -> [String] {
            ["predict", clip, "--tokenizer", tok, "--prior", prior, "--frames", "2", "--actions", "LEFT*2", "-o", "/tmp/never.codes.safetensors"]
        }
        for (key, value, expected) in [("layers", 100_000, "layers 100000 must be at most 64"), ("width", 1_048_576, "width 1048576 must be at most 4096")] {
            let prior = try craftedPrior { file in
                var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(file.metadata["config"]!.utf8)) as? [String: Any])
                config[key] = value
                file.metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
            }
            let started = Date()
            try assertFails(predict(prior), status: 1, mentions: expected)
            XCTAssertLessThan(Date().timeIntervalSince(started), 30)
        }
        // NaN weights are named.
        let nan = try craftedPrior { file in
            let index = try XCTUnwrap(file.entries.firstIndex { $0.name == "head.weight" })
            var values = try file.entries[index].floats()
            values[3] = .nan
            file.entries[index] = try TensorEntry(name: "head.weight", floats: values, shape: file.entries[index].shape)
        }
        try assertFails(predict(nan), status: 1, mentions: "head.weight holds NaN or infinite values")
        // An F16 tensor relabelled BF16 (same bytes, other values) is refused by name; the same
        // file with F16 labels loads.
        var compact = try SafeTensorsFile.read(path: try Fixtures.prior())
        compact.entries = try compact.entries.map { entry in
            entry.dtype == .f32 ? try TensorEntry(name: entry.name, floats: try entry.floats(), shape: entry.shape, storedAs: .f16) : entry
        }
        let f16 = Fixtures.directory.file("f16-\(UUID().uuidString).safetensors")
        try compact.write(path: f16)
        XCTAssertEqual(try ProcessRunner.framecast(predict(f16)).status, 0)
        let index = try XCTUnwrap(compact.entries.firstIndex { $0.name == "head.weight" })
        let entry = compact.entries[index]
        compact.entries[index] = try TensorEntry(name: entry.name, dtype: .bf16, shape: entry.shape, bytes: entry.bytes)
        let bf16 = Fixtures.directory.file("bf16-\(UUID().uuidString).safetensors")
        try compact.write(path: bf16)
        try assertFails(predict(bf16), status: 1, mentions: "tensor head.weight is stored as BF16")
        // A directory given as a checkpoint.
        try assertFails(predict(Fixtures.directory.path), status: 1, mentions: "it is a folder")
    }

    func testTrainingRunsRefuseWhatTheyWouldSilentlyGetWrong() throws {
        let codes = try Fixtures.codes(), dir = TemporaryDirectory()
        let run = dir.file("run")
        let args = ["train", "prior", "--codes", codes, "--steps", "3", "--layers", "1", "--width", "32", "--heads", "2", "--context", "3",
                    "--batch", "2", "--threads", "2"]
        XCTAssertEqual(try ProcessRunner.framecast(args + ["--checkpoint-every", "1", "--out", run]).status, 0)
        // A new run into it would overwrite it.
        try assertFails(args + ["--out", run], status: 1, mentions: "already holds a run")
        // A changed setting on --resume is refused, not ignored.
        try assertFails(["train", "prior", "--resume", "--layers", "3", "--out", run], status: 64, mentions: "--layers is fixed when a run starts")
        // The cadence is the run's own on resume.
        let recorded = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/run.json"))) as? [String: [String]])
        XCTAssertEqual(recorded["checkpoint_every"], ["1"])
        // A checkpoint whose step is negative is refused.
        var checkpoint = try SafeTensorsFile.read(path: run + "/checkpoint.safetensors")
        checkpoint.metadata["step"] = "-5"
        try checkpoint.write(path: run + "/checkpoint.safetensors")
        try assertFails(["train", "prior", "--resume", "--out", run], status: 1, mentions: "not a training checkpoint")
        // An existing file where the run folder should be.
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.file("file")))
        try assertFails(args + ["--out", dir.file("file")], status: 1, mentions: "exists and is not a folder")
    }

    func testPipesAndDevicesAreNotReadAsEmptyVideos() throws {
        let dir = TemporaryDirectory()
        let fifo = dir.file("pipe.mp4")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for path in [fifo, "/dev/zero"] {
            try assertFails(["probe", path], status: 1, mentions: "\(path): is not a regular file (a named pipe, socket or device)")
        }
    }

    func testEncodeRefusesTwoVideosForOneCodeFile() throws {
        let clip = try Fixtures.clip(), dir = TemporaryDirectory()
        for sub in ["a", "b"] {
            try FileManager.default.createDirectory(atPath: dir.file(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: clip, toPath: dir.file("\(sub)/x.mp4"))
            try FileManager.default.copyItem(atPath: clip.replacingOccurrences(of: ".mp4", with: ".actions.csv"), toPath: dir.file("\(sub)/x.actions.csv"))
        }
        try assertFails(["encode", dir.file("a/x.mp4"), dir.file("b/x.mp4"), "--tokenizer", try Fixtures.tokenizer(), "-o", dir.file("out")],
                        status: 64, mentions: "would both be written to")
        XCTAssertEqual(files(dir.file("out")), [])
    }

    func testPredictWithoutASidecarFollowsTheScript() throws {
        let clip = try Fixtures.clip(), dir = TemporaryDirectory()
        let bare = dir.file("bare.mp4")
        try FileManager.default.copyItem(atPath: clip, toPath: bare)
        let base = ["predict", bare, "--tokenizer", try Fixtures.tokenizer(), "--prior", try Fixtures.prior(), "-o", dir.file("p.codes.safetensors")]
        let result = try ProcessRunner.framecast(base + ["--actions", "LEFT*4"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try CodeClip.read(path: dir.file("p.codes.safetensors")).frames, 3 + 4)
        try assertFails(base, status: 1, mentions: "no NAME.actions.csv sidecar")
    }

    func testPredictRefusesASidecarWithOneRowTooFewOrTooMany() throws {
        let clip = try Fixtures.clip(), dir = TemporaryDirectory()
        let csv = try String(contentsOfFile: clip.replacingOccurrences(of: ".mp4", with: ".actions.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let rows = lines.count - 1
        let video = dir.file("v.mp4")
        try FileManager.default.copyItem(atPath: clip, toPath: video)
        let base = ["predict", video, "--tokenizer", try Fixtures.tokenizer(), "--prior", try Fixtures.prior(), "--frames", "2",
                    "-o", dir.file("p.codes.safetensors")]
        var extra = lines.last!.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        extra[0] = String(rows)
        for (edited, count) in [(Array(lines.dropLast()), rows - 1), (lines + [extra.joined(separator: ",")], rows + 1)] {
            try (edited.joined(separator: "\n") + "\n").write(toFile: dir.file("v.actions.csv"), atomically: true, encoding: .utf8)
            try assertFails(base, status: 1, mentions: "has \(count) action rows but \(video) has \(rows) frames")
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir.file("v.actions.csv"), atomically: true, encoding: .utf8)
        let ok = try ProcessRunner.framecast(base)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(files(dir.path), ["p.codes.safetensors", "v.actions.csv", "v.mp4"])
    }

    /// SIGTERM and SIGINT in the middle of writing an MP4: the process ends with 128 + the signal
    /// and removes its temporary file.
    func testSignalsRemoveTheTemporaryFile() throws {
        let dir = TemporaryDirectory()
        let long = dir.file("long.mp4")
        try SyntheticVideo.write(to: long, count: 600, width: 64, height: 64, fps: 30)
        for (signalNumber, name) in [(SIGTERM, "TERM"), (SIGINT, "INT")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ProcessRunner.framecast)
            process.arguments = ["transcode", long, "-o", dir.file("out.mp4"), "--size", "1024x1024"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait until the temporary file exists, then signal.
            let deadline = Date().addingTimeInterval(60)
            while !files(dir.path).contains(where: { $0.hasPrefix(".out.mp4.partial-") }) && Date() < deadline && process.isRunning {
                usleep(20_000)
            }
            XCTAssertTrue(process.isRunning, "transcode ended before it could be signalled (\(name))")
            kill(process.processIdentifier, signalNumber)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 128 + signalNumber, name)
            XCTAssertEqual(files(dir.path), ["long.mp4"], "after SIG\(name)")
        }
    }
}
