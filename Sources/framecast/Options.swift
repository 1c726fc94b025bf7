import FramecastKit
import ArgumentParser
import Foundation
import Media
import NN
import Prior

/// A frame size written `WIDTHxHEIGHT`, e.g. `64x64`.
struct FrameSize: ExpressibleByArgument, CustomStringConvertible {
    var width: Int
    var height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else { return nil }
        self.init(width: w, height: h)
    }

    var description: String { "\(width)x\(height)" }

    /// Throws a usage error unless both sides are positive (and even, when `even` is set).
    func validate(_ option: String, even: Bool = false, max: Int = 8192) throws {
        guard width > 0, height > 0 else {
            throw ValidationError("\(option) must be positive, got \(self)")
        }
        guard width <= max, height <= max else { throw ValidationError("\(option) must be at most \(max)x\(max), got \(self)") }
        if even, width % 2 != 0 || height % 2 != 0 {
            throw ValidationError("\(option) must have an even width and height for yuv420p video, got \(self)")
        }
    }
}

extension FitMode: ExpressibleByArgument {}


/// Classifier-free action guidance, for the commands that roll out a prior.
struct GuidanceOptions: ParsableArguments {
    @Option(help: "Action guidance w: logits = u + w·(c − u), u conditioning on the previous action in place of the one leading to the frame; 1 = off, > 1 follows changes of action more strongly.")
    var actionGuidance = Recipe.sampling.actionGuidance

    func validate() throws {
        guard (0...20).contains(actionGuidance) else { throw ValidationError("--action-guidance must be in 0...20") }
    }
}

/// The splits of a clips manifest that the evaluating commands read (`--split`).
enum ManifestSplit {
    /// Throws a usage error unless `split` is `validation` or `train`.
    static func validate(_ split: String) throws {
        guard ["validation", "train"].contains(split) else {
            throw ValidationError("--split must be validation or train, got \(split)")
        }
    }
}

/// The most compute threads an option may ask for: 4 per core, at most 256 (more only slows the
/// work down).
let maxThreads = min(256, 4 * ProcessInfo.processInfo.activeProcessorCount)

/// Throws a usage error unless `threads` (when given) is 1...`maxThreads`.
func validateThreads(_ threads: Int?, option: String = "--threads") throws {
    if let threads, !(1...maxThreads).contains(threads) {
        throw ValidationError("\(option) must be 1...\(maxThreads) (4 per core), got \(threads)")
    }
}

/// Throws a usage error unless `value` is in `range`.
func validateRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ option: String) throws {
    guard range.contains(value) else { throw ValidationError("\(option) must be \(range.lowerBound)...\(range.upperBound), got \(value)") }
}

extension ComputeDevice: ExpressibleByArgument {}

/// `--device`, for the commands that run the models in libtorch (training, encode, decode).
struct DeviceOption: ParsableArguments {
    @Option(help: "Where the models run: cpu, or cuda (the first GPU; needs framecast built against PyPI's torch with FRAMECAST_LIBTORCH, README). Data-parallel training (--nproc, RANK) runs on the CPU only.")
    var device: ComputeDevice = .cpu
}
