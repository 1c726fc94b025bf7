// Typed constructors and accessors for the element types framecast uses.

extension TensorEntry {
    /// Creates a floating-point tensor from `floats`, stored as `dtype`.
    ///
    /// `dtype` may be `.f32` (exact), `.f16` or `.bf16` (compact weight storage; each value is
    /// rounded to the nearest representable value, ties to even; values beyond the range become ±inf).
    /// - Throws: `SafeTensorsError` when `floats.count != product(shape)` or `dtype` is not a float type.
    public init(name: String, floats: [Float], shape: [Int], storedAs dtype: DType = .f32) throws {
        try TensorEntry.checkCount(floats.count, name: name, shape: shape)
        let bytes: [UInt8]
        switch dtype {
        case .f32: bytes = littleEndianBytes(floats.map(\.bitPattern))
        case .f16: bytes = littleEndianBytes(floats.map(halfBits(from:)))
        case .bf16: bytes = littleEndianBytes(floats.map(bfloat16Bits(from:)))
        default:
            throw SafeTensorsError(file: nil, problem: .wrongDType(tensor: name, expected: [.f32, .f16, .bf16], found: dtype))
        }
        try self.init(name: name, dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Creates a `U16` tensor.
    /// - Throws: `SafeTensorsError` when `values.count != product(shape)`.
    public init(name: String, uint16s values: [UInt16], shape: [Int]) throws {
        try TensorEntry.checkCount(values.count, name: name, shape: shape)
        try self.init(name: name, dtype: .u16, shape: shape, bytes: littleEndianBytes(values))
    }

    /// Creates an `I32` tensor.
    /// - Throws: `SafeTensorsError` when `values.count != product(shape)`.
    public init(name: String, int32s values: [Int32], shape: [Int]) throws {
        try TensorEntry.checkCount(values.count, name: name, shape: shape)
        try self.init(name: name, dtype: .i32, shape: shape, bytes: littleEndianBytes(values))
    }

    /// Creates an `I64` tensor.
    /// - Throws: `SafeTensorsError` when `values.count != product(shape)`.
    public init(name: String, int64s values: [Int64], shape: [Int]) throws {
        try TensorEntry.checkCount(values.count, name: name, shape: shape)
        try self.init(name: name, dtype: .i64, shape: shape, bytes: littleEndianBytes(values))
    }

    /// Creates a `U8` tensor.
    /// - Throws: `SafeTensorsError` when `values.count != product(shape)`.
    public init(name: String, uint8s values: [UInt8], shape: [Int]) throws {
        try TensorEntry.checkCount(values.count, name: name, shape: shape)
        try self.init(name: name, dtype: .u8, shape: shape, bytes: values)
    }

    /// The elements as `Float`: exact for `F32`, `F16` and `BF16`.
    /// - Throws: `SafeTensorsError.Problem.wrongDType` for other dtypes.
    public func floats() throws -> [Float] {
        switch dtype {
        case .f32: return decodeLittleEndian(bytes, as: UInt32.self).map(Float.init(bitPattern:))
        case .f16: return decodeLittleEndian(bytes, as: UInt16.self).map(float(fromHalfBits:))
        case .bf16: return decodeLittleEndian(bytes, as: UInt16.self).map(float(fromBFloat16Bits:))
        default: throw wrongDType(expected: [.f32, .f16, .bf16])
        }
    }

    /// The elements of a `U16` tensor.
    /// - Throws: `SafeTensorsError.Problem.wrongDType` for other dtypes.
    public func uint16s() throws -> [UInt16] {
        guard dtype == .u16 else { throw wrongDType(expected: [.u16]) }
        return decodeLittleEndian(bytes, as: UInt16.self)
    }

    /// The elements of an `I32` tensor.
    /// - Throws: `SafeTensorsError.Problem.wrongDType` for other dtypes.
    public func int32s() throws -> [Int32] {
        guard dtype == .i32 else { throw wrongDType(expected: [.i32]) }
        return decodeLittleEndian(bytes, as: Int32.self)
    }

    /// The elements of an `I64` tensor.
    /// - Throws: `SafeTensorsError.Problem.wrongDType` for other dtypes.
    public func int64s() throws -> [Int64] {
        guard dtype == .i64 else { throw wrongDType(expected: [.i64]) }
        return decodeLittleEndian(bytes, as: Int64.self)
    }

    /// The elements of a `U8` or `BOOL` tensor.
    /// - Throws: `SafeTensorsError.Problem.wrongDType` for other dtypes.
    public func uint8s() throws -> [UInt8] {
        guard dtype == .u8 || dtype == .bool else { throw wrongDType(expected: [.u8, .bool]) }
        return bytes
    }

    static func checkCount(_ count: Int, name: String, shape: [Int]) throws {
        guard TensorEntry.elementCount(of: shape) == count else {
            throw SafeTensorsError(file: nil, problem: .elementCountMismatch(tensor: name, shape: shape, count: count))
        }
    }

    func wrongDType(expected: [DType]) -> SafeTensorsError {
        SafeTensorsError(file: nil, problem: .wrongDType(tensor: name, expected: expected, found: dtype))
    }
}

/// The little-endian bytes of `values`, in order.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: values.count * MemoryLayout<T>.size)
    bytes.withUnsafeMutableBytes { raw in
        for (index, value) in values.enumerated() {
            raw.storeBytes(of: value.littleEndian, toByteOffset: index * MemoryLayout<T>.size, as: T.self)
        }
    }
    return bytes
}

/// Decodes consecutive little-endian `T`s from `bytes` (whose count is a multiple of T's size).
func decodeLittleEndian<T: FixedWidthInteger>(_ bytes: [UInt8], as type: T.Type) -> [T] {
    let count = bytes.count / MemoryLayout<T>.size
    return bytes.withUnsafeBytes { raw in
        (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
    }
}
