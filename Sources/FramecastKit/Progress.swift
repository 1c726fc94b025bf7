import Foundation

/// Progress on stderr: a redrawn bar with rate and ETA on a terminal, plain lines every few
/// seconds otherwise (logs, CI).
package final class ProgressReporter {
    private let label: String
    private var total: Int?
    private let unit: String
    /// Units already done when the work started (a resumed run): not counted in the rate.
    private let initial: Int
    private let start = Date()
    private lazy var lastPrint = interactive ? Date.distantPast : start
    private let interactive = isatty(STDERR_FILENO) != 0

    /// Changes the total (a re-estimated run length).
    package func setTotal(_ total: Int) { self.total = total }

    package init(_ label: String, total: Int?, unit: String = "frames", from initial: Int = 0) {
        self.label = label
        self.total = total
        self.unit = unit
        self.initial = initial
    }

    /// Reports that `done` units are complete; `extra` is appended (e.g. loss figures).
    package func update(_ done: Int, extra: String = "") {
        let now = Date()
        guard now.timeIntervalSince(lastPrint) >= (interactive ? 0.1 : 5) else { return }
        lastPrint = now
        emit(done, extra: extra, final: false)
    }

    /// Prints the final line.
    package func finish(_ done: Int, extra: String = "") {
        emit(done, extra: extra, final: true)
    }

    private func emit(_ done: Int, extra: String, final: Bool) {
        let elapsed = max(Date().timeIntervalSince(start), 1e-9)
        let rate = Double(done - initial) / elapsed
        var line = "\(label): \(done)"
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            if interactive {
                let width = 24, filled = Int(fraction * Double(width))
                line = "\(label) [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(done)/\(total)"
            } else {
                line += "/\(total)"
            }
        }
        line += " \(unit), \(String(format: "%.1f", rate)) \(unit)/s, \(Self.clock(elapsed))"
        if let total, total > done, !final, rate > 0 { line += ", ETA \(Self.clock(Double(total - done) / rate))" }
        if !extra.isEmpty { line += ", " + extra }
        let text = interactive ? "\r\u{1B}[K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }

    package static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Prints `value` as one line of JSON on stdout (keys sorted).
package func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
