import FileOutput
import Foundation

/// A safetensors file in memory: ordered tensors plus string metadata.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON header, then the data buffer.
///
/// Ordering and determinism: tensors are written to the data buffer in the order of `entries`,
/// and the header's keys are sorted by their UTF-8 bytes (`__metadata__` included; it is left
/// out when `metadata` is empty), with each tensor's fields in the order `dtype`, `shape`,
/// `data_offsets`. The header is padded with spaces so the buffer starts 8-byte aligned.
/// The same value therefore always encodes to the same bytes. Reading orders `entries` by
/// data offset (ties by name), so a written file reads back in the order it was written.
public struct SafeTensorsFile: Sendable, Equatable {
    /// Headers larger than this are rejected as corrupt (100 MB).
    public static let maxHeaderLength = 100_000_000

    /// The tensors, in data-buffer order.
    public var entries: [TensorEntry]
    /// The `__metadata__` map (string to string).
    public var metadata: [String: String]

    /// Creates a file from tensors and metadata. Names are checked when encoding.
    public init(entries: [TensorEntry] = [], metadata: [String: String] = [:]) {
        self.entries = entries
        self.metadata = metadata
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> TensorEntry? {
        entries.first { $0.name == name }
    }

    /// Reads and validates the file at `url`.
    /// - Throws: `SafeTensorsError` naming the file and the problem.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            let kind = info.st_mode & S_IFMT == S_IFDIR ? "it is a folder" : "it is not a regular file"
            throw SafeTensorsError(file: url.path, problem: .cannotRead(reason: kind))
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw SafeTensorsError(file: url.path, problem: .cannotRead(reason: describe(error)))
        }
        return try SafeTensorsFile(data: data, fileName: url.path)
    }

    /// Reads and validates the file at `path`.
    /// - Throws: `SafeTensorsError` naming the file and the problem.
    public static func read(path: String) throws -> SafeTensorsFile {
        try read(from: URL(fileURLWithPath: path))
    }

    /// Writes the file to `url` atomically: the bytes go to a temporary file in the same
    /// directory, which is then renamed over `url`. On failure `url` is left as it was and the
    /// temporary file is removed.
    /// - Throws: `SafeTensorsError` naming the file and the problem.
    public func write(to url: URL) throws {
        let bytes: Data
        do {
            bytes = try data()
        } catch let error as SafeTensorsError {
            throw SafeTensorsError(file: url.path, problem: error.problem)
        }
        do {
            try AtomicFile.write(bytes, to: url.path)
        } catch let error as AtomicFileError {
            throw SafeTensorsError(file: url.path, problem: .cannotWrite(reason: error.reason))
        }
    }

    /// Writes the file to `path` atomically; see `write(to:)`.
    public func write(path: String) throws {
        try write(to: URL(fileURLWithPath: path))
    }
}

/// A readable reason from a Foundation file-reading error.
func describe(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError {
        switch cocoa.code {
        case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
        case .fileReadNoPermission: return "permission denied"
        default: break
        }
    }
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    return nsError.localizedDescription
}
