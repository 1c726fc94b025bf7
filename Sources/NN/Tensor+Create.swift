import CTorch

// MARK: - Creation and data in/out

extension Tensor {
    /// Copies `bytes` (C order, little-endian host layout) into a new tensor of `dtype` and `shape`.
    /// This is the entry point for file formats such as safetensors.
    public convenience init(bytes: UnsafeRawBufferPointer, dtype: DType, shape: [Int]) throws {
        let h = withShape(shape) { ct_from_buffer(bytes.baseAddress, bytes.count, dtype.rawValue, $0, $1) }
        guard let h else { throw TorchError.last("fromBuffer") }
        self.init(handle: h)
    }

    private convenience init<T>(elements: [T], dtype: DType, shape: [Int]?) throws {
        let shape = shape ?? [elements.count]
        try self.init(ownedFrom: elements.withUnsafeBytes { raw in
            withShape(shape) { ct_from_buffer(raw.baseAddress, raw.count, dtype.rawValue, $0, $1) }
        })
    }

    public convenience init(_ values: [Float], shape: [Int]? = nil) throws {
        try self.init(elements: values, dtype: .float32, shape: shape)
    }
    public convenience init(_ values: [Double], shape: [Int]? = nil) throws {
        try self.init(elements: values, dtype: .float64, shape: shape)
    }
    public convenience init(_ values: [Int64], shape: [Int]? = nil) throws {
        try self.init(elements: values, dtype: .int64, shape: shape)
    }
    public convenience init(_ values: [Int32], shape: [Int]? = nil) throws {
        try self.init(elements: values, dtype: .int32, shape: shape)
    }
    public convenience init(_ values: [UInt8], shape: [Int]? = nil) throws {
        try self.init(elements: values, dtype: .uint8, shape: shape)
    }
    public convenience init(_ values: [Bool], shape: [Int]? = nil) throws {
        try self.init(elements: values.map { $0 ? UInt8(1) : 0 }, dtype: .bool, shape: shape)
    }
    /// Integer indices (stored as int64, as libtorch expects for indices/targets).
    public convenience init(indices: [Int], shape: [Int]? = nil) throws {
        try self.init(elements: indices.map { Int64($0) }, dtype: .int64, shape: shape)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try adopt("zeros", withShape(shape) { ct_zeros($0, $1, dtype.rawValue) })
    }
    public static func ones(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try adopt("ones", withShape(shape) { ct_ones($0, $1, dtype.rawValue) })
    }
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) throws -> Tensor {
        try adopt("full", withShape(shape) { ct_full($0, $1, value, dtype.rawValue) })
    }
    /// Standard normal samples from the global generator (see `Torch.manualSeed`).
    public static func randn(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try adopt("randn", withShape(shape) { ct_randn($0, $1, dtype.rawValue) })
    }
    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32) throws -> Tensor {
        try adopt("rand", withShape(shape) { ct_rand($0, $1, dtype.rawValue) })
    }
    public static func uniform(_ shape: [Int], low: Double, high: Double, dtype: DType = .float32) throws -> Tensor {
        try adopt("uniform", withShape(shape) { ct_uniform($0, $1, low, high, dtype.rawValue) })
    }
    /// Integers in [low, high).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64) throws -> Tensor {
        try adopt("randint", withShape(shape) { ct_randint(Int64(low), Int64(high), $0, $1, dtype.rawValue) })
    }
    public static func randperm(_ n: Int) throws -> Tensor { try adopt("randperm", ct_randperm(Int64(n))) }
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .float32) throws -> Tensor {
        try adopt("arange", ct_arange(start, end, step, dtype.rawValue))
    }
    public static func arange(_ end: Int, dtype: DType = .int64) throws -> Tensor {
        try arange(0, Double(end), dtype: dtype)
    }
    /// A 0-dimensional tensor.
    public static func scalar(_ value: Double, dtype: DType = .float32) throws -> Tensor {
        try adopt("scalar", ct_scalar_tensor(value, dtype.rawValue))
    }

    // MARK: info

    public var ndim: Int { Int(query { ct_ndim($0) }) }
    public var shape: [Int] {
        query { h in
            var buf = [Int64](repeating: 0, count: 16)
            let n = Int(ct_shape(h, &buf, 16))
            if n > 16 {
                buf = [Int64](repeating: 0, count: n)
                _ = ct_shape(h, &buf, Int32(n))
            }
            return buf.prefix(n).map { Int($0) }
        }
    }
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }
    public var dtype: DType {
        let code = query { ct_dtype($0) }
        guard let d = DType(rawValue: code) else { fatalError("Tensor: unsupported dtype code \(code)") }
        return d
    }
    public var numel: Int { Int(query { ct_numel($0) }) }
    public var isContiguous: Bool { query { ct_is_contiguous($0) } == 1 }
    /// Whether this is a 4-D tensor stored NHWC (`channelsLast()`).
    public var isChannelsLast: Bool { query { ct_is_channels_last($0) } == 1 }

    // MARK: data out

    /// Copies the elements out converted to `dtype`, C order.
    func copyOut<T>(_ dtype: DType, as: T.Type) throws -> [T] {
        precondition(MemoryLayout<T>.stride == dtype.size, "copyOut: \(T.self) does not match \(dtype)")
        let n = numel
        var failed = false
        let out = [T](unsafeUninitializedCapacity: n) { buf, count in
            let rc = withHandle { ct_to_buffer($0, dtype.rawValue, buf.baseAddress, n * MemoryLayout<T>.stride) }
            if rc != 0 { failed = true; count = 0 } else { count = n }
        }
        if failed { throw TorchError.last("copyOut(\(dtype))") }
        return out
    }

    public func floats() throws -> [Float] { try copyOut(.float32, as: Float.self) }
    public func doubles() throws -> [Double] { try copyOut(.float64, as: Double.self) }
    public func int64s() throws -> [Int64] { try copyOut(.int64, as: Int64.self) }
    public func int32s() throws -> [Int32] { try copyOut(.int32, as: Int32.self) }
    public func uint8s() throws -> [UInt8] { try copyOut(.uint8, as: UInt8.self) }
    public func bools() throws -> [Bool] { try copyOut(.bool, as: UInt8.self).map { $0 != 0 } }
    public func ints() throws -> [Int] { try int64s().map { Int($0) } }

    /// The raw bytes in this tensor's own dtype, C order (for file formats such as safetensors).
    public func rawBytes() throws -> [UInt8] {
        let dt = dtype
        let n = numel * dt.size
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: n) { buf, count in
            let rc = withHandle { ct_to_buffer($0, dt.rawValue, buf.baseAddress, n) }
            if rc != 0 { failed = true; count = 0 } else { count = n }
        }
        if failed { throw TorchError.last("rawBytes") }
        return out
    }

    /// The value of a single-element tensor.
    public func item() throws -> Double {
        var v = 0.0
        if withHandle({ ct_item($0, &v) }) != 0 { throw TorchError.last("item") }
        return v
    }
    /// The value of a single-element tensor as Float.
    public func scalar() throws -> Float { Float(try item()) }
}

extension Tensor {
    fileprivate convenience init(ownedFrom handle: OpaquePointer?) throws {
        guard let handle else { throw TorchError.last("fromBuffer") }
        self.init(handle: handle)
    }
}
