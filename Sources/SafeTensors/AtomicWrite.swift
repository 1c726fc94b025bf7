import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed.
struct AtomicWriteError: Error {
    let reason: String
}

/// Writes `data` to `url` so that readers see either the old file or the complete new one:
/// the bytes go to a uniquely named temporary file in the same directory, are flushed to disk,
/// and the temporary file is renamed over `url`. On any failure the temporary file is removed
/// and `url` is untouched.
func writeAtomically(_ data: Data, to url: URL) throws {
    let directory = url.deletingLastPathComponent().path
    let temporaryPath = directory + "/." + url.lastPathComponent + ".tmp-" + UUID().uuidString
    func posixFailure(_ action: String) -> AtomicWriteError {
        AtomicWriteError(reason: "\(action): \(String(cString: strerror(errno)))")
    }

    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else { throw posixFailure("cannot create a temporary file in \(directory)") }
    var succeeded = false
    defer {
        if !succeeded { unlink(temporaryPath) }
    }
    do {
        defer { close(descriptor) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var written = 0
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw posixFailure("writing \(temporaryPath) failed")
                }
                written += result
            }
        }
        guard fsync(descriptor) == 0 else { throw posixFailure("flushing \(temporaryPath) failed") }
    }
    guard rename(temporaryPath, url.path) == 0 else { throw posixFailure("cannot replace \(url.path)") }
    succeeded = true
}
