import NN
import Foundation

/// How to pick each next code from the model's logits.
public struct SamplingOptions: Codable, Sendable, Equatable {
    /// Softmax temperature; 0 picks the most likely code (greedy).
    public var temperature = 1.0
    /// Keep only the k most likely codes; 0 keeps all.
    public var topK = 0
    /// Keep the smallest set of most likely codes whose probability reaches p (nucleus); 1 keeps all.
    public var topP = 1.0
    /// Seed of the sampling generator: the same seed gives the same codes.
    public var seed: UInt64 = 0
    /// Classifier-free action guidance w: logits = u + w·(c − u), where c conditions on the action that
    /// leads to the frame and u on the action before it, as if the action had not changed (while an
    /// action is held u = c and guidance costs nothing). 1 = off (plain conditional logits); w > 1
    /// strengthens the effect of a change of action. The product's default is FramecastKit's
    /// `Recipe.sampling`.
    public var actionGuidance = 1.0
    /// Instead of drawing a code, pick the one whose codebook vector is nearest (L2) to the mean
    /// vector under the model's distribution (softmax at `temperature`, after top-k and top-p): the
    /// code with the least expected squared error in code space. Deterministic; needs the
    /// tokenizer's codebook (`PriorSampler.codeVectors`) and `temperature` > 0.
    public var nearestMean = false

    public init(temperature: Double = 1, topK: Int = 0, topP: Double = 1, seed: UInt64 = 0, actionGuidance: Double = 1,
                nearestMean: Bool = false) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.seed = seed
        self.actionGuidance = actionGuidance
        self.nearestMean = nearestMean
    }

    /// Problems in words; empty when usable.
    public var problems: [String] {
        var out: [String] = []
        if !(temperature >= 0 && temperature.isFinite) { out.append("temperature \(temperature) must be ≥ 0") }
        if topK < 0 { out.append("top-k \(topK) must be ≥ 0 (0 = off)") }
        if !(topP > 0 && topP <= 1) { out.append("top-p \(topP) must be in (0, 1]") }
        if !(actionGuidance >= 0 && actionGuidance <= 20) { out.append("action guidance \(actionGuidance) must be in [0, 20]") }
        if nearestMean && temperature == 0 { out.append("the nearest-mean pick needs a temperature > 0") }
        return out
    }
}

/// Draws codes from logits with temperature, top-k and top-p, using its own seeded generator
/// (independent of libtorch's global one and of thread counts).
struct TokenSampler {
    var options: SamplingOptions
    /// The codebook `[K, D]` row-major, for `nearestMean`.
    let codeVectors: [Float]
    private var rng: SplitMix64

    init(_ options: SamplingOptions, codeVectors: [Float] = []) {
        self.options = options
        self.codeVectors = codeVectors
        rng = SplitMix64(seed: options.seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678)
    }

    /// One code per row of `logits` (`rows × k`, row-major).
    mutating func sample(_ logits: [Float], rows: Int, k: Int) -> [Int64] {
        (0..<rows).map { r in Int64(pick(logits[(r * k)..<((r + 1) * k)])) }
    }

    private mutating func pick(_ row: ArraySlice<Float>) -> Int {
        let base = row.startIndex
        if options.temperature == 0 {
            var best = base
            for i in row.indices where row[i] > row[best] { best = i }
            return best - base
        }
        var order = Array(0..<row.count)
        if options.topK > 0 || options.topP < 1 {
            // Candidates in descending logit order (ties broken by index, for determinism).
            order.sort { row[base + $0] > row[base + $1] || (row[base + $0] == row[base + $1] && $0 < $1) }
        }
        if options.topK > 0 && options.topK < order.count { order.removeLast(order.count - options.topK) }
        let top = Double(order.map { row[base + $0] }.max()!)
        var probs = order.map { exp((Double(row[base + $0]) - top) / options.temperature) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if options.topP < 1 {
            var cumulative = 0.0, keep = 0
            while keep < probs.count {
                cumulative += probs[keep]
                keep += 1
                if cumulative >= options.topP { break }
            }
            order.removeLast(order.count - keep)
            probs.removeLast(probs.count - keep)
        }
        if options.nearestMean { return nearest(toMeanOf: order, probs, k: row.count) }
        let mass = probs.reduce(0, +)
        var u = rng.unit() * mass
        for (i, p) in probs.enumerated() {
            u -= p
            if u < 0 { return order[i] }
        }
        return order[order.count - 1]
    }

    /// The code whose vector is nearest to ē = Σ p_i·e_i over `codes` (weights renormalised), among
    /// all K codes: argmin_k E‖e_k − e_c‖² = argmin_k ‖e_k − ē‖². Ties go to the lower code.
    private func nearest(toMeanOf codes: [Int], _ probs: [Double], k: Int) -> Int {
        let d = codeVectors.count / k
        let total = probs.reduce(0, +)
        var mean = [Double](repeating: 0, count: d)
        for (c, p) in zip(codes, probs) {
            let weight = p / total
            for j in 0..<d { mean[j] += weight * Double(codeVectors[c * d + j]) }
        }
        var best = 0, bestDistance = Double.infinity
        for c in 0..<k {
            var distance = 0.0
            for j in 0..<d {
                let e = Double(codeVectors[c * d + j]) - mean[j]
                distance += e * e
            }
            if distance < bestDistance { (best, bestDistance) = (c, distance) }
        }
        return best
    }
}
