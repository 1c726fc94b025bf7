/// A zero-filled, 64-byte-aligned float array for the Swift decoder, with `slack` spare floats
/// after its end so that 16-wide vector loads may run past the last valid element.
final class FloatBuffer {
    /// Spare floats after `count` (readable, never meaningful).
    static let slack = 64

    let base: UnsafeMutablePointer<Float>
    let count: Int

    init(_ count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (count + Self.slack) * MemoryLayout<Float>.stride, alignment: 64)
        base = raw.initializeMemory(as: Float.self, repeating: 0, count: count + Self.slack)
    }

    /// A copy of `values`.
    convenience init(_ values: [Float]) {
        self.init(values.count)
        for (i, v) in values.enumerated() { base[i] = v }
    }

    deinit { base.deallocate() }

    subscript(i: Int) -> Float {
        get { base[i] }
        set { base[i] = newValue }
    }
}
