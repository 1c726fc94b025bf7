import Foundation

/// Which keyboard keys take which of the prior's actions in `framecast play`.
///
/// Keys are browser `KeyboardEvent.code` names (`ArrowUp`, `KeyW`, `Space`, `Digit1`). Each key is
/// bound to one action name; several held keys take the action whose `+`-joined name is exactly
/// their union (ArrowUp + ArrowLeft → `MOVE_FORWARD+TURN_LEFT` where the prior has it), and
/// otherwise the key pressed last. With nothing held the idle action applies: `NOOP` where the
/// prior has it, else no action (−1).
public struct PlayKeys: Sendable, Equatable {
    /// (key, action name) in display order.
    public private(set) var bindings: [(key: String, action: String)]
    /// The prior's action names (an action id indexes them).
    public let actionNames: [String]

    public static func == (a: PlayKeys, b: PlayKeys) -> Bool {
        a.actionNames == b.actionNames && a.bindings.map { "\($0.key)=\($0.action)" } == b.bindings.map { "\($0.key)=\($0.action)" }
    }

    /// Default keys for the usual game actions, by name: arrows and WASD move and turn, Space
    /// attacks, E uses. Actions no default reaches (and that are not joins of reached ones) get
    /// Digit1, Digit2, ... so every action can be played.
    public static func defaults(for actionNames: [String]) -> PlayKeys {
        let usual: [(String, [String])] = [
            ("ArrowUp", ["MOVE_FORWARD"]), ("KeyW", ["MOVE_FORWARD"]),
            ("ArrowDown", ["MOVE_BACKWARD"]), ("KeyS", ["MOVE_BACKWARD"]),
            ("ArrowLeft", ["TURN_LEFT"]), ("ArrowRight", ["TURN_RIGHT"]),
            ("KeyA", ["MOVE_LEFT", "TURN_LEFT"]), ("KeyD", ["MOVE_RIGHT", "TURN_RIGHT"]),
            ("Space", ["ATTACK"]), ("KeyE", ["USE"]), ("KeyJ", ["JUMP"]), ("KeyC", ["CROUCH"]),
        ]
        let known = Set(actionNames)
        var bindings: [(key: String, action: String)] = []
        for (key, candidates) in usual {
            if let name = candidates.first(where: known.contains) { bindings.append((key, name)) }
        }
        let reached = Set(bindings.map(\.action))
        var digit = 1
        for name in actionNames where name != idleName && !reached.contains(name) && digit <= 9 {
            let parts = name.split(separator: "+").map(String.init)
            if parts.count > 1 && parts.allSatisfy(reached.contains) { continue }   // held together
            bindings.append(("Digit\(digit)", name))
            digit += 1
        }
        return PlayKeys(bindings: bindings, actionNames: actionNames)
    }

    /// Parses `--keys 'ArrowUp=MOVE_FORWARD,Space=ATTACK'`: these bindings replace the defaults.
    /// - Throws: `PlayError` for a malformed entry, a key given twice, or an action the prior does
    ///   not have (the message lists its names).
    public static func parse(_ text: String, actionNames: [String]) throws -> PlayKeys {
        var bindings: [(key: String, action: String)] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw PlayError("--keys: '\(entry)' is not KEY=ACTION (e.g. ArrowUp=MOVE_FORWARD)")
            }
            guard isKeyName(parts[0]) else {
                throw PlayError("--keys: '\(parts[0])' is not a key name (KeyboardEvent.code: ArrowUp, KeyW, Space, Digit1, ...)")
            }
            guard actionNames.contains(parts[1]) else {
                throw PlayError("--keys: unknown action '\(parts[1])'; the prior's actions are: \(actionNames.joined(separator: ", "))")
            }
            guard !bindings.contains(where: { $0.key == parts[0] }) else { throw PlayError("--keys: key '\(parts[0])' is bound twice") }
            bindings.append((parts[0], parts[1]))
        }
        return PlayKeys(bindings: bindings, actionNames: actionNames)
    }

    /// A browser key code: letters and digits only, at most 24 of them.
    static func isKeyName(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 24 && key.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    static let idleName = "NOOP"

    /// The action with nothing held: NOOP, or no action (−1).
    public var idleAction: Int { actionNames.firstIndex(of: Self.idleName) ?? -1 }

    /// Whether `key` is bound.
    public func binds(_ key: String) -> Bool { bindings.contains { $0.key == key } }

    /// The action taken while `held` keys are down (oldest press first; unbound keys are ignored).
    public func action(held: [String]) -> Int {
        let bound = held.compactMap { key in bindings.first { $0.key == key }?.action }
        guard let last = bound.last else { return idleAction }
        var wanted = Set<String>()
        for name in bound { wanted.formUnion(name.split(separator: "+").map(String.init)) }
        if wanted.count > 1, let joined = actionNames.firstIndex(where: { Set($0.split(separator: "+").map(String.init)) == wanted }) {
            return joined
        }
        return actionNames.firstIndex(of: last) ?? idleAction
    }
}

/// A problem with `framecast play`'s settings or a session, in words.
public struct PlayError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
