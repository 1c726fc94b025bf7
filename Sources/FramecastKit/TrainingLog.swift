import Foundation

/// A run's JSON-lines training log (one object per line, each with a `step`), read for plotting.
package struct TrainingLog {
    /// Where it was looked for.
    package let path: String
    /// Its rows, in file order; empty when the file is missing or unreadable.
    package let rows: [[String: Double]]

    package init(path: String) {
        self.path = path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        rows = text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            let numbers = object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
            return numbers["step"] == nil ? nil : numbers
        }
    }

    /// `log.jsonl` in the checkpoint's folder when it exists, else `NAME.log.jsonl` beside `NAME.safetensors`.
    package static func defaultPath(for checkpoint: String) -> String {
        let folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        let beside = folder.appendingPathComponent("log.jsonl").path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return checkpoint.replacingOccurrences(of: ".safetensors", with: "") + ".log.jsonl"
    }

    /// (step, value) for every row that has `key`.
    package func series(_ key: String) -> [(Double, Double)] {
        rows.compactMap { row in row[key].map { (row["step"]!, $0) } }
    }
}
