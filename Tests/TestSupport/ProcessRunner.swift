import Foundation

/// The result of running a program to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    /// True when the process died from a signal (a crash), not an exit.
    public var crashed: Bool
    /// True when it was killed for running past its deadline.
    public var timedOut: Bool
    public var stdout: String
    public var stderr: String
}

/// Runs programs for tests: the built `framecast` binary, `ffmpeg`, `python3`.
public enum ProcessRunner {
    /// The directory holding the built products (the test bundle sits beside `framecast`).
    public static var productsDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    /// Path of the built `framecast` executable.
    public static var framecast: String { productsDirectory.appendingPathComponent("framecast").path }

    /// Finds `name` on PATH, or nil.
    public static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `executable` with `arguments`, killing it after `timeout` seconds; `environment`
    /// replaces this process's environment for it when given.
    public static func run(_ executable: String, _ arguments: [String], timeout: Double = 120,
                           currentDirectory: String? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let dir = NSTemporaryDirectory() + "fc-proc-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = FileManager.default.createFile(atPath: dir + "/out", contents: nil)
        _ = FileManager.default.createFile(atPath: dir + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                process.waitUntilExit()
                break
            }
            usleep(2000)
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
        return ProcessResult(status: process.terminationStatus,
                             crashed: process.terminationReason == .uncaughtSignal && !timedOut,
                             timedOut: timedOut, stdout: stdout, stderr: stderr)
    }

    /// Runs the built `framecast` with `arguments`.
    public static func framecast(_ arguments: [String], timeout: Double = 300) throws -> ProcessResult {
        try run(framecast, arguments, timeout: timeout)
    }
}
