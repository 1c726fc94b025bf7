/// Frames held in memory as packed RGB bytes, for random-access training batches.
/// 64×64 frames take 12 KiB each: 100k frames fit in 1.2 GiB.
public struct FrameBank: Sendable {
    public let width: Int
    public let height: Int
    /// `count × height × width × 3` bytes.
    public private(set) var bytes: [UInt8] = []

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var frameBytes: Int { width * height * 3 }
    public var count: Int { bytes.count / frameBytes }

    /// Appends one frame of `frameBytes` bytes.
    public mutating func append(_ frame: [UInt8]) {
        precondition(frame.count == frameBytes, "FrameBank.append: frame has \(frame.count) bytes, expected \(frameBytes)")
        bytes.append(contentsOf: frame)
    }

    /// Frame `i`'s bytes.
    public func frame(_ i: Int) -> ArraySlice<UInt8> { bytes[(i * frameBytes)..<((i + 1) * frameBytes)] }

    /// The frames at `indices`, concatenated.
    public func gather(_ indices: [Int]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(indices.count * frameBytes)
        for i in indices { out.append(contentsOf: frame(i)) }
        return out
    }

    /// `n` indices spread evenly over the bank (all of them when n ≥ count).
    public func evenlySpaced(_ n: Int) -> [Int] {
        guard n < count else { return Array(0..<count) }
        return (0..<n).map { $0 * count / n }
    }
}
