/// A zero-filled, 64-byte-aligned array for the Swift decoder, with `slack` spare elements after
/// its end so that 16-wide vector loads may run past the last valid element.
final class AlignedBuffer<Element: BinaryFloatingPoint> {
    /// Spare elements after `count` (readable, never meaningful).
    static var slack: Int { 64 }

    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(_ count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (count + Self.slack) * MemoryLayout<Element>.stride, alignment: 64)
        base = raw.initializeMemory(as: Element.self, repeating: 0, count: count + Self.slack)
    }

    /// A copy of `values`.
    convenience init(_ values: [Element]) {
        self.init(values.count)
        for (i, v) in values.enumerated() { base[i] = v }
    }

    deinit { base.deallocate() }

    subscript(i: Int) -> Element {
        get { base[i] }
        set { base[i] = newValue }
    }
}

/// The decoder's float32 arrays: activations, caches, biases and float32 weights.
typealias FloatBuffer = AlignedBuffer<Float>
