/// The element type of a tensor, spelled as in the safetensors header.
public enum DType: String, CaseIterable, Sendable {
    case f64 = "F64"
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"
    case i64 = "I64"
    case i32 = "I32"
    case i16 = "I16"
    case i8 = "I8"
    case u8 = "U8"
    case u16 = "U16"
    case u32 = "U32"
    case bool = "BOOL"

    /// The number of bytes one element occupies in the data buffer.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32, .u32: return 4
        case .f16, .bf16, .i16, .u16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}
