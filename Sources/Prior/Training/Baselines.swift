import Foundation

/// The two reference predictors for bits/token, fitted on training data.
public struct Baselines: Codable, Sendable, Equatable {
    /// log2 of the add-one smoothed unigram probability of each code: (n_c + 1) / (N + K).
    public var unigramLog2: [Double]
    /// "Same position in the previous frame": p = (1 − ε) on the previous token + ε spread uniformly
    /// over all K codes. ε = (1 − r)·K/(K − 1), where r is the training repeat rate, minimises training bits.
    public var copyEpsilon: Double
    /// Fraction of training tokens equal to the same position in the previous frame (same episode).
    public var repeatRate: Double

    /// Fits both baselines on every frame of `data` (copy-previous: consecutive frames within an episode).
    public init(fittedOn data: PriorDataset, codebookSize k: Int) {
        var counts = [Int](repeating: 0, count: k)
        var repeats = 0, pairs = 0
        for clip in data.clips {
            let hw = clip.codesPerFrame
            for code in clip.codes where Int(code) < k { counts[Int(code)] += 1 }
            for t in 1..<max(1, clip.frames) where !clip.episodeStart[t] {
                for j in 0..<hw where clip.codes[t * hw + j] == clip.codes[(t - 1) * hw + j] { repeats += 1 }
                pairs += hw
            }
        }
        let total = Double(counts.reduce(0, +) + k)
        unigramLog2 = counts.map { log2(Double($0 + 1) / total) }
        repeatRate = pairs > 0 ? Double(repeats) / Double(pairs) : 0
        copyEpsilon = min(1, max(1e-6, (1 - repeatRate) * Double(k) / Double(k - 1)))
    }

    /// Bits of `code` under the unigram baseline.
    public func unigramBits(_ code: Int) -> Double { -unigramLog2[code] }

    /// Bits of `code` under copy-previous when the same position held `previous`.
    public func copyBits(_ code: Int, previous: Int) -> Double {
        let k = Double(unigramLog2.count)
        let p = (code == previous ? 1 - copyEpsilon : 0) + copyEpsilon / k
        return -log2(p)
    }
}
