/// An error reading, writing or converting safetensors data.
///
/// `description` names the file (when there is one) and the problem, e.g.
/// `weights.safetensors: header length 4294967296 exceeds the 100 MB limit`.
public struct SafeTensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Problem: Sendable, Equatable {
        /// The file could not be opened or read.
        case cannotRead(reason: String)
        /// The file could not be written.
        case cannotWrite(reason: String)
        /// The file is shorter than the 8-byte header-length prefix.
        case tooShort(size: Int)
        /// The declared header length is larger than the rest of the file.
        case headerLengthExceedsFile(length: UInt64, available: Int)
        /// The declared header length is larger than the sanity limit.
        case headerLengthOverLimit(length: UInt64, limit: Int)
        /// The header is not valid JSON.
        case invalidJSON(reason: String)
        /// The header is valid JSON but not a valid safetensors header.
        case invalidHeader(reason: String)
        /// A tensor declares a dtype this reader does not know.
        case unknownDType(tensor: String, dtype: String)
        /// A tensor's byte count does not equal product(shape) * dtype size.
        case byteCountMismatch(tensor: String, dtype: DType, shape: [Int], expected: Int, actual: Int)
        /// A tensor's `data_offsets` are not a valid `[begin, end]` range.
        case invalidOffsets(tensor: String, begin: Int, end: Int)
        /// Two tensors' byte ranges overlap.
        case overlappingTensors(first: String, second: String)
        /// A tensor's bytes extend past the end of the file.
        case truncatedData(tensor: String, end: Int, available: Int)
        /// A `__metadata__` value is not a string (or `__metadata__` is not an object).
        case nonStringMetadata(key: String)
        /// Two tensors share a name.
        case duplicateTensor(name: String)
        /// A tensor uses the reserved name `__metadata__` or the empty name.
        case reservedName(name: String)
        /// A typed constructor got a number of values that does not fit the shape.
        case elementCountMismatch(tensor: String, shape: [Int], count: Int)
        /// A typed accessor was used on a tensor of another dtype.
        case wrongDType(tensor: String, expected: [DType], found: DType)
    }

    /// The file involved, or `nil` for in-memory data and single tensors.
    public let file: String?
    /// What went wrong.
    public let problem: Problem

    /// Creates an error about `file` (or about in-memory data when `nil`).
    public init(file: String?, problem: Problem) {
        self.file = file
        self.problem = problem
    }

    public var description: String {
        let prefix = file.map { "\($0): " } ?? ""
        return prefix + problem.message
    }
}

extension SafeTensorsError.Problem {
    var message: String {
        switch self {
        case .cannotRead(let reason):
            return "cannot read safetensors file: \(reason)"
        case .cannotWrite(let reason):
            return "cannot write safetensors file: \(reason)"
        case .tooShort(let size):
            return "file too short to be safetensors (\(size) bytes; needs at least the 8-byte header length)"
        case .headerLengthExceedsFile(let length, let available):
            return "header length \(length) exceeds the file (only \(available) bytes follow the length prefix)"
        case .headerLengthOverLimit(let length, let limit):
            return "header length \(length) exceeds the \(limit / 1_000_000) MB limit"
        case .invalidJSON(let reason):
            return "header is not valid JSON: \(reason)"
        case .invalidHeader(let reason):
            return "invalid header: \(reason)"
        case .unknownDType(let tensor, let dtype):
            return "tensor '\(tensor)' has unknown dtype '\(dtype)'"
        case .byteCountMismatch(let tensor, let dtype, let shape, let expected, let actual):
            return "tensor '\(tensor)' (\(dtype.rawValue), shape \(shape)) needs \(expected) bytes "
                + "but its data_offsets span \(actual) bytes"
        case .invalidOffsets(let tensor, let begin, let end):
            return "tensor '\(tensor)' has invalid data_offsets [\(begin), \(end)]"
        case .overlappingTensors(let first, let second):
            return "tensors '\(first)' and '\(second)' have overlapping data_offsets"
        case .truncatedData(let tensor, let end, let available):
            return "truncated data: tensor '\(tensor)' ends at byte \(end) of the data buffer, "
                + "but the file holds only \(available) data bytes"
        case .nonStringMetadata(let key):
            return key.isEmpty
                ? "__metadata__ must be an object of string values"
                : "non-string metadata value for key '\(key)' (metadata values must be strings)"
        case .duplicateTensor(let name):
            return "duplicate tensor name '\(name)'"
        case .reservedName(let name):
            return "tensor name '\(name)' is reserved or empty"
        case .elementCountMismatch(let tensor, let shape, let count):
            return "tensor '\(tensor)': \(count) values do not fit shape \(shape)"
        case .wrongDType(let tensor, let expected, let found):
            let names = expected.map(\.rawValue).joined(separator: " or ")
            return "tensor '\(tensor)' is \(found.rawValue), expected \(names)"
        }
    }
}
