import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an output could not be written, naming the destination.
public struct AtomicFileError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The destination path.
    public let path: String
    /// The reason, in words.
    public let reason: String

    public init(_ path: String, _ reason: String) {
        (self.path, self.reason) = (path, reason)
    }

    public var description: String { "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// An output file that readers see either as it was or complete: everything is written to a
/// temporary file beside the destination (`.NAME.partial-PID-N`), which `commit()` flushes to
/// disk and renames over the destination. A file never committed is removed (`discard()`, or
/// when the value is released). Every writer of framecast (weights, code files, MP4s, PNGs,
/// logs, reports) goes through this type.
public final class AtomicFile: @unchecked Sendable {
    /// Where the file ends up.
    public let destination: String
    /// Where it is written until `commit()`.
    public let temporaryPath: String
    private let lock = NSLock()
    private var open = true

    /// Temporary files made by this process, to tell them apart.
    private static let made = Locked(0)

    /// Reserves a temporary path beside `destination` (nothing is created yet) and removes
    /// temporary files of this naming left beside it by processes that no longer run. The
    /// temporary file is removed if the process is stopped by SIGINT, SIGTERM or SIGHUP
    /// (`installSignalCleanup`).
    /// - Throws: `AtomicFileError` when the destination's folder does not exist or the destination
    ///   exists and is not a regular file (a folder, a device such as /dev/null, a pipe).
    public init(_ destination: String) throws {
        try Self.checkOutput(destination)
        let url = URL(fileURLWithPath: destination)
        let directory = url.deletingLastPathComponent().path
        Self.removeStaleTemporaries(of: url.lastPathComponent, in: directory)
        let n = Self.made.withLock { $0 += 1; return $0 }
        self.destination = destination
        temporaryPath = directory + "/." + url.lastPathComponent + ".partial-\(getpid())-\(n)"
        Self.pending.withLock { _ = $0.insert(temporaryPath) }
    }

    deinit { discard() }

    /// Checks that `path` can be written as an output before any work is done: its folder exists,
    /// it is not an existing non-regular file, and it is none of `inputs` (by file identity, so
    /// another spelling of an input's path is caught too).
    /// - Throws: `AtomicFileError` naming `path` and the problem.
    public static func checkOutput(_ path: String, notAny inputs: [String] = []) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AtomicFileError(path, "cannot write: folder \(directory) does not exist")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return }                          // a new file
        guard info.st_mode & S_IFMT == S_IFREG else {
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "a folder" : "not a regular file"
            throw AtomicFileError(path, "cannot write: it is \(kind); framecast writes regular files only")
        }
        for input in inputs {
            var other = stat()
            if stat(input, &other) == 0, other.st_dev == info.st_dev, other.st_ino == info.st_ino {
                throw AtomicFileError(path, "cannot write: it is the input \(input); choose another output")
            }
        }
    }

    /// Temporary files being written, removed by the signal handler.
    private static let pending = Locked<Set<String>>([])

    /// Child processes that get the same signal and are waited for before this one ends.
    private static let children = Locked<[pid_t]>([])

    /// Makes the signal cleanup pass SIGINT, SIGTERM and SIGHUP on to `pids` and wait for them to
    /// end (and so clean up their own temporary files) before this process ends.
    public static func forwardSignals(to pids: [pid_t]) {
        children.withLock { $0 = pids }
    }

    /// On SIGINT, SIGTERM and SIGHUP: removes every temporary file not yet committed, passes the
    /// signal on to the children given to `forwardSignals(to:)` and waits for them, then ends the
    /// process with the signal's status (128 + signal). Call once at start-up.
    public static func installSignalCleanup() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                for path in pending.withLock({ $0 }) { unlink(path) }
                let pids = children.withLock { $0 }
                for pid in pids { kill(pid, signalNumber) }
                for pid in pids { var status: Int32 = 0; waitpid(pid, &status, 0) }
                _exit(128 + signalNumber)
            }
            source.resume()
            signalSources.withLock { $0.append(source) }
        }
    }

    private static let signalSources = Locked<[any DispatchSourceSignal]>([])

    /// Removes `.NAME.partial-PID-N` (and the older `.NAME.partial-PID`) files in `directory`
    /// whose process no longer runs.
    private static func removeStaleTemporaries(of name: String, in directory: String) {
        let prefix = "." + name + ".partial-"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for entry in entries where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count).prefix { $0 != "-" }), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(directory + "/" + entry) }
        }
    }

    /// Flushes the temporary file to disk and renames it over the destination.
    /// - Throws: `AtomicFileError`; the temporary file is then removed and the destination untouched.
    public func commit() throws {
        try lock.withLock {
            guard open else { throw AtomicFileError(destination, "already committed or discarded") }
            open = false
            func fail(_ action: String) -> AtomicFileError {
                let reason = String(cString: strerror(errno))
                unlink(temporaryPath)
                return AtomicFileError(destination, "\(action) (\(reason))")
            }
            let descriptor = Glibc.open(temporaryPath, O_RDONLY)
            guard descriptor >= 0 else { throw fail("cannot reopen the written file") }
            let synced = fsync(descriptor)
            close(descriptor)
            guard synced == 0 else { throw fail("cannot flush the file to disk") }
            guard rename(temporaryPath, destination) == 0 else { throw fail("cannot move the finished file into place") }
            Self.pending.withLock { _ = $0.remove(temporaryPath) }
        }
    }

    /// Removes the temporary file unless it was committed.
    public func discard() {
        lock.withLock {
            guard open else { return }
            open = false
            unlink(temporaryPath)
            Self.pending.withLock { _ = $0.remove(temporaryPath) }
        }
    }

    /// Writes `data` to `path` atomically: temporary file, fsync, rename.
    /// - Throws: `AtomicFileError` naming `path`; `path` is then untouched and no temporary file is left.
    public static func write(_ data: Data, to path: String) throws {
        let file = try AtomicFile(path)
        let descriptor = Glibc.open(file.temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else {
            throw AtomicFileError(path, "cannot write (\(String(cString: strerror(errno))))")
        }
        var failure: String?
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var written = 0
            while written < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                written += result
            }
        }
        close(descriptor)
        if let failure {
            file.discard()
            throw AtomicFileError(path, "cannot write (\(failure))")
        }
        try file.commit()
    }
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }
}
