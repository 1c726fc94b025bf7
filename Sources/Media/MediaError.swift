import CFFmpeg
import Foundation

/// An error from reading or writing media. Its message names the file and the problem.
public struct MediaError: Error, CustomStringConvertible, LocalizedError, Sendable {
    /// The file the error is about (may be empty when no file is involved).
    public let path: String
    /// What went wrong, in words a user can act on.
    public let reason: String

    public init(_ path: String, _ reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }
    public var errorDescription: String? { description }
}

/// FFmpeg's text for an error code, e.g. "Invalid data found when processing input".
func ffmpegErrorString(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: Int(cff_error_buf_size()))
    av_strerror(code, &buffer, buffer.count)
    let nul = buffer.firstIndex(of: 0) ?? buffer.count
    return String(decoding: buffer[..<nul].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Silences FFmpeg's own log output (framecast reports errors itself), once per process.
let quietFFmpegLogs: Void = {
    av_log_set_level(AV_LOG_QUIET)
}()
