/// Elementwise and row operations of the Swift decoder, vectorised with `Vec` (SIMD16<Float>).
/// Comparisons and masks are used instead of `min`/`max`/`clamped`, which Swift does not vectorise.
enum VectorMath {
    /// eˣ to about 2.5e-7 relative error: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6 Taylor
    /// polynomial for eʳ, and 2ⁿ built in the exponent bits. Clamped to the float range.
    @inline(__always) static func exp(_ x: Vec) -> Vec {
        var x = x.replacing(with: -87.3, where: x .< -87.3)
        x.replace(with: 88.7, where: x .> 88.7)
        let shifter: Float = 12_582_912                  // 1.5·2²³: adding it rounds to an integer in the low mantissa bits
        let t = x * 1.442_695_04 + shifter                // x / ln2, rounded
        let n = t - shifter
        let r = x - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187e-6  // ln2 split in two for exactness
        var p = Vec(repeating: 1.0 / 720)
        p = Vec(repeating: 1.0 / 120).addingProduct(p, r)
        p = Vec(repeating: 1.0 / 24).addingProduct(p, r)
        p = Vec(repeating: 1.0 / 6).addingProduct(p, r)
        p = Vec(repeating: 0.5).addingProduct(p, r)
        p = Vec(repeating: 1).addingProduct(p, r)
        p = Vec(repeating: 1).addingProduct(p, r)
        let twoToN = (unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return p * unsafeBitCast(twoToN, to: Vec.self)
    }

    /// Exact (erf) GELU, x·Φ(x) = ½·x·(1 + erf(x/√2)), with erfc from Abramowitz & Stegun 7.1.26
    /// (absolute error ≤ 1.5e-7). For x < 0 it uses 1 + erf(z) = erfc(|z|) directly, which keeps the
    /// small negative tail accurate.
    @inline(__always) static func gelu(_ x: Vec) -> Vec {
        let z = x * 0.707_106_781_186_547_5
        let a = z.replacing(with: -z, where: z .< 0)
        let t = 1 / (a * 0.327_591_1 + 1)
        var poly = Vec(repeating: 1.061_405_429)
        poly = Vec(repeating: -1.453_152_027).addingProduct(poly, t)
        poly = Vec(repeating: 1.421_413_741).addingProduct(poly, t)
        poly = Vec(repeating: -0.284_496_736).addingProduct(poly, t)
        poly = Vec(repeating: 0.254_829_592).addingProduct(poly, t)
        let erfc = poly * t * exp(-(a * a))                // erfc(|z|)
        let onePlusErf = erfc.replacing(with: 2 - erfc, where: z .>= 0)
        return 0.5 * x * onePlusErf
    }

    /// GELU of `count` floats in place.
    static func gelu(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            storeVec(gelu(loadVec(p + i)), p + i)
            i += 16
        }
        if i < count {
            let rest = gelu(loadVec(p + i))
            for j in 0..<(count - i) { p[i + j] = rest[j] }
        }
    }

    /// LayerNorm of one row: `out[0..<c] = (x − mean) / √(var + eps) · gamma + beta` (biased variance).
    static func layerNorm(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count c: Int,
                          gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float = 1e-5) {
        let mean = sum(x, count: c) / Float(c)
        var squares = Vec()
        var tail: Float = 0
        var i = 0
        while i + 16 <= c {
            let d = loadVec(x + i) - mean
            squares = squares.addingProduct(d, d)
            i += 16
        }
        while i < c { tail += (x[i] - mean) * (x[i] - mean); i += 1 }
        let scale = 1 / (((squares.sum() + tail) / Float(c)) + eps).squareRoot()
        i = 0
        while i + 16 <= c {
            storeVec((loadVec(x + i) - mean) * scale * loadVec(gamma + i) + loadVec(beta + i), out + i)
            i += 16
        }
        while i < c { out[i] = (x[i] - mean) * scale * gamma[i] + beta[i]; i += 1 }
    }

    /// Adaptive LayerNorm of one normalised row, in place: `x[0..<c] = x · (1 + scale) + shift`.
    static func modulate(_ x: UnsafeMutablePointer<Float>, count c: Int, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        var i = 0
        while i + 16 <= c {
            let v = loadVec(x + i)
            storeVec(v.addingProduct(v, loadVec(scale + i)) + loadVec(shift + i), x + i)
            i += 16
        }
        while i < c { x[i] += x[i] * scale[i] + shift[i]; i += 1 }
    }

    /// Σ x[0..<count].
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var acc = Vec()
        var i = 0
        while i + 16 <= count { acc += loadVec(x + i); i += 16 }
        var total = acc.sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// In place over `x[0..<count]`: softmax(x · scale); then zeros `x[count..<zeroUpTo]`.
    static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float, zeroUpTo: Int) {
        var tops = Vec(repeating: -.infinity)
        var i = 0
        while i + 16 <= count {
            let v = loadVec(x + i)
            tops.replace(with: v, where: v .> tops)
            i += 16
        }
        var top = tops.max()
        while i < count { if x[i] > top { top = x[i] }; i += 1 }
        var total = Vec()
        i = 0
        while i + 16 <= count {
            let e = exp((loadVec(x + i) - top) * scale)
            storeVec(e, x + i)
            total += e
            i += 16
        }
        var sum = total.sum()
        if i < count {
            let e = exp((loadVec(x + i) - top) * scale)
            for j in 0..<(count - i) { x[i + j] = e[j]; sum += e[j] }
        }
        let inverse = 1 / sum
        i = 0
        while i + 16 <= count { storeVec(loadVec(x + i) * inverse, x + i); i += 16 }
        while i < count { x[i] *= inverse; i += 1 }
        for j in count..<max(count, zeroUpTo) { x[j] = 0 }
    }
}
