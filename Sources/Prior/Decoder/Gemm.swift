import CHostCPU

/// 16 floats: one AVX-512 register (two with AVX2).
typealias Vec = SIMD16<Float>
/// 8 floats: one AVX2 register, the lane count of the narrow tiles.
typealias Vec8 = SIMD8<Float>

@inline(__always) func loadVec(_ p: UnsafePointer<Float>) -> Vec { UnsafeRawPointer(p).loadUnaligned(as: Vec.self) }
@inline(__always) func loadVec(_ p: UnsafeMutablePointer<Float>) -> Vec { UnsafeRawPointer(p).loadUnaligned(as: Vec.self) }
@inline(__always) func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}

/// An element type of weight panels: 16 of them load as one `Vec` of float32.
protocol PanelElement: BinaryFloatingPoint {
    static func load16(_ p: UnsafePointer<Self>) -> Vec
    static func load8(_ p: UnsafePointer<Self>) -> Vec8
}

extension Float: PanelElement {
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> Vec { loadVec(p) }
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> Vec8 { UnsafeRawPointer(p).loadUnaligned(as: Vec8.self) }
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

    /// The same for 8 lanes: one `vcvtph2ps` with F16C (AVX2 machines).
    @inline(__always) static func load8(_ p: UnsafePointer<Float16>) -> Vec8 {
        let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self)
        var v = Vec8()
        for i in 0..<8 { v[i] = Float(h[i]) }
        return v
    }
}

/// How `GemmKernel` shapes its register tiles for the vector registers it has.
enum GemmTiling: Sendable, CaseIterable {
    /// 32 registers of 16 floats (AVX-512): 4 × 64 tiles, 16 accumulators.
    case wide
    /// 16 registers of 8 floats (AVX2): 6 × 16 tiles, 12 accumulators. The wide tiles would need
    /// 42 of them, and spill to the stack on every step of their inner loop.
    case narrow

