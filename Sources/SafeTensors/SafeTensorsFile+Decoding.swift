import Foundation

extension SafeTensorsFile {
    /// Parses and validates safetensors bytes.
    ///
    /// Checks: the length prefix is present; the header length fits the file and the 100 MB
    /// limit; the header is a JSON object; every tensor has a known dtype, a non-negative shape
    /// and `data_offsets` whose span equals product(shape) * dtype size, lies inside the data
    /// buffer and overlaps no other tensor; `__metadata__` maps strings to strings.
    /// - Parameter fileName: the name used in error messages (`nil` for in-memory data).
    /// - Throws: `SafeTensorsError` naming `fileName` and the problem.
    public init(data: Data, fileName: String? = nil) throws {
        func fail(_ problem: SafeTensorsError.Problem) -> SafeTensorsError {
            SafeTensorsError(file: fileName, problem: problem)
        }
        guard data.count >= 8 else { throw fail(.tooShort(size: data.count)) }
        let start = data.startIndex
        var headerLength: UInt64 = 0
        for (shift, byte) in data[start..<start + 8].enumerated() {
            headerLength |= UInt64(byte) << (8 * UInt64(shift))
        }
        guard headerLength <= UInt64(SafeTensorsFile.maxHeaderLength) else {
            throw fail(.headerLengthOverLimit(length: headerLength, limit: SafeTensorsFile.maxHeaderLength))
        }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail(.headerLengthExceedsFile(length: headerLength, available: data.count - 8))
        }
        let bufferStart = start + 8 + Int(headerLength)
        let header: JSONValue
        do {
            header = try JSONParser.parse(Array(data[start + 8..<bufferStart]))
        } catch let error as JSONSyntaxError {
            throw fail(.invalidJSON(reason: "\(error.message) at header byte \(error.offset)"))
        }
        guard case .object(let members) = header else {
            throw fail(.invalidHeader(reason: "the header is \(header.kindName), expected an object"))
        }

        let bufferLength = data.endIndex - bufferStart
        var metadata: [String: String] = [:]
        var located: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in members {
            if name == "__metadata__" {
                metadata = try SafeTensorsFile.parseMetadata(value, fail: fail)
                continue
            }
            let tensor = try SafeTensorsFile.parseTensorHeader(name: name, value: value, fail: fail)
            guard tensor.end <= bufferLength else {
                throw fail(.truncatedData(tensor: name, end: tensor.end, available: bufferLength))
            }
            located.append((name, tensor.dtype, tensor.shape, tensor.begin, tensor.end))
        }

        located.sort { lhs, rhs in
            if lhs.begin != rhs.begin { return lhs.begin < rhs.begin }
            if lhs.end != rhs.end { return lhs.end < rhs.end }
            return utf8Less(lhs.name, rhs.name)
        }
        var previous: (name: String, end: Int)?
        var entries: [TensorEntry] = []
        entries.reserveCapacity(located.count)
        for tensor in located {
            if tensor.end > tensor.begin {
                if let previous, tensor.begin < previous.end {
                    throw fail(.overlappingTensors(first: previous.name, second: tensor.name))
                }
                previous = (tensor.name, tensor.end)
            }
            let bytes = [UInt8](data[bufferStart + tensor.begin..<bufferStart + tensor.end])
            do {
                entries.append(try TensorEntry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, bytes: bytes))
            } catch let error as SafeTensorsError {
                throw fail(error.problem)
            }
        }
        self.init(entries: entries, metadata: metadata)
    }

    /// Validates one tensor's header object and returns its fields.
    static func parseTensorHeader(
        name: String, value: JSONValue, fail: (SafeTensorsError.Problem) -> SafeTensorsError
    ) throws -> (dtype: DType, shape: [Int], begin: Int, end: Int) {
        guard !name.isEmpty else { throw fail(.invalidHeader(reason: "a tensor has an empty name")) }
        guard case .object(let fields) = value else {
            throw fail(.invalidHeader(reason: "tensor '\(name)' is \(value.kindName), expected an object"))
        }
        func field(_ key: String) throws -> JSONValue {
            guard let found = fields.first(where: { $0.key == key }) else {
                throw fail(.invalidHeader(reason: "tensor '\(name)' has no '\(key)'"))
            }
            return found.value
        }
        func integers(_ key: String) throws -> [Int] {
            guard case .array(let items) = try field(key) else {
                throw fail(.invalidHeader(reason: "tensor '\(name)': '\(key)' must be an array of integers"))
            }
            return try items.map { item in
                guard case .integer(let number) = item, number >= 0 else {
                    throw fail(.invalidHeader(reason: "tensor '\(name)': '\(key)' must hold non-negative integers"))
                }
                return number
            }
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw fail(.invalidHeader(reason: "tensor '\(name)': 'dtype' must be a string"))
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw fail(.unknownDType(tensor: name, dtype: dtypeName))
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2 else {
            throw fail(.invalidHeader(reason: "tensor '\(name)': 'data_offsets' must be [begin, end]"))
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else { throw fail(.invalidOffsets(tensor: name, begin: begin, end: end)) }
        guard let count = TensorEntry.elementCount(of: shape) else {
            throw fail(.invalidHeader(reason: "tensor '\(name)': shape \(shape) is too large"))
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == end - begin else {
            throw fail(.byteCountMismatch(
                tensor: name, dtype: dtype, shape: shape, expected: overflow ? Int.max : expected, actual: end - begin))
        }
        return (dtype, shape, begin, end)
    }

    /// Validates `__metadata__`: an object of string values (`null` counts as empty).
    static func parseMetadata(
        _ value: JSONValue, fail: (SafeTensorsError.Problem) -> SafeTensorsError
    ) throws -> [String: String] {
        if case .null = value { return [:] }
        guard case .object(let members) = value else { throw fail(.nonStringMetadata(key: "")) }
        var metadata: [String: String] = [:]
        for (key, item) in members {
            guard case .string(let string) = item else { throw fail(.nonStringMetadata(key: key)) }
            metadata[key] = string
        }
        return metadata
    }
}
