import Foundation
import NN

/// Rotary position embedding (RoPE, Su et al. 2021) of frame indices, for heads of width d:
/// dimensions i and i + d/2 of a query or key of frame f turn by the angle f·base^(−2i/d).
/// A query·key product then depends on the two frames' distance only, not on where they sit,
/// which is what lets a sliding window keep its cached keys (`FramePositions.rotary`).
///
/// Angles are computed in Double and rounded once, so the libtorch model and the Swift decoder
/// use the same cos/sin values for any frame index, however far a rollout runs.
struct FrameRotation: Sendable {
    /// The angle's base: 100 turns the fastest pair by 1 radian per frame and the slowest by
    /// ~0.01, a spread fit for windows of a few to a few dozen frames.
    static let base = 100.0
    /// Head width d (even).
    let headWidth: Int
    /// base^(−2i/d) for i < d/2: the angle per frame of each dimension pair.
    private let frequencies: [Double]

    init(headWidth: Int) {
        self.headWidth = headWidth
        frequencies = (0..<(headWidth / 2)).map { pow(Self.base, -2 * Double($0) / Double(headWidth)) }
    }

    /// cos and sin of frame `frame`'s d/2 angles.
    func angles(frame: Int) -> (cos: [Float], sin: [Float]) {
        let angles = frequencies.map { Double(frame) * $0 }
        return (angles.map { Float(Foundation.cos($0)) }, angles.map { Float(Foundation.sin($0)) })
    }

    /// Tables for `rotate(_:_:)`, one row per token of frame `frames[t]`: `[T, d]` each,
    /// `[cos, cos]` and `[−sin, sin]`.
    func tables(frames: [Int]) throws -> (cos: Tensor, sin: Tensor) {
        var cosTable: [Float] = [], sinTable: [Float] = []
        cosTable.reserveCapacity(frames.count * headWidth)
        sinTable.reserveCapacity(frames.count * headWidth)
        var cache: [Int: (cos: [Float], sin: [Float])] = [:]
        for f in frames {
            let (c, s) = cache[f] ?? angles(frame: f)
            cache[f] = (c, s)
            cosTable += c + c
            sinTable += s.map { -$0 } + s
        }
        return (try Tensor(cosTable, shape: [frames.count, headWidth]), try Tensor(sinTable, shape: [frames.count, headWidth]))
    }

    /// Rotates queries or keys `[..., T, d]` by the tables of their T tokens:
    /// x·[cos, cos] + [x₂, x₁]·[−sin, sin], i.e. (x₁ cos − x₂ sin, x₂ cos + x₁ sin).
    static func rotate(_ x: Tensor, _ tables: (cos: Tensor, sin: Tensor)) throws -> Tensor {
        let last = x.ndim - 1, half = x.size(last) / 2
        let swapped = try Tensor.cat([x.narrow(dim: last, start: half, length: half),
                                      x.narrow(dim: last, start: 0, length: half)], dim: last)
        return try x * tables.cos + swapped * tables.sin
    }

    /// The same rotation in place on one head's d floats, with `angles(frame:)`.
    @inline(__always)
    static func rotate(_ x: UnsafeMutablePointer<Float>, half: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        for i in 0..<half {
            let (a, b) = (x[i], x[i + half])
            x[i] = a * cos[i] - b * sin[i]
            x[i + half] = b * cos[i] + a * sin[i]
        }
    }
}
