import FramecastKit
import ArgumentParser
import CHostCPU
import CProcessStart
import FileOutput
import Foundation
import NN

/// `framecast`: learn to predict the future of a video from its past frames and actions.
@main
struct Framecast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "framecast",
        abstract: "Tokenize videos, train action-conditioned video predictors, and export predicted futures.",
        discussion: """
            Video I/O goes through FFmpeg's libraries; results go to stdout (one JSON line with --json), \
            progress and logs to stderr. Exit codes: 0 ok, 64 usage error, 1 runtime error.

            Examples:
              framecast probe Clips/my_way_home_s1.mp4
              framecast transcode Clips/my_way_home_s1.mp4 -o small.mp4 --size 64x64
              framecast contact-sheet Clips/my_way_home_s1.mp4 -o sheet.png --every 10
            """,
        version: "0.1.0",
        subcommands: [Demo.self, Play.self, Probe.self, Transcode.self, ContactSheet.self, Train.self, Encode.self, Decode.self, Predict.self, Export.self, Eval.self, Report.self, Compact.self, Bench.self]
    )

    /// Runs with libgomp's `OMP_WAIT_POLICY=PASSIVE` (spinning OpenMP threads stall both cores under
    /// load, see docs/numerics.md): CProcessStart's load-time hook re-executed the process with it
    /// when it was unset, before libtorch initialised; `ensureProcessEnvironment()` is the slower
    /// fallback for where that hook cannot run.
    static func main() {
        guard hostcpu_runs_kernels() != 0 else {
            FileHandle.standardError.write(Data("framecast: this CPU lacks AVX2 and FMA, which this build's vector kernels need; rebuild with FRAMECAST_MARCH=native (or an older -march) for it\n".utf8))
            Foundation.exit(1)
        }
        if fc_wait_policy_restart_failed() == 0 { Torch.ensureProcessEnvironment() }
        AtomicFile.installSignalCleanup()
        main(joiningNegativeNumbers(Array(CommandLine.arguments.dropFirst())))
    }

    /// `--frames -5` becomes `--frames=-5`, so that a negative number reaches the option's range
    /// check ("--frames must be 1...") instead of being read as an unknown option and reported as
    /// "Missing value".
    static func joiningNegativeNumbers(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { out += arguments[i...]; break }
            if a.hasPrefix("--"), !a.contains("="), i + 1 < arguments.count, Double(arguments[i + 1]) != nil, arguments[i + 1].hasPrefix("-") {
                out.append(a + "=" + arguments[i + 1])
                i += 2
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }
}
