import ArgumentParser
import CProcessStart
import FileOutput
import Foundation
import NN
#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel training's processes: `--nproc N` starts N local workers (this executable again,
/// one rank each), and the torchrun environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
/// makes this process one rank of a group, on this machine or several.
enum DataParallel {
    /// How long a collective (or the rendezvous) may wait for the other ranks.
    static let timeout = 300.0

    /// This process's rank settings from the environment, or nil when RANK and WORLD_SIZE are unset.
    /// - Throws: `ValidationError` naming the variable that is missing or malformed.
    static func rankFromEnvironment() throws -> (rank: Int, size: Int, host: String, port: Int)? {
        let env = ProcessInfo.processInfo.environment
        guard env["RANK"] != nil || env["WORLD_SIZE"] != nil else { return nil }
        func number(_ name: String, _ range: ClosedRange<Int>) throws -> Int {
            guard let text = env[name], let value = Int(text), range.contains(value) else {
                throw ValidationError("data-parallel training: \(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got \(env[name].map { "'\($0)'" } ?? "nothing")")
            }
            return value
        }
        let size = try number("WORLD_SIZE", 1...256)
        let rank = try number("RANK", 0...(size - 1))
        let port = try number("MASTER_PORT", 1...65535)
        guard let host = env["MASTER_ADDR"], !host.isEmpty else { throw ValidationError("data-parallel training: MASTER_ADDR is not set") }
        // A worker started by --nproc ends with its launcher.
        if let parent = env["FRAMECAST_LAUNCHER_PID"].flatMap(Int32.init) {
            if fc_end_with_parent(parent) != 0 { exit(1) }
        }
        return (rank, size, host, port)
    }

    /// Joins the group the environment describes (nil without one).
    static func joinFromEnvironment() throws -> ProcessGroup? {
        guard let r = try rankFromEnvironment(), r.size > 1 else { return nil }
        return try ProcessGroup(host: r.host, port: r.port, rank: r.rank, size: r.size, timeout: timeout)
    }

    /// Where a training command starts: with `processes` > 1 and no torchrun environment, relaunches
    /// itself as that many local workers (never returns); otherwise sets the compute threads
    /// (`threads`, default all cores) and joins the environment's group, if any (nil: one process).
    /// On `device` .cuda it runs in one process only (the group's collectives are Gloo's, on the CPU).
    static func start(processes n: Int, threads: Int?, device: ComputeDevice, label: String) throws -> ProcessGroup? {
        if device == .cuda, try n > 1 || rankFromEnvironment() != nil {
            throw ValidationError("--device cuda trains in one process: data-parallel training (--nproc, RANK/WORLD_SIZE) runs on the CPU (Gloo)")
        }
        if n > 1, try rankFromEnvironment() == nil {
            try launch(workers: n, threads: max(1, Torch.allCores / n), label: label)
        }
        Torch.setThreads(threads ?? Torch.allCores)
        try Torch.setDevice(device)
        return try joinFromEnvironment()
    }

    /// Runs this command again as `n` local workers (ranks 0..<n over 127.0.0.1) with `threads`
    /// compute threads each, and waits for them. When one fails, the others are given time to stop
    /// on their own (their next collective fails), then stopped. Rank 0 writes to this process's
    /// standard error; the other ranks' is held back (an unlinked temporary file each) and shown,
    /// line by line with its rank, only when that rank failed first or every rank succeeded, so an
    /// error that every rank meets reads once instead of interleaved.
    /// - Returns: never; exits with 0 when every worker succeeded, else 1.
    static func launch(workers n: Int, threads: Int, label: String) throws -> Never {
        let port = try ProcessGroup.freeLocalPort()
        var arguments = Array(CommandLine.arguments.dropFirst())
        // Drop --nproc N / --nproc=N; give each worker its share of the cores unless --threads is set.
        var i = 0
        while i < arguments.count {
            if arguments[i] == "--nproc" { arguments.removeSubrange(i..<min(i + 2, arguments.count)); continue }
            if arguments[i].hasPrefix("--nproc=") { arguments.remove(at: i); continue }
            i += 1
        }
        if !arguments.contains(where: { $0 == "--threads" || $0.hasPrefix("--threads=") }) { arguments += ["--threads", String(threads)] }
        var pids: [pid_t] = []
        let captured = try (1..<n).map { _ in try unlinkedTemporaryFile() }
        defer { captured.forEach { close($0) } }
        for rank in 0..<n {
            var env = ProcessInfo.processInfo.environment
            env["RANK"] = String(rank)
            env["WORLD_SIZE"] = String(n)
            env["MASTER_ADDR"] = "127.0.0.1"
            env["MASTER_PORT"] = String(port)
            env["FRAMECAST_LAUNCHER_PID"] = String(getpid())
            pids.append(try spawn("/proc/self/exe", arguments: [CommandLine.arguments[0]] + arguments, environment: env,
                                  standardError: rank == 0 ? nil : captured[rank - 1]))
        }
        // A signal to the launcher reaches the workers, which clean up; it ends after them.
        AtomicFile.forwardSignals(to: pids)
        FileHandle.standardError.write(Data("\(label): \(n) processes (\(threads) thread\(threads == 1 ? "" : "s") each), rendezvous on 127.0.0.1:\(port)\n".utf8))
        var failure: (rank: Int, status: Int32)?
        var running = Set(pids)
        var deadline: Date?
        while !running.isEmpty {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, deadline == nil ? 0 : WNOHANG)
            if pid > 0, running.remove(pid) != nil {
                let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                if code != 0, failure == nil {
                    failure = (pids.firstIndex(of: pid) ?? -1, code)
                    deadline = Date().addingTimeInterval(60)
                }
            } else if let deadline, Date() > deadline {
                for pid in running { kill(pid, SIGTERM) }
                self.waitAll(running)
                break
            } else if pid <= 0 {
                usleep(100_000)
            }
        }
        for rank in 1..<n where failure == nil || failure?.rank == rank {
            let text = contents(of: captured[rank - 1])
            let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { "rank \(rank): \($0)\n" }
            FileHandle.standardError.write(Data(lines.joined().utf8))
        }
        if let failure {
            FileHandle.standardError.write(Data("\(label): rank \(failure.rank) of \(n) failed (exit status \(failure.status)); the others were stopped\n".utf8))
            exit(1)
        }
        exit(0)
    }

    private static func waitAll(_ pids: Set<pid_t>) {
        for pid in pids { var status: Int32 = 0; waitpid(pid, &status, 0) }
    }

    /// A file with no name (removed as soon as it is made), open for reading and writing: nothing
    /// is left behind however the launcher ends.
    private static func unlinkedTemporaryFile() throws -> Int32 {
        var template = Array((NSTemporaryDirectory() + "/framecast-rank-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ValidationError("cannot make a temporary file for a worker's messages: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)   // only the worker it is given to (as its fd 2) holds it
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return fd
    }

    /// Everything written to `fd` from its start (a worker's held-back standard error).
    private static func contents(of fd: Int32) -> String {
        var data = Data(), buffer = [UInt8](repeating: 0, count: 65536), offset: off_t = 0
        while true {
            let count = pread(fd, &buffer, buffer.count, offset)
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
            offset += off_t(count)
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func spawn(_ path: String, arguments: [String], environment: [String: String], standardError: Int32?) throws -> pid_t {
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let standardError { posix_spawn_file_actions_adddup2(&actions, standardError, 2) }
        let result = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard result == 0 else { throw ValidationError("cannot start a worker process: \(String(cString: strerror(result)))") }
        return pid
    }
}
