import SafeTensors

extension Tensor {
    /// A tensor holding a safetensors entry's values (F32, F16, BF16, F64, I64, I32, U8, U16).
    /// Half-precision values are widened to float32, so a compact file loads as a float32 model.
    public convenience init(_ entry: TensorEntry) throws {
        switch entry.dtype {
        case .f32, .f16, .bf16:
            try self.init(try entry.floats(), shape: entry.shape)
        case .f64:
            let values = stride(from: 0, to: entry.bytes.count, by: 8).map { i in
                Double(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(entry.bytes[i + $1]) << (8 * UInt64($1)) })
            }
            try self.init(values, shape: entry.shape)
        case .i64:
            try self.init(try entry.int64s(), shape: entry.shape)
        case .i32:
            try self.init(try entry.int32s(), shape: entry.shape)
        case .u8, .bool:
            try self.init(try entry.uint8s(), shape: entry.shape)
        case .u16:
            try self.init(try entry.uint16s().map { Int32($0) }, shape: entry.shape)
        default:
            throw TorchError(op: "Tensor(safetensors)", message: "\(entry.name): dtype \(entry.dtype.rawValue) is not supported")
        }
    }

    /// This tensor as a safetensors entry; float tensors may be stored as F16 to halve the size.
    public func entry(name: String, storeFloatsAs storage: SafeTensors.DType = .f32) throws -> TensorEntry {
        switch dtype {
        case .float32, .float64, .float16, .bfloat16:
            return try TensorEntry(name: name, floats: try floats(), shape: shape, storedAs: storage)
        case .int64:
            return try TensorEntry(name: name, int64s: try int64s(), shape: shape)
        case .int32:
            return try TensorEntry(name: name, int32s: try int32s(), shape: shape)
        case .uint8:
            return try TensorEntry(name: name, uint8s: try uint8s(), shape: shape)
        default:
            throw TorchError(op: "Tensor.entry", message: "\(name): dtype \(dtype) cannot be saved")
        }
    }
}

/// Named tensors plus string metadata in one safetensors file, written atomically.
public enum Checkpoint {
    /// Writes `tensors` and `metadata` to `path` (temporary file + rename).
    public static func save(_ tensors: [(String, Tensor)], metadata: [String: String], to path: String,
                            storeFloatsAs storage: SafeTensors.DType = .f32) throws {
        var file = SafeTensorsFile()
        file.metadata = metadata
        file.entries = try tensors.map { try $0.1.entry(name: $0.0, storeFloatsAs: storage) }
        try file.write(path: path)
    }

    /// Reads every tensor and the metadata of a safetensors file.
    /// - Throws: `SafeTensorsError`; `TorchError` naming the first float tensor that holds a NaN or
    ///   an infinity (weights that would predict garbage), or one whose float type is not the
    ///   file's: `save` stores every float tensor alike, as F32 or F16, so a BF16 or F64 tensor, or
    ///   a mix, means the file was relabelled or made by something else.
    public static func load(_ path: String) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let file = try SafeTensorsFile.read(path: path)
        let floatTypes: Set<SafeTensors.DType> = [.f16, .bf16, .f32, .f64]
        let floats = file.entries.filter { floatTypes.contains($0.dtype) }
        if let first = floats.first, let odd = floats.first(where: { ![.f32, .f16].contains($0.dtype) || $0.dtype != first.dtype }) {
            throw TorchError(op: "load", message: "\(path): tensor \(odd.name) is stored as \(odd.dtype.rawValue) but framecast stores every float tensor of a checkpoint alike, as F32 or F16 (\(first.name) is \(first.dtype.rawValue)): the file was altered or not written by framecast")
        }
        var tensors: [String: Tensor] = [:]
        for entry in file.entries {
            if floatTypes.contains(entry.dtype), try !entry.floats().allSatisfy(\.isFinite) {
                throw TorchError(op: "load", message: "\(path): tensor \(entry.name) holds NaN or infinite values")
            }
            tensors[entry.name] = try Tensor(entry)
        }
        return (tensors, file.metadata)
    }
}
