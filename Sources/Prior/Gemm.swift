/// 16 floats: one AVX-512 register (two with AVX2).
typealias Vec = SIMD16<Float>

@inline(__always) func loadVec(_ p: UnsafePointer<Float>) -> Vec { UnsafeRawPointer(p).loadUnaligned(as: Vec.self) }
@inline(__always) func loadVec(_ p: UnsafeMutablePointer<Float>) -> Vec { UnsafeRawPointer(p).loadUnaligned(as: Vec.self) }
@inline(__always) func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// An element type of weight panels: 16 of them load as one `Vec` of float32.
protocol PanelElement: BinaryFloatingPoint {
    static func load16(_ p: UnsafePointer<Self>) -> Vec
}

extension Float: PanelElement {
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> Vec { loadVec(p) }
}

extension Float16: PanelElement {
    /// Widened exactly, lane by lane: LLVM turns this into one `vcvtph2ps` with AVX-512, whereas the
    /// generic `SIMD16<Float>(SIMD16<Float16>)` initialiser stays an out-of-line call in the tiles.
    @inline(__always) static func load16(_ p: UnsafePointer<Float16>) -> Vec {
        let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
        var v = Vec()
        for i in 0..<16 { v[i] = Float(h[i]) }
        return v
    }
}

/// A `[k, n]` matrix (a linear layer's transposed weight) stored as column panels of 64: panel p
/// holds columns 64p ..< 64p + 64 as `[k, 64]`, zero-padded past n, so a product streams each
/// panel front to back.
///
/// When every value is exactly a float16 (weights of an F16 checkpoint, widened on load), the
/// panels hold float16: the products are bit-for-bit those of float32 panels, and a matrix–vector
/// product, which streams the weights from memory once per token, reads half the bytes.
struct PackedMatrix {
    static let panelWidth = 64
    enum Storage {
        case float(FloatBuffer)
        case half(AlignedBuffer<Float16>)
    }
    let k: Int, n: Int
    let storage: Storage          // [⌈n/64⌉, k, 64]

    /// Packs row-major `values` `[k, n]`; as float16 when `allowHalf` and every value is one exactly.
    init(_ values: [Float], k: Int, n: Int, allowHalf: Bool = true) {
        precondition(values.count == k * n)
        self.k = k
        self.n = n
        let w = Self.panelWidth
        func packed<E: PanelElement>(_: E.Type) -> AlignedBuffer<E> {
            let buffer = AlignedBuffer<E>((n + w - 1) / w * k * w)
            for i in 0..<k {
                for j in 0..<n { buffer[(j / w) * k * w + i * w + j % w] = E(values[i * n + j]) }
            }
            return buffer
        }
        if allowHalf && values.allSatisfy({ Float(Float16($0)) == $0 }) {
            storage = .half(packed(Float16.self))
        } else {
            storage = .float(packed(Float.self))
        }
    }

    /// Whether the panels hold float16.
    var isHalf: Bool { if case .half = storage { true } else { false } }
}

/// Row-major float32 matrix products for the Swift decoder, register-tiled with SIMD16:
/// `C[m × n] = (accumulate ? C : 0) + bias[n] + A[m × k] · B[k × n]` (see `GemmKernel`).
enum Gemm {
    /// A product with a plain row-major B.
    static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, accumulate: Bool = false) {
        GemmKernel(k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, bias: bias, accumulate: accumulate).run(rows: m, columns: 0..<n)
    }

    /// A product with packed weights: `C[m × w.n] (+)= A[m × w.k] · w + bias`; with `threads` > 1
    /// and enough rows, the column panels are shared out among that many threads.
    static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, _ w: PackedMatrix,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                         threads: Int = 1) {
        func run<E: PanelElement>(_ panels: AlignedBuffer<E>) {
            GemmKernel(k: w.k, a: a, lda: lda, b: panels.base, ldb: 0, c: c, ldc: ldc, bias: bias, accumulate: accumulate)
                .run(rows: m, n: w.n, threads: threads)
        }
        switch w.storage {
        case .float(let panels): run(panels)
        case .half(let panels): run(panels)
        }
    }
}

/// The tiles of `Gemm` over B elements of type `B` (float32, or float16 panels widened as loaded).
///
/// Tiles are 4 rows × 64 columns (16 accumulators); leftover rows go one at a time, and a last
/// block of at most 32 columns goes 16 at a time. B is a `PackedMatrix` (weights) or plain
/// row-major with stride `ldb` (attention's keys and values). Rows of a plain B are read up to 63
/// floats past column n, so they must be followed by readable memory (`FloatBuffer` has the slack);
/// C and `bias` are only touched within their n columns.
struct GemmKernel<B: PanelElement> {
    let k: Int
    let a: UnsafePointer<Float>, lda: Int        // [m × k]
    let b: UnsafePointer<B>, ldb: Int            // [k × n]; ldb = 0 for a packed B
    let c: UnsafeMutablePointer<Float>, ldc: Int // [m × n]
    let bias: UnsafePointer<Float>?              // [n] or nil
    let accumulate: Bool

