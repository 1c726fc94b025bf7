/// One named tensor: its dtype, shape and raw little-endian bytes.
///
/// The byte count always equals `product(shape) * dtype.byteSize`; a scalar has shape `[]`
/// (one element) and a shape containing 0 holds no bytes.
public struct TensorEntry: Sendable, Equatable {
    /// The tensor's name in the file (PyTorch `state_dict` style, e.g. `encoder.conv1.weight`).
    public var name: String
    /// The element type.
    public private(set) var dtype: DType
    /// The dimensions, outermost first; `[]` for a scalar.
    public private(set) var shape: [Int]
    /// The raw little-endian element bytes, row-major.
    public private(set) var bytes: [UInt8]

    /// Creates a tensor from raw little-endian bytes.
    /// - Throws: `SafeTensorsError` when the byte count does not match the shape and dtype.
    public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        guard let count = TensorEntry.elementCount(of: shape) else {
            throw SafeTensorsError(file: nil, problem: .invalidHeader(reason: "tensor '\(name)' has invalid shape \(shape)"))
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, expected == bytes.count else {
            throw SafeTensorsError(file: nil, problem: .byteCountMismatch(
                tensor: name, dtype: dtype, shape: shape, expected: overflow ? Int.max : expected, actual: bytes.count))
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The number of elements, `product(shape)` (1 for a scalar).
    public var elementCount: Int {
        TensorEntry.elementCount(of: shape) ?? 0
    }

    /// `product(shape)`, or `nil` when a dimension is negative or the product overflows.
    static func elementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }
}
