import Foundation

/// How a VQ-VAE uses its codebook on a set of frames.
public struct CodebookStats: Sendable, Equatable {
    /// Codebook size K.
    public let size: Int
    /// How often each code was chosen.
    public private(set) var counts: [Int]

    public init(size: Int) {
        self.size = size
        counts = [Int](repeating: 0, count: size)
    }

    /// Counts the codes in `codes` (each must be < K).
    public mutating func add<C: Collection>(_ codes: C) where C.Element: BinaryInteger {
        for code in codes { counts[Int(code)] += 1 }
    }

    /// Codes seen at least once.
    public var used: Int { counts.filter { $0 > 0 }.count }

    /// Fraction of the K codes seen at least once.
    public var usage: Double { Double(used) / Double(size) }

    /// exp(entropy) of the code frequencies: the "effective number" of codes in use (1...K).
    public var perplexity: Double {
        let total = Double(counts.reduce(0, +))
        guard total > 0 else { return 0 }
        var entropy = 0.0
        for c in counts where c > 0 {
            let p = Double(c) / total
            entropy -= p * log(p)
        }
        return exp(entropy)
    }

    /// Bits to store one frame's grid of `cells` codes: cells × log2(K).
    public func bitsPerFrame(cells: Int) -> Double { Double(cells) * log2(Double(size)) }

    /// Compression ratio of raw 8-bit RGB (`width × height × 3 × 8` bits) to the code grid.
    public func compressionRatio(width: Int, height: Int, cells: Int) -> Double {
        Double(width * height * 3 * 8) / bitsPerFrame(cells: cells)
    }
}