    /// C[0..<m, 0..<n] for a packed B, its column panels shared out among up to `threads` threads
    /// when there are enough rows.
    func run(rows m: Int, n: Int, threads: Int) {
        let panels = (n + 63) / 64
        let parts = min(threads, panels)
        guard parts > 1 && m >= 16 else { return run(rows: m, columns: 0..<n) }
        parallelFor(parts) { part in
            run(rows: m, columns: (panels * part / parts * 64)..<min(n, panels * (part + 1) / parts * 64))
        }
    }

    /// Computes C[0..<m, columns]; for a packed B, `columns` starts at a multiple of 64.
    /// Column blocks more than 32 wide use the 64-column tiles, storing only the valid columns.
    func run(rows m: Int, columns: Range<Int>) {
        let n = columns.upperBound
        var col = columns.lowerBound
        while col < n {
            let width = min(64, n - col)
            var row = 0
            if width > 32 {
                while row + 4 <= m { tile4x64(row, col, width); row += 4 }
                while row < m { tile1x64(row, col, width); row += 1 }
                col += 64
            } else {
                while row + 4 <= m { tile4x16(row, col, min(16, width)); row += 4 }
                while row < m { tile1x16(row, col, min(16, width)); row += 1 }
                col += 16
            }
        }
    }

    /// B's row 0 at column `col`, and the distance between its rows.
    @inline(__always) private func columns(_ col: Int) -> (UnsafePointer<B>, Int) {
        if ldb > 0 { return (b + col, ldb) }
        let w = PackedMatrix.panelWidth
        return (b + (col / w) * k * w + col % w, w)
    }

    // MARK: tiles

    /// The accumulator's starting value for C[row, col ..< col + 16], reading only `width` columns.
    @inline(__always) private func initial(_ row: Int, _ col: Int, _ width: Int) -> Vec {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> Vec {
            if width >= 16 { return loadVec(p) }
            var v = Vec()
            for i in 0..<max(0, width) { v[i] = p[i] }
            return v
        }
        var v = accumulate ? load(c + row * ldc + col) : Vec()
        if let bias { v += load(bias + col) }
        return v
    }

    /// The starting values of C[row, col ..< col + 64], reading only `width` columns.
    @inline(__always) private func initial64(_ row: Int, _ col: Int, _ width: Int) -> (Vec, Vec, Vec, Vec) {
        (initial(row, col, width), initial(row, col + 16, width - 16), initial(row, col + 32, width - 32), initial(row, col + 48, width - 48))
    }

    /// Stores the first `width` (≤ 16) lanes of `v` at C[row, col...].
    @inline(__always) private func store(_ v: Vec, _ row: Int, _ col: Int, width: Int = 16) {
        let p = c + row * ldc + col
        if width >= 16 { storeVec(v, p) } else { for i in 0..<max(0, width) { p[i] = v[i] } }
    }

    /// Stores the first `width` (≤ 64) of 64 columns at C[row, col...].
    @inline(__always) private func store(_ v0: Vec, _ v1: Vec, _ v2: Vec, _ v3: Vec, _ row: Int, _ col: Int, width: Int) {
        store(v0, row, col, width: width)
        store(v1, row, col + 16, width: width - 16)
        store(v2, row, col + 32, width: width - 32)
        store(v3, row, col + 48, width: width - 48)
    }

