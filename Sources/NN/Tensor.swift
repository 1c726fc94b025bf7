import CTorch

/// An error reported by libtorch (or by the shim's own argument checks), with libtorch's message.
public struct TorchError: Error, CustomStringConvertible, Sendable {
    /// The operation that failed, e.g. `"matmul"`.
    public let op: String
    /// libtorch's message (without the C++ backtrace).
    public let message: String

    public init(op: String, message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }

    /// The shim's thread-local last error.
    static func last(_ op: String) -> TorchError {
        TorchError(op: op, message: String(cString: ct_last_error()))
    }
}

/// Element types; raw values are the shim's `CT_*` codes.
public enum DType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 0, float64 = 1, int64 = 2, int32 = 3, uint8 = 4, float16 = 5
    case bool = 6, int16 = 7, bfloat16 = 8, int8 = 9

    /// Bytes per element.
    public var size: Int { Int(ct_dtype_size(rawValue)) }
    public var isFloatingPoint: Bool { [.float32, .float64, .float16, .bfloat16].contains(self) }
    public var description: String {
        switch self {
        case .float32: "float32"
        case .float64: "float64"
        case .int64: "int64"
        case .int32: "int32"
        case .uint8: "uint8"
        case .float16: "float16"
        case .bool: "bool"
        case .int16: "int16"
        case .bfloat16: "bfloat16"
        case .int8: "int8"
        }
    }
}

/// A libtorch tensor. Owns exactly one shim handle and frees it exactly once, in `deinit`.
///
/// Lifetime rule: the raw handle is `fileprivate` to this file. Everything else reaches it only
/// through the `withHandle…`/`make…` helpers below, which keep every Tensor involved alive
/// (`withExtendedLifetime`) until the C call returns, so a temporary like `(a + b)` can never be
/// released while libtorch is still reading it.
///
/// Thread-safety: handles may be released on any thread (libtorch refcounts atomically); do not
/// mutate one tensor in place from two threads at once.
public final class Tensor: @unchecked Sendable {
    fileprivate let raw: OpaquePointer

    /// Takes ownership of a handle returned by the shim.
    fileprivate init(owning raw: OpaquePointer) {
        Torch.bootstrap()
        self.raw = raw
    }

    /// Takes ownership of a non-NULL handle (internal: only for wrappers in this module).
    convenience init(handle: OpaquePointer) {
        self.init(owning: handle)
    }

    deinit { ct_free(raw) }
}

// MARK: - The only doors to the raw handle

extension Tensor {
    /// Runs `body` with the handles of `tensors` (nil stays nil), keeping all of them alive.
    @inline(__always)
    static func withHandles<R>(_ tensors: [Tensor?], _ body: ([OpaquePointer?]) throws -> R) rethrows -> R {
        try withExtendedLifetime(tensors) { try body(tensors.map { $0?.raw }) }
    }

    /// Runs `body` with this tensor's handle, keeping `self` alive.
    @inline(__always)
    func withHandle<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(raw) }
    }

    /// Wraps a new handle from the shim, or throws the shim's last error if it is NULL.
    static func adopt(_ op: String, _ handle: OpaquePointer?) throws -> Tensor {
        guard let handle else { throw TorchError.last(op) }
        return Tensor(owning: handle)
    }

    /// Unary op: `f(self) -> new tensor`.
    @inline(__always)
    func make(_ op: String, _ f: (OpaquePointer) -> OpaquePointer?) throws -> Tensor {
        try Tensor.adopt(op, withHandle(f))
    }

    /// Binary op: `f(self, other) -> new tensor`.
    @inline(__always)
    func make(_ op: String, _ other: Tensor, _ f: (OpaquePointer, OpaquePointer) -> OpaquePointer?) throws -> Tensor {
        let h = withExtendedLifetime(self) { withExtendedLifetime(other) { f(raw, other.raw) } }
        return try Tensor.adopt(op, h)
    }

    /// N-ary op over optional tensors.
    static func make(_ op: String, _ tensors: [Tensor?], _ f: ([OpaquePointer?]) -> OpaquePointer?) throws -> Tensor {
        try adopt(op, withHandles(tensors, f))
    }

    /// Status-returning call over optional tensors (0 = ok).
    static func check(_ op: String, _ tensors: [Tensor?], _ f: ([OpaquePointer?]) -> Int32) throws {
        if withHandles(tensors, f) != 0 { throw TorchError.last(op) }
    }

    /// A call that only fails on a NULL handle, which cannot happen for a live Tensor.
    func query<R>(_ f: (OpaquePointer) -> R) -> R { withHandle(f) }
}

// MARK: - Small helpers shared by the wrappers

@inline(__always)
func withShape<R>(_ shape: [Int], _ body: (UnsafePointer<Int64>?, Int32) throws -> R) rethrows -> R {
    let s = shape.map { Int64($0) }
    return try s.withUnsafeBufferPointer { try body($0.baseAddress, Int32($0.count)) }
}

@inline(__always)
func ctBool(_ b: Bool) -> Int32 { b ? 1 : 0 }
