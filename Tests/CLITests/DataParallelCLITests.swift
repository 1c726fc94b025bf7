import Foundation
import NN
import Prior
import TestSupport
import VQVAE
import XCTest

/// `train prior --nproc N` and `train tokenizer --nproc N`: N local processes over c10d/Gloo follow
/// one process with the whole batch, a rank that dies stops the others, and a run resumes with any N.
final class DataParallelCLITests: XCTestCase {
    private let fixture = TemporaryDirectory()

    private func arguments(_ out: String, steps: Int) throws -> [String] {
        ["train", "prior", "--codes", try Fixtures.codes(), "--layers", "1", "--width", "32", "--heads", "2", "--context", "3",
         "--training-frames", "6", "--batch", "4", "--steps", String(steps), "--log-every", "1", "--checkpoint-every", "1", "--out", out]
    }

    private func weights(_ path: String) throws -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for (name, tensor) in try PriorCheckpoint.load(path).model.namedParameters { out[name] = try tensor.floats() }
        return out
    }

    private func assertClose(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try weights(a), y = try weights(b)
        XCTAssertEqual(Set(x.keys), Set(y.keys), file: file, line: line)
        for (name, values) in x {
            let worst = zip(values, y[name] ?? []).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(name): \(a) against \(b)", file: file, line: line)
        }
    }

    private func loggedSteps(_ run: String) -> [Int] {
        ((try? String(contentsOfFile: run + "/log.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["step"] as? Int
        }
    }

    /// Starts `arguments` and kills the launcher (SIGKILL) once the run has logged `steps` steps.
    private func startAndKill(_ arguments: [String], run: String, afterSteps steps: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.framecast)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning, loggedSteps(run).count < steps { usleep(20_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        usleep(500_000)   // its workers end with it (PR_SET_PDEATHSIG)
    }

    func testTwoProcessesWithHalfTheBatchFollowOneWithTheWholeBatch() throws {
        let one = fixture.file("one"), two = fixture.file("two")
        var result = try ProcessRunner.framecast(try arguments(one, steps: 20) + ["--threads", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try ProcessRunner.framecast(try arguments(two, steps: 20) + ["--nproc", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("train prior: 2 processes (1 thread each)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("rank 0 of 2"), result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "rank 0 alone prints the report: \(result.stdout)")
        XCTAssertEqual(loggedSteps(two), Array(1...20), "rank 0 alone logs, once per step")
        try assertClose(one + "/prior.safetensors", two + "/prior.safetensors")
    }

    func testASignalToTheLauncherEndsTheRunCleanly() throws {
        for (signalNumber, name) in [(SIGTERM, "TERM"), (SIGINT, "INT")] {
            let run = fixture.file("signal-\(name)")
            let launcher = Process()
            launcher.executableURL = URL(fileURLWithPath: ProcessRunner.framecast)
            launcher.arguments = try arguments(run, steps: 1_000_000) + ["--nproc", "2"]
            launcher.standardError = FileHandle.nullDevice
            launcher.standardOutput = FileHandle.nullDevice
            try launcher.run()
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, loggedSteps(run).count < 3 { usleep(20_000) }
            let workers = children(of: launcher.processIdentifier)
            XCTAssertEqual(workers.count, 2, name)
            kill(launcher.processIdentifier, signalNumber)
            launcher.waitUntilExit()
            XCTAssertEqual(launcher.terminationStatus, 128 + signalNumber, name)
            // No worker is left running, nor any temporary file of theirs; the checkpoint reads.
            for pid in workers { XCTAssertFalse(kill(pid, 0) == 0 && !isZombie(pid), "\(name): worker \(pid) still runs") }
            let left = try FileManager.default.contentsOfDirectory(atPath: run).filter { $0.contains(".partial-") }
            XCTAssertEqual(left, [], name)
            XCTAssertNoThrow(try PriorCheckpoint.resume(run + "/checkpoint.safetensors", data: PriorDataset(paths: [try Fixtures.codes()])), name)
        }
    }

    private func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2 else { return false }
            return Int32(fields[1]) == parent
        }
    }

    private func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    func testARankThatDiesStopsTheOthersAndTheCheckpointStaysIntact() throws {
        let run = fixture.file("dies")
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: ProcessRunner.framecast)
        launcher.arguments = try arguments(run, steps: 1_000_000) + ["--nproc", "2"]
        let errors = Pipe()
        launcher.standardError = errors
        launcher.standardOutput = FileHandle.nullDevice
        try launcher.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, loggedSteps(run).count < 3 { usleep(20_000) }
        // Rank 1: the launcher's child whose environment says RANK=1.
        let children = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).compactMap(Int32.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2 else { return false }
            return Int32(fields[1]) == launcher.processIdentifier
        }
        let rank1 = children.first { pid in
            ((try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()).split(separator: 0).contains(Data("RANK=1".utf8))
        }
        let victim = try XCTUnwrap(rank1, "no worker with RANK=1 among \(children)")
        let killed = Date()
        kill(victim, SIGKILL)
        while launcher.isRunning, Date().timeIntervalSince(killed) < 90 { usleep(50_000) }
        let stopped = Date().timeIntervalSince(killed)
        if launcher.isRunning { launcher.terminate() }
        launcher.waitUntilExit()
        XCTAssertLessThan(stopped, 60, "the launcher and rank 0 stopped within 60 s")
        XCTAssertEqual(launcher.terminationStatus, 1)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(stderr.contains("train prior: rank 1 of 2 failed"), stderr)
        XCTAssertNoThrow(try PriorCheckpoint.resume(run + "/checkpoint.safetensors", data: PriorDataset(paths: [try Fixtures.codes()])),
                         "the last checkpoint is intact")
    }

    func testAnErrorEveryRankMeetsReadsOnceAndWhole() throws {
        let missing = fixture.file("missing.codes.safetensors"), run = fixture.file("missing-run")
        var args = try arguments(run, steps: 3) + ["--nproc", "2"]
        args[args.firstIndex(of: "--codes")! + 1] = missing
        let result = try ProcessRunner.framecast(args)
        XCTAssertEqual(result.status, 1, result.stderr)
        // Rank 0's message as it wrote it; rank 1's (held back) at most once more, with its rank.
        let lines = result.stderr.split(separator: "\n").filter { $0.contains(missing) }
        XCTAssertTrue(lines.contains { $0.hasPrefix("Error: ") }, result.stderr)
        XCTAssertLessThanOrEqual(lines.count, 2, result.stderr)
        for line in lines where !line.hasPrefix("Error: ") { XCTAssertTrue(line.hasPrefix("rank 1: Error: "), result.stderr) }
        XCTAssertTrue(result.stderr.contains("train prior: rank "), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("framecast-rank-") }, [],
                       "no held-back message file is left")
    }

    func testTwoProcessesByDefaultUnlessThreadsOrAnOddBatchSayOtherwise() throws {
        let two = Torch.allCores >= 2
        let launcher = "train prior: 2 processes (\(max(1, Torch.allCores / 2)) thread"
        let plain = try ProcessRunner.framecast(try arguments(fixture.file("default"), steps: 2))
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(plain.stderr.contains(launcher), two, plain.stderr)
        let threads = try ProcessRunner.framecast(try arguments(fixture.file("threads"), steps: 2) + ["--threads", "2"])
        XCTAssertEqual(threads.status, 0, threads.stderr)
        XCTAssertFalse(threads.stderr.contains("processes ("), threads.stderr)
        var odd = try arguments(fixture.file("odd"), steps: 2)
        odd[odd.firstIndex(of: "--batch")! + 1] = "3"
        let oddRun = try ProcessRunner.framecast(odd)
        XCTAssertEqual(oddRun.status, 0, oddRun.stderr)
        XCTAssertFalse(oddRun.stderr.contains("processes ("), oddRun.stderr)
        // Resuming the odd-batch run keeps one process; the two-process run resumes with two.
        for (run, processes) in [("odd", 1), ("default", two ? 2 : 1)] {
            let more = try ProcessRunner.framecast(["train", "prior", "--resume", "--out", fixture.file(run)])
            XCTAssertEqual(more.status, 0, more.stderr)
            XCTAssertEqual(more.stderr.contains("processes ("), processes == 2, "\(run): \(more.stderr)")
        }
    }

    func testARunResumesWithAnotherNumberOfProcesses() throws {
        let reference = fixture.file("reference")
        let whole = try ProcessRunner.framecast(try arguments(reference, steps: 40) + ["--threads", "2"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        for (first, then) in [(["--threads", "2"], ["--nproc", "2"]), (["--nproc", "2"], ["--threads", "2"])] {
            let run = fixture.file("resumed-\(first[0])")
            try startAndKill(try arguments(run, steps: 40) + first, run: run, afterSteps: 8)
            XCTAssertLessThan(loggedSteps(run).count, 40, "killed before the end")
            let resumed = try ProcessRunner.framecast(["train", "prior", "--resume", "--out", run] + then)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("resuming at step"), resumed.stderr)
            XCTAssertEqual(loggedSteps(run), Array(1...40), "\(first) then \(then): one log line per step")
            try assertClose(reference + "/prior.safetensors", run + "/prior.safetensors")
        }
    }

    /// Two "machines": network namespaces joined by a veth pair, one rank in each, joined by the
    /// torchrun environment (MASTER_ADDR is rank 0's address on the pair; GLOO_SOCKET_IFNAME
    /// names each side's interface, as with PyTorch). Skipped where namespaces are not permitted.
    func testTwoMachinesJoinedByTheTorchrunEnvironment() throws {
        let ip = "/usr/sbin/ip", tag = String(getpid() % 100_000)
        let (a, b, va, vb) = ("fc-a\(tag)", "fc-b\(tag)", "fcva\(tag)", "fcvb\(tag)")
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip),
              try ProcessRunner.run(ip, ["netns", "add", a]).status == 0 else {
            throw XCTSkip("network namespaces are not permitted here (needs root and iproute2's ip netns)")
        }
        defer {
            _ = try? ProcessRunner.run(ip, ["netns", "del", a])
            _ = try? ProcessRunner.run(ip, ["netns", "del", b])
        }
        for command in [["netns", "add", b], ["link", "add", va, "type", "veth", "peer", "name", vb], ["link", "set", va, "netns", a],
                        ["link", "set", vb, "netns", b], ["-n", a, "addr", "add", "10.231.0.1/24", "dev", va],
                        ["-n", b, "addr", "add", "10.231.0.2/24", "dev", vb], ["-n", a, "link", "set", va, "up"],
                        ["-n", b, "link", "set", vb, "up"], ["-n", a, "link", "set", "lo", "up"], ["-n", b, "link", "set", "lo", "up"]] {
            let result = try ProcessRunner.run(ip, command)
            XCTAssertEqual(result.status, 0, "ip \(command.joined(separator: " ")): \(result.stderr)")
        }
        let one = fixture.file("machines-one"), two = fixture.file("machines-two")
        let single = try ProcessRunner.framecast(try arguments(one, steps: 20) + ["--threads", "2"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let common = try arguments(two, steps: 20) + ["--threads", "1"]
        func rank(_ r: Int, _ namespace: String, _ interface: String) -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: ip)
            process.arguments = ["netns", "exec", namespace, "env", "RANK=\(r)", "WORLD_SIZE=2", "MASTER_ADDR=10.231.0.1", "MASTER_PORT=29611",
                                 "GLOO_SOCKET_IFNAME=\(interface)", ProcessRunner.framecast] + common
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        let first = rank(0, a, va), second = rank(1, b, vb)
        try first.run()
        try second.run()
        first.waitUntilExit()
        second.waitUntilExit()
        XCTAssertEqual([first.terminationStatus, second.terminationStatus], [0, 0])
        try assertClose(one + "/prior.safetensors", two + "/prior.safetensors")
    }

    /// The tokenizer: gradients averaged, the codebook's EMA statistics summed and dead codes
    /// restarted from the whole batch's encodings, so two processes with half the batch each end
    /// where one process with the whole batch does. Not to 1e-5 in every weight: a convolution
    /// batched over 4 frames rounds differently from one over 8, and AdamW turns that noise into
    /// full-size steps for the conv biases just before a GroupNorm (whose true gradient is zero),
    /// so those drift apart by up to ~2e-3 in 20 steps without changing what the model computes.
    /// Checked: every step's logged loss (within 5e-4; 1e-4 apart at most where measured), and the
    /// two tokenizers' codes and reconstructions.
    func testTwoTokenizerProcessesFollowOne() throws {
        let one = fixture.file("tok-one"), two = fixture.file("tok-two")
        let common = ["train", "tokenizer", "--clips", try Fixtures.clip(), "--size", "16x16", "--grid", "4x4", "--codebook", "32x8",
                      "--channels", "16", "--batch", "8", "--steps", "20", "--log-every", "1", "--no-bfloat16"]
        var result = try ProcessRunner.framecast(common + ["--threads", "2", "--out", one])
        XCTAssertEqual(result.status, 0, result.stderr)
        result = try ProcessRunner.framecast(common + ["--nproc", "2", "--out", two])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("train tokenizer: 2 processes (1 thread each)"), result.stderr)
        func column(_ run: String, _ key: String) throws -> [Double] {
            try String(contentsOfFile: run + "/log.jsonl", encoding: .utf8).split(separator: "\n").compactMap {
                ((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?[key] as? NSNumber)?.doubleValue
            }
        }
        let (a, b) = (try column(one, "loss"), try column(two, "loss"))
        XCTAssertEqual(a.count, 20)
        XCTAssertEqual(b.count, 20)
        for (step, (x, y)) in zip(a, b).enumerated() { XCTAssertEqual(x, y, accuracy: 5e-4, "step \(step + 1) (logged to 4 decimals)") }
        XCTAssertGreaterThan(try column(one, "restarted").reduce(0, +), 0, "dead codes were restarted, so restarts are compared too")
        let first = try TokenizerCheckpoint.load(one + "/tokenizer.safetensors").model
        let second = try TokenizerCheckpoint.load(two + "/tokenizer.safetensors").model
        let frames = (0..<60).flatMap { SyntheticVideo.frame($0, width: 16, height: 16) }
        let (codesA, codesB) = (try first.encode(frames: frames, count: 60), try second.encode(frames: frames, count: 60))
        let same = Double(zip(codesA, codesB).filter { $0 == $1 }.count) / Double(codesA.count)
        XCTAssertGreaterThanOrEqual(same, 0.99, "codes the two tokenizers give 60 frames")
        func psnr(_ model: VQVAE, _ codes: [UInt16]) throws -> Double {
            let out = try model.decode(codes: codes, count: 60)
            var squared = 0.0
            for (x, y) in zip(out, frames) {
                let d = Double(x) - Double(y)
                squared += d * d
            }
            return 10 * log10(255 * 255 / (squared / Double(frames.count)))
        }
        XCTAssertEqual(try psnr(first, codesA), try psnr(second, codesB), accuracy: 0.02, "reconstruction PSNR (dB)")
    }

    /// A tokenizer run killed under two processes resumes under one (and the reverse) and follows an
    /// uninterrupted run: every step's logged loss within 1e-3 (the rounding difference between
    /// batched convolutions of 4 and 8 frames grows slowly: 2e-4 by step 49 was measured).
    func testATokenizerRunResumesWithAnotherNumberOfProcesses() throws {
        let common = ["train", "tokenizer", "--clips", try Fixtures.clip(), "--size", "16x16", "--grid", "4x4", "--codebook", "32x8",
                      "--channels", "16", "--batch", "8", "--steps", "60", "--log-every", "1", "--checkpoint-every", "1", "--no-bfloat16"]
        let reference = fixture.file("tok-reference")
        let whole = try ProcessRunner.framecast(common + ["--threads", "2", "--out", reference])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        func losses(_ run: String) throws -> [Int: Double] {
            var out: [Int: Double] = [:]
            for line in try String(contentsOfFile: run + "/log.jsonl", encoding: .utf8).split(separator: "\n") {
                let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                if let step = row?["step"] as? Int, let loss = (row?["loss"] as? NSNumber)?.doubleValue { out[step] = loss }
            }
            return out
        }
        let expected = try losses(reference)
        for (first, then) in [(["--nproc", "2"], ["--threads", "2"]), (["--threads", "2"], ["--nproc", "2"])] {
            let run = fixture.file("tok-resumed-\(first[0])")
            try startAndKill(common + first + ["--out", run], run: run, afterSteps: 10)
            let resumed = try ProcessRunner.framecast(["train", "tokenizer", "--resume", "--out", run] + then)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("resuming at step"), resumed.stderr)
            let got = try losses(run)
            XCTAssertEqual(got.keys.sorted(), Array(1...60), "\(first) then \(then): one log line per step")
            for step in 1...60 { XCTAssertEqual(got[step] ?? .nan, expected[step] ?? .nan, accuracy: 1e-3, "\(first) then \(then): step \(step)") }
        }
    }
}