    /// C[row ..< row+4, col ..< col+width], width ≤ 64.
    @inline(__always) private func tile4x64(_ row: Int, _ col: Int, _ width: Int) {
        var (c00, c01, c02, c03) = initial64(row, col, width)
        var (c10, c11, c12, c13) = initial64(row + 1, col, width)
        var (c20, c21, c22, c23) = initial64(row + 2, col, width)
        var (c30, c31, c32, c33) = initial64(row + 3, col, width)
        let a0 = a + row * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
        let (start, ldb) = columns(col)
        var pb = start
        for i in 0..<k {
            let w0 = B.load16(pb), w1 = B.load16(pb + 16), w2 = B.load16(pb + 32), w3 = B.load16(pb + 48)
            var x = Vec(repeating: a0[i])
            c00 = c00.addingProduct(w0, x); c01 = c01.addingProduct(w1, x); c02 = c02.addingProduct(w2, x); c03 = c03.addingProduct(w3, x)
            x = Vec(repeating: a1[i])
            c10 = c10.addingProduct(w0, x); c11 = c11.addingProduct(w1, x); c12 = c12.addingProduct(w2, x); c13 = c13.addingProduct(w3, x)
            x = Vec(repeating: a2[i])
            c20 = c20.addingProduct(w0, x); c21 = c21.addingProduct(w1, x); c22 = c22.addingProduct(w2, x); c23 = c23.addingProduct(w3, x)
            x = Vec(repeating: a3[i])
            c30 = c30.addingProduct(w0, x); c31 = c31.addingProduct(w1, x); c32 = c32.addingProduct(w2, x); c33 = c33.addingProduct(w3, x)
            pb += ldb
        }
        store(c00, c01, c02, c03, row, col, width: width)
        store(c10, c11, c12, c13, row + 1, col, width: width)
        store(c20, c21, c22, c23, row + 2, col, width: width)
        store(c30, c31, c32, c33, row + 3, col, width: width)
    }

    /// C[row, col ..< col+width], width ≤ 64: a matrix–vector product streaming B, with two sets
    /// of accumulators over alternate k so the FMA latency does not limit it.
    @inline(__always) private func tile1x64(_ row: Int, _ col: Int, _ width: Int) {
        var (c0, c1, c2, c3) = initial64(row, col, width)
        var d0 = Vec(), d1 = Vec(), d2 = Vec(), d3 = Vec()
        let a0 = a + row * lda
        let (start, ldb) = columns(col)
        var pb = start
        var i = 0
        while i + 2 <= k {
            let x = Vec(repeating: a0[i]), y = Vec(repeating: a0[i + 1])
            c0 = c0.addingProduct(B.load16(pb), x); c1 = c1.addingProduct(B.load16(pb + 16), x)
            c2 = c2.addingProduct(B.load16(pb + 32), x); c3 = c3.addingProduct(B.load16(pb + 48), x)
            d0 = d0.addingProduct(B.load16(pb + ldb), y); d1 = d1.addingProduct(B.load16(pb + ldb + 16), y)
            d2 = d2.addingProduct(B.load16(pb + ldb + 32), y); d3 = d3.addingProduct(B.load16(pb + ldb + 48), y)
            pb += 2 * ldb
            i += 2
        }
        if i < k {
            let x = Vec(repeating: a0[i])
            c0 = c0.addingProduct(B.load16(pb), x); c1 = c1.addingProduct(B.load16(pb + 16), x)
            c2 = c2.addingProduct(B.load16(pb + 32), x); c3 = c3.addingProduct(B.load16(pb + 48), x)
        }
        store(c0 + d0, c1 + d1, c2 + d2, c3 + d3, row, col, width: width)
    }

    /// C[row ..< row+4, col ..< col+width], width ≤ 16.
    @inline(__always) private func tile4x16(_ row: Int, _ col: Int, _ width: Int) {
        var c0 = initial(row, col, width), c1 = initial(row + 1, col, width), c2 = initial(row + 2, col, width), c3 = initial(row + 3, col, width)
        let a0 = a + row * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda
        let (start, ldb) = columns(col)
        var pb = start
        for i in 0..<k {
            let w = B.load16(pb)
            c0 = c0.addingProduct(w, Vec(repeating: a0[i])); c1 = c1.addingProduct(w, Vec(repeating: a1[i]))
            c2 = c2.addingProduct(w, Vec(repeating: a2[i])); c3 = c3.addingProduct(w, Vec(repeating: a3[i]))
            pb += ldb
        }
        store(c0, row, col, width: width); store(c1, row + 1, col, width: width)
        store(c2, row + 2, col, width: width); store(c3, row + 3, col, width: width)
    }

    /// C[row, col ..< col+width], width ≤ 16; two accumulators over alternate k.
    @inline(__always) private func tile1x16(_ row: Int, _ col: Int, _ width: Int) {
        var c0 = initial(row, col, width), c1 = Vec()
        let a0 = a + row * lda
        let (start, ldb) = columns(col)
        var pb = start
        var i = 0
        while i + 2 <= k {
            c0 = c0.addingProduct(B.load16(pb), Vec(repeating: a0[i]))
            c1 = c1.addingProduct(B.load16(pb + ldb), Vec(repeating: a0[i + 1]))
            pb += 2 * ldb
            i += 2
        }
        if i < k { c0 = c0.addingProduct(B.load16(pb), Vec(repeating: a0[i])) }
        store(c0 + c1, row, col, width: width)
    }
}
