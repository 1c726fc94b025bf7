import FileOutput
import Foundation

/// The actions taken in a clip: the `NAME.actions.csv` + `NAME.json` sidecars beside `NAME.mp4`.
///
/// CSV columns: `frame,action_id,action_name,reward,episode_start`. Row `i` is the action taken
/// after seeing frame `i`, so a clip of N frames has N rows. The JSON sidecar holds the clip's
/// settings, among them `action_names` (index = action id) and `fps`.
public struct ActionTrack: Sendable, Equatable {
    /// One CSV row.
    public struct Step: Sendable, Equatable {
        public var actionID: Int
        public var reward: Double
        /// True on the first frame of an episode.
        public var episodeStart: Bool

        public init(actionID: Int, reward: Double = 0, episodeStart: Bool = false) {
            self.actionID = actionID
            self.reward = reward
            self.episodeStart = episodeStart
        }
    }

    /// Action names; `actionNames[id]` names action `id`.
    public var actionNames: [String]
    /// One step per frame.
    public var steps: [Step]
    /// Settings from the JSON sidecar (env, fps, seed, ...), kept as read.
    public var settings: [String: String]

    public init(actionNames: [String], steps: [Step], settings: [String: String] = [:]) {
        self.actionNames = actionNames
        self.steps = steps
        self.settings = settings
    }

    /// Frames per second, when the JSON sidecar gives it.
    public var fps: Double? { settings["fps"].flatMap(Double.init) }

    /// Paths of the two sidecars of `video` (`x.mp4` → `x.actions.csv`, `x.json`).
    public static func sidecarPaths(forVideo video: String) -> (csv: String, json: String) {
        let url = URL(fileURLWithPath: video)
        let base = url.deletingPathExtension().path
        return (base + ".actions.csv", base + ".json")
    }

    /// Reads the sidecars of `video`, or returns nil when it has no `.actions.csv`.
    public static func load(forVideo video: String) throws -> ActionTrack? {
        let paths = sidecarPaths(forVideo: video)
        guard FileManager.default.fileExists(atPath: paths.csv) else { return nil }
        return try read(csv: paths.csv, json: paths.json)
    }

    /// The largest action id a sidecar may use.
    public static let maxActionID = 4095

    /// Reads and validates a CSV sidecar and its JSON settings file (optional when missing).
    public static func read(csv: String, json: String?) throws -> ActionTrack {
        var names: [String] = []
        var settings: [String: String] = [:]
        if let json, FileManager.default.fileExists(atPath: json) {
            (names, settings) = try readSettings(json)
        }
        guard let data = FileManager.default.contents(atPath: csv) else { throw MediaError(csv, "cannot read the action sidecar") }
        guard let text = String(data: data, encoding: .utf8) else { throw MediaError(csv, "not UTF-8 text") }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else { throw MediaError(csv, "empty action sidecar (expected a header line)") }
        let expected = "frame,action_id,action_name,reward,episode_start"
        guard header.trimmingCharacters(in: .whitespaces) == expected else {
            throw MediaError(csv, "line 1: header must be '\(expected)', found '\(header)'")
        }
        var steps: [Step] = []
        steps.reserveCapacity(lines.count - 1)
        var namesFromCSV: [Int: String] = [:]
        for (offset, line) in lines.dropFirst().enumerated() {
            let lineNumber = offset + 2
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 5 else {
                throw MediaError(csv, "line \(lineNumber): expected 5 fields, found \(fields.count)")
            }
            guard let frame = Int(fields[0]) else { throw MediaError(csv, "line \(lineNumber): frame '\(fields[0])' is not a whole number") }
            guard frame == steps.count else {
                throw MediaError(csv, "line \(lineNumber): frame \(frame) out of order (expected \(steps.count))")
            }
            guard let id = Int(fields[1]) else { throw MediaError(csv, "line \(lineNumber): action_id '\(fields[1])' is not a whole number") }
            guard id >= 0 else { throw MediaError(csv, "line \(lineNumber): action_id \(id) is negative") }
            guard id <= Self.maxActionID else {
                throw MediaError(csv, "line \(lineNumber): action_id \(id) is too large (at most \(Self.maxActionID))")
            }
            if !names.isEmpty {
                guard id < names.count else {
                    throw MediaError(csv, "line \(lineNumber): action_id \(id) out of range (the clip has \(names.count) actions)")
                }
                guard fields[2] == names[id] else {
                    throw MediaError(csv, "line \(lineNumber): action \(id) is named '\(fields[2])' but the JSON sidecar calls it '\(names[id])'")
                }
            } else if let known = namesFromCSV[id], known != fields[2] {
                throw MediaError(csv, "line \(lineNumber): action \(id) named both '\(known)' and '\(fields[2])'")
            }
            namesFromCSV[id] = fields[2]
            guard let reward = Double(fields[3]), reward.isFinite else { throw MediaError(csv, "line \(lineNumber): reward '\(fields[3])' is not a number") }
            guard fields[4] == "0" || fields[4] == "1" else {
                throw MediaError(csv, "line \(lineNumber): episode_start must be 0 or 1, found '\(fields[4])'")
            }
            steps.append(Step(actionID: id, reward: reward, episodeStart: fields[4] == "1"))
        }
        guard !steps.isEmpty else { throw MediaError(csv, "action sidecar has a header but no rows") }
        if names.isEmpty, let maxID = namesFromCSV.keys.max() {
            names = (0...maxID).map { namesFromCSV[$0] ?? "ACTION_\($0)" }
        }
        return ActionTrack(actionNames: names, steps: steps, settings: settings)
    }

    /// Reads `action_names` and the scalar settings of a JSON sidecar.
    static func readSettings(_ path: String) throws -> ([String], [String: String]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw MediaError(path, "cannot read the JSON sidecar") }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any] else {
            throw MediaError(path, "not a JSON object")
        }
        var names: [String] = []
        if let value = dictionary["action_names"] {
            guard let list = value as? [String] else { throw MediaError(path, "action_names must be a list of strings") }
            names = list
        }
        var settings: [String: String] = [:]
        for (key, value) in dictionary where key != "action_names" {
            switch value {
            case let string as String: settings[key] = string
            case let number as NSNumber: settings[key] = number.stringValue
            default: continue
            }
        }
        return (names, settings)
    }

    /// Throws unless the track has exactly one row per frame of a `frameCount`-frame video.
    public func validate(frameCount: Int, video: String, csv: String) throws {
        guard steps.count == frameCount else {
            throw MediaError(csv, "has \(steps.count) action rows but \(video) has \(frameCount) frames")
        }
    }

    /// Writes `BASE.actions.csv` and `BASE.json` atomically.
    public func write(base: String) throws {
        var csv = "frame,action_id,action_name,reward,episode_start\n"
        for (frame, step) in steps.enumerated() {
            let name = actionNames.indices.contains(step.actionID) ? actionNames[step.actionID] : step.actionID < 0 ? "NONE" : "ACTION_\(step.actionID)"
            let reward = step.reward == step.reward.rounded() ? String(Int(step.reward)) : String(step.reward)
            csv += "\(frame),\(step.actionID),\(name),\(reward),\(step.episodeStart ? 1 : 0)\n"
        }
        var json: [String: Any] = settings
        json["action_names"] = actionNames
        json["frames"] = steps.count
        let jsonData = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(Data(csv.utf8), to: base + ".actions.csv")
        try AtomicFile.write(jsonData, to: base + ".json")
    }
}
