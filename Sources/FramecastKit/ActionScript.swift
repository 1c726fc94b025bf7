import Foundation
import Media

/// Parses the actions a prediction should follow: a script such as `MOVE_FORWARD*10,TURN_LEFT*5`
/// (names or ids, `*N` repeats), or a CSV file (the sidecar format, or one name or id per line).
package enum ActionScript {
    /// The most actions a script may give.
    package static let maxActions = 100_000

    /// Action ids for `spec`, resolved against `names` (index = id).
    package static func parse(_ spec: String, names: [String]) throws -> [Int] {
        if FileManager.default.fileExists(atPath: spec) { return try file(spec, names: names) }
        if spec.contains("/") || spec.lowercased().hasSuffix(".csv") {
            throw ActionScriptError("\(spec): no such action file (an action script looks like MOVE_FORWARD*10,TURN_LEFT*5)")
        }
        var ids: [Int] = []
        for item in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "*", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(parts.count), !parts[0].isEmpty else {
                throw ActionScriptError("'\(item)' is not ACTION or ACTION*COUNT (in '\(spec)')")
            }
            let count = parts.count == 2 ? Int(parts[1]) : 1
            guard let count, count >= 1 else { throw ActionScriptError("'\(item)': the repeat count must be a positive whole number") }
            guard count <= maxActions - ids.count else {
                throw ActionScriptError("'\(spec)' asks for more than \(maxActions) actions")
            }
            ids += Array(repeating: try resolve(parts[0], names: names), count: count)
        }
        return ids
    }

    /// A name or a numeric id → id, with an error listing the valid names.
    package static func resolve(_ token: String, names: [String]) throws -> Int {
        if let index = names.firstIndex(of: token) { return index }
        if let id = Int(token) {
            guard id >= 0, id < names.count else { throw ActionScriptError("action id \(id) is out of range (the clip has \(names.count) actions: 0...\(names.count - 1))") }
            return id
        }
        throw ActionScriptError("unknown action '\(token)'; this clip's actions are: \(names.joined(separator: ", "))")
    }

    private static func file(_ path: String, names: [String]) throws -> [Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw MediaError(path, "cannot read the action file") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if lines.first == "frame,action_id,action_name,reward,episode_start" {
            let track = try ActionTrack.read(csv: path, json: nil)
            return track.steps.map(\.actionID)
        }
        return try lines.enumerated().map { i, line in
            do { return try resolve(line.split(separator: ",").first.map(String.init) ?? line, names: names) } catch {
                throw MediaError(path, "line \(i + 1): \(error)")
            }
        }
    }
}

/// A bad action script, in words.
package struct ActionScriptError: Error, CustomStringConvertible, LocalizedError {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
    package var errorDescription: String? { message }
}
