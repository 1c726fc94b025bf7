import Foundation
import Media

/// Deterministic synthetic footage with moving structure, made in tests.
public enum SyntheticVideo {
    /// Frame `t` of a scene: a smooth colour gradient drifting right, and a soft-edged bright disc
    /// moving on a circle. Smooth enough that yuv420p H.264 keeps it well (no single-pixel detail).
    public static func frame(_ t: Int, width: Int, height: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let cx = Double(width) * (0.5 + 0.3 * cos(Double(t) * 0.3))
        let cy = Double(height) * (0.5 + 0.3 * sin(Double(t) * 0.3))
        let radius = Double(min(width, height)) * 0.18
        for y in 0..<height {
            for x in 0..<width {
                let u = Double(x + 2 * t) / Double(width), v = Double(y) / Double(height)
                var r = 80 + 60 * sin(u * 2 * .pi), g = 90 + 50 * cos(v * 2 * .pi), b = 110 + 40 * sin((u + v) * .pi)
                let d = ((Double(x) - cx) * (Double(x) - cx) + (Double(y) - cy) * (Double(y) - cy)).squareRoot()
                let inside = max(0, min(1, (radius - d) / 3 + 0.5))  // 3-pixel soft edge
                r += inside * (230 - r); g += inside * (200 - g); b += inside * (60 - b)
                let i = (y * width + x) * 3
                rgb[i] = UInt8(r.rounded()); rgb[i + 1] = UInt8(g.rounded()); rgb[i + 2] = UInt8(b.rounded())
            }
        }
        return rgb
    }

    /// Writes `count` synthetic frames to an MP4 and returns the frames written.
    @discardableResult
    public static func write(to path: String, count: Int, width: Int = 64, height: Int = 64, fps: Double = 15,
                             codec: VideoWriter.Codec? = nil, firstFrame: Int = 0) throws -> [[UInt8]] {
        let writer = try VideoWriter(path: path, width: width, height: height, fps: fps, codec: codec)
        var frames: [[UInt8]] = []
        for t in firstFrame..<(firstFrame + count) {
            let f = frame(t, width: width, height: height)
            try writer.write(rgb: f)
            frames.append(f)
        }
        try writer.finish()
        return frames
    }
}

/// A fresh temporary directory, removed when the object is released.
public final class TemporaryDirectory {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "framecast-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Paths into the repository, for tests that use the shipped clips.
public enum Repository {
    /// The package root (the folder holding Package.swift).
    public static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
        }
        return FileManager.default.currentDirectoryPath
    }()

    /// The shipped clips' MP4 files, sorted.
    public static func clips() -> [String] {
        let dir = root + "/Clips"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".mp4") }.sorted().map { dir + "/" + $0 }
    }
}