    /// The build target's (the Prior target is compiled with -march=native).
    static let native: GemmTiling = hostcpu_vector_registers() >= 32 ? .wide : .narrow
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
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                         tiling: GemmTiling = .native) {
        GemmKernel(k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, bias: bias, accumulate: accumulate, tiling: tiling)
            .run(rows: m, columns: 0..<n)
    }

    /// A product with packed weights: `C[m × w.n] (+)= A[m × w.k] · w + bias`; with `threads` > 1
    /// and enough rows, the rows are shared out among that many threads.
    static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, _ w: PackedMatrix,
                         c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
                         threads: Int = 1, tiling: GemmTiling = .native) {
        func run<E: PanelElement>(_ panels: AlignedBuffer<E>) {
            GemmKernel(k: w.k, a: a, lda: lda, b: panels.base, ldb: 0, c: c, ldc: ldc, bias: bias, accumulate: accumulate, tiling: tiling)
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
/// Wide tiles are 4 rows × 64 columns (16 accumulators); leftover rows go one at a time, 128, 64,
/// then 16 columns at once. Narrow tiles (`GemmTiling.narrow`) are 6 rows × 16 columns, over strips
/// of 16 columns and blocks of up to 96 rows, whose A rows stay in L2 while the strips pass;
/// leftover rows go four, then one at a time, and fewer than four rows stream each 64-column block
/// of B once per row.
///
/// Every tile computes each element the same way: its starting value (C or 0, plus the bias), then
/// one fused multiply-add per k in order. So an element's bits do not depend on the tile it lands in,
/// on which other rows are computed with it, or on how columns are shared among threads; the decoder
/// relies on that to give the same logits whether a window is fed in one piece or in two.
///
/// B is a `PackedMatrix` (weights) or plain row-major with stride `ldb` (attention's keys and values).
/// Rows of a plain B are read up to 63 floats past column n, so they must be followed by readable
/// memory (`FloatBuffer` has the slack); C and `bias` are only touched within their n columns.
struct GemmKernel<B: PanelElement> {
    let k: Int
    let a: UnsafePointer<Float>, lda: Int        // [m × k]
    let b: UnsafePointer<B>, ldb: Int            // [k × n]; ldb = 0 for a packed B
    let c: UnsafeMutablePointer<Float>, ldc: Int // [m × n]
    let bias: UnsafePointer<Float>?              // [n] or nil
    let accumulate: Bool
    let tiling: GemmTiling

    /// C[0..<m, 0..<n] for a packed B, its rows shared out among up to `threads` threads when there
    /// are enough of them (every thread streams all of B, which stays in its own L2).
    func run(rows m: Int, n: Int, threads: Int) {
        let parts = min(threads, m / 16)
        guard parts > 1 else { return run(rows: m, columns: 0..<n) }
        parallelFor(parts) { part in
            let first = m * part / parts, end = m * (part + 1) / parts
            GemmKernel(k: k, a: a + first * lda, lda: lda, b: b, ldb: ldb, c: c + first * ldc, ldc: ldc, bias: bias,
                       accumulate: accumulate, tiling: tiling).run(rows: end - first, columns: 0..<n)
        }
    }

    /// Computes C[0..<m, columns]; for a packed B, `columns` starts at a multiple of 64.
    func run(rows m: Int, columns: Range<Int>) {
        switch tiling {
        case .wide: runWide(rows: m, columns: columns)
        case .narrow: runNarrow(rows: m, columns: columns)
        }
    }

    /// `run(rows:columns:)` with the wide tiles: rows in fours (column blocks more than 32 wide use
    /// the 64-column tiles, storing only the valid columns), then the leftover rows one by one.
    private func runWide(rows m: Int, columns: Range<Int>) {
        let n = columns.upperBound, fours = m / 4 * 4
        var col = columns.lowerBound
        while col < n && fours > 0 {
            let width = min(64, n - col)
            if width > 32 {
                for row in stride(from: 0, to: fours, by: 4) { tile4x64(row, col, width) }
                col += 64
            } else {
                for row in stride(from: 0, to: fours, by: 4) { tile4x16(row, col, min(16, width)) }
                col += 16
            }
        }
        for row in fours..<m { runRow(row, columns: columns) }
    }

    /// One row of the wide tiles: 128 columns at a time (8 independent sums hide the FMA latency),
    /// then 64, then 16.
    private func runRow(_ row: Int, columns: Range<Int>) {
        let n = columns.upperBound
        var col = columns.lowerBound
        while col < n {
            let width = n - col
            if width > 64 {
                tile1x128(row, col, min(128, width)); col += 128
            } else if width > 32 {
                tile1x64(row, col, width); col += 64
            } else {
                tile1x16(row, col, min(16, width)); col += 16
            }
        }
    }

    /// `run(rows:columns:)` with the narrow tiles.
    private func runNarrow(rows m: Int, columns: Range<Int>) {
        let n = columns.upperBound
        if m < 4 {
            var col = columns.lowerBound
            while col < n {
                let width = min(64, n - col)
                for row in 0..<m {
                    if width > 32 { tile1x64(row, col, width) } else { for j in stride(from: 0, to: width, by: 16) { tile1x16(row, col + j, min(16, width - j)) } }
                }
                col += 64
            }
            return
        }
        let block = 96
        for first in stride(from: 0, to: m, by: block) {
            let end = min(m, first + block)
            for col in stride(from: columns.lowerBound, to: n, by: 16) {
                let width = min(16, n - col)
                var row = first
                while row + 6 <= end { tile6x16(row, col, width); row += 6 }
                if row + 4 <= end { tile4x16(row, col, width); row += 4 }
                while row < end { tile1x16(row, col, width); row += 1 }
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

    /// The accumulator's starting value for C[row, col ..< col + lanes] (a `Vec` or a `Vec8`),
    /// reading only `width` columns.
    @inline(__always) private func start<V: SIMD>(_ row: Int, _ col: Int, _ width: Int, as _: V.Type) -> V where V.Scalar == Float {
        @inline(__always) func load(_ p: UnsafePointer<Float>) -> V {
            if width >= V.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            var v = V()
            for i in 0..<max(0, width) { v[i] = p[i] }
            return v
        }
        var v = accumulate ? load(c + row * ldc + col) : V()
        if let bias { v += load(bias + col) }
        return v
    }

    /// `start` for the wide tiles' 16 lanes.
    @inline(__always) private func initial(_ row: Int, _ col: Int, _ width: Int) -> Vec { start(row, col, width, as: Vec.self) }

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

    /// C[row, col ..< col+width], width ≤ 64: a matrix–vector product streaming B.
    @inline(__always) private func tile1x64(_ row: Int, _ col: Int, _ width: Int) {
        var (c0, c1, c2, c3) = initial64(row, col, width)
        let a0 = a + row * lda
        let (start, ldb) = columns(col)
        var pb = start
        for i in 0..<k {
            let x = Vec(repeating: a0[i])
            c0 = c0.addingProduct(B.load16(pb), x); c1 = c1.addingProduct(B.load16(pb + 16), x)
            c2 = c2.addingProduct(B.load16(pb + 32), x); c3 = c3.addingProduct(B.load16(pb + 48), x)
            pb += ldb
        }
        store(c0, c1, c2, c3, row, col, width: width)
    }

    /// C[row, col ..< col+width], 64 < width ≤ 128: the matrix–vector product of the wide tiles, two
    /// 64-column blocks (two panels of a packed B) at once, so 8 independent sums hide the FMA latency.
    @inline(__always) private func tile1x128(_ row: Int, _ col: Int, _ width: Int) {
        var (c0, c1, c2, c3) = initial64(row, col, 64)
        var (d0, d1, d2, d3) = initial64(row, col + 64, width - 64)
        let a0 = a + row * lda
        let (start, ldb) = columns(col), (second, _) = columns(col + 64)
        var pb = start, qb = second
        for i in 0..<k {
            let x = Vec(repeating: a0[i])
            c0 = c0.addingProduct(B.load16(pb), x); c1 = c1.addingProduct(B.load16(pb + 16), x)
            c2 = c2.addingProduct(B.load16(pb + 32), x); c3 = c3.addingProduct(B.load16(pb + 48), x)
            d0 = d0.addingProduct(B.load16(qb), x); d1 = d1.addingProduct(B.load16(qb + 16), x)
            d2 = d2.addingProduct(B.load16(qb + 32), x); d3 = d3.addingProduct(B.load16(qb + 48), x)
            pb += ldb
            qb += ldb
        }
        store(c0, c1, c2, c3, row, col, width: 64)
        store(d0, d1, d2, d3, row, col + 64, width: width - 64)
    }

    /// `start` for the narrow tiles' 8 lanes.
    @inline(__always) private func initial8(_ row: Int, _ col: Int, _ width: Int) -> Vec8 { start(row, col, width, as: Vec8.self) }

    /// Stores the first `width` (≤ 8) lanes of `v` at C[row, col...].
    @inline(__always) private func store8(_ v: Vec8, _ row: Int, _ col: Int, width: Int) {
        let p = c + row * ldc + col
        if width >= 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec8.self) } else { for i in 0..<max(0, width) { p[i] = v[i] } }
    }

    /// C[row ..< row+6, col ..< col+width], width ≤ 16, in 8-float registers: 12 accumulators, two
    /// for B and one broadcast, within AVX2's 16.
    @inline(__always) private func tile6x16(_ row: Int, _ col: Int, _ width: Int) {
        var c00 = initial8(row, col, width), c01 = initial8(row, col + 8, width - 8)
        var c10 = initial8(row + 1, col, width), c11 = initial8(row + 1, col + 8, width - 8)
        var c20 = initial8(row + 2, col, width), c21 = initial8(row + 2, col + 8, width - 8)
        var c30 = initial8(row + 3, col, width), c31 = initial8(row + 3, col + 8, width - 8)
        var c40 = initial8(row + 4, col, width), c41 = initial8(row + 4, col + 8, width - 8)
        var c50 = initial8(row + 5, col, width), c51 = initial8(row + 5, col + 8, width - 8)
        let a0 = a + row * lda, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda
        let (start, ldb) = columns(col)
        var pb = start
        for i in 0..<k {
            let w0 = B.load8(pb), w1 = B.load8(pb + 8)
            var x = Vec8(repeating: a0[i])
            c00 = c00.addingProduct(w0, x); c01 = c01.addingProduct(w1, x)
            x = Vec8(repeating: a1[i])
            c10 = c10.addingProduct(w0, x); c11 = c11.addingProduct(w1, x)
            x = Vec8(repeating: a2[i])
            c20 = c20.addingProduct(w0, x); c21 = c21.addingProduct(w1, x)
            x = Vec8(repeating: a3[i])
            c30 = c30.addingProduct(w0, x); c31 = c31.addingProduct(w1, x)
            x = Vec8(repeating: a4[i])
            c40 = c40.addingProduct(w0, x); c41 = c41.addingProduct(w1, x)
            x = Vec8(repeating: a5[i])
            c50 = c50.addingProduct(w0, x); c51 = c51.addingProduct(w1, x)
            pb += ldb
        }
        store8(c00, row, col, width: width); store8(c01, row, col + 8, width: width - 8)
        store8(c10, row + 1, col, width: width); store8(c11, row + 1, col + 8, width: width - 8)
        store8(c20, row + 2, col, width: width); store8(c21, row + 2, col + 8, width: width - 8)
        store8(c30, row + 3, col, width: width); store8(c31, row + 3, col + 8, width: width - 8)
        store8(c40, row + 4, col, width: width); store8(c41, row + 4, col + 8, width: width - 8)
        store8(c50, row + 5, col, width: width); store8(c51, row + 5, col + 8, width: width - 8)
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

    /// C[row, col ..< col+width], width ≤ 16 (leftover rows and columns only: one chain of FMAs).
    @inline(__always) private func tile1x16(_ row: Int, _ col: Int, _ width: Int) {
        var c0 = initial(row, col, width)
        let a0 = a + row * lda
        let (start, ldb) = columns(col)
        var pb = start
        for i in 0..<k {
            c0 = c0.addingProduct(B.load16(pb), Vec(repeating: a0[i]))
            pb += ldb
        }
        store(c0, row, col, width: width)
    }
}
