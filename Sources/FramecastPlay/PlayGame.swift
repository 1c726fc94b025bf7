import Foundation
import HummingbirdWebSocket
import NIOCore

/// One connected tab: the tick loop at the world's fps, the page's messages, and two outgoing
/// streams — frames (only the newest unsent one is kept) and control messages (few, all sent).
final class PlayGame: @unchecked Sendable {
    let session: PlaySession
    let thread: PlayThread
    private let counters: PlayCounters
    private let recordings: RecordingStore
    let frames = AsyncStream<PlayOutgoing>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let control = AsyncStream<PlayOutgoing>.makeStream(bufferingPolicy: .unbounded)
    private let lock = NSLock()
    private var droppedCount = 0, ignoredCount = 0
    var dropped: Int { lock.withLock { droppedCount } }
    var ignored: Int { lock.withLock { ignoredCount } }

    init(session: PlaySession, thread: PlayThread, counters: PlayCounters, recordings: RecordingStore) {
        (self.session, self.thread, self.counters, self.recordings) = (session, thread, counters, recordings)
    }

    /// Steps the game at the world's fps until cancelled. A tick that runs late starts the next at
    /// once but never bursts to catch up.
    func loop() async throws {
        let interval = Duration.seconds(1 / session.world.fps)
        var deadline = ContinuousClock.now
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let tick = try await thread.run { try self.session.tick() }
            switch tick {
            case .restarted(let pictures):
                control.continuation.yield(.binary(PlayPacket.context(pictures)))
            case .frame(let picture, let action, let index, let keys):
                let cost = started.duration(to: .now).components
                let tenths = UInt32(clamping: cost.seconds * 10_000 + cost.attoseconds / 100_000_000_000_000)
                counters.frameMade()
                if case .dropped = frames.continuation.yield(.binary(PlayPacket.frame(picture, action: action, index: index, keys: keys,
                                                                                        tenthsOfMilliseconds: tenths))) {
                    lock.withLock { droppedCount += 1 }
                    counters.frameDropped()
                }
            case .paused:
                break
            }
            deadline += interval
            let now = ContinuousClock.now
            if deadline < now - interval { deadline = now }
            try await Task.sleep(until: deadline, clock: .continuous)
        }
    }

    /// Writes what `stream` yields to the socket until cancelled or the socket fails.
    func send(_ stream: AsyncStream<PlayOutgoing>, to outbound: WebSocketOutboundWriter) async throws {
        for await message in stream {
            switch message {
            case .binary(let buffer): try await outbound.write(.binary(buffer))
            case .text(let text): try await outbound.write(.text(text))
            }
        }
    }

    /// Once a second, the game's figures for the page.
    func status() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .seconds(1))
            control.continuation.yield(.text(PlayServer.json(["type": "status", "played": session.played, "dropped": dropped,
                                                                "ignored": ignored, "paused": session.isPaused])))
        }
    }

    /// Applies one message from the page; anything malformed, unknown or oversized is ignored and counted.
    func handle(_ message: WebSocketMessage) async {
        guard case .text(let text) = message, text.utf8.count <= PlayServer.maxMessageBytes,
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let type = object["type"] as? String else { return ignore() }
        switch type {
        case "keys":
            guard let held = object["held"] as? [String], held.count <= 16, held.allSatisfy(PlayKeys.isKeyName),
                  let seq = (object["seq"] as? NSNumber)?.int64Value, (0...Int64(UInt32.max)).contains(seq) else { return ignore() }
            let unbound = session.setHeld(held, sequence: UInt32(seq))
            if unbound > 0 { ignore(unbound) }
        case "pause":
            guard let on = object["on"] as? Bool else { return ignore() }
            session.setPaused(on)
        case "restart":
            session.restart()
        case "temperature":
            guard let value = (object["value"] as? NSNumber)?.doubleValue, value.isFinite, (0...2).contains(value) else { return ignore() }
            session.setTemperature(value)
        case "record":
            do {
                let (mp4, csv, count) = try await thread.run { try self.session.recording() }
                let token = recordings.add(mp4: mp4, csv: csv)
                control.continuation.yield(.text(PlayServer.json(["type": "recording", "frames": count, "mp4": "/recordings/\(token).mp4",
                                                                    "actions": "/recordings/\(token).actions.csv"])))
            } catch {
                control.continuation.yield(.text(PlayServer.json(["type": "error", "message": "recording failed: \(error)"])))
            }
        default:
            ignore()
        }
    }

    private func ignore(_ count: Int = 1) {
        lock.withLock { ignoredCount += count }
        counters.messagesIgnored(count)
    }
}

/// A message for the socket.
enum PlayOutgoing: Sendable {
    case binary(ByteBuffer)
    case text(String)
}

/// A serial thread of work for one game: the model runs here, never on Swift's cooperative
/// threads (which also serve the sockets).
final class PlayThread: Sendable {
    private let queue: DispatchQueue
    init(label: String) { queue = DispatchQueue(label: label) }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// The server's figures (served at /stats) and its game slots.
final class PlayCounters: @unchecked Sendable {
    private let lock = NSLock()
    private var active = 0, games = 0, made = 0, dropped = 0, ignored = 0, refused = 0

    /// A slot for a new game and its number, or nil when `max` games are running (counted as refused).
    func claim(max: Int) -> Int? {
        lock.withLock {
            guard active < max else { refused += 1; return nil }
            active += 1
            games += 1
            return games
        }
    }

    func release() { lock.withLock { active -= 1 } }
    func frameMade() { lock.withLock { made += 1 } }
    func frameDropped() { lock.withLock { dropped += 1 } }
    /// Frames dropped for clients that read too slowly, in all games so far.
    var framesDropped: Int { lock.withLock { dropped } }
    func messagesIgnored(_ n: Int) { lock.withLock { ignored += n } }

    func json(maxSessions: Int) -> String {
        lock.withLock {
            PlayServer.json(["sessions": active, "max_sessions": maxSessions, "games": games, "frames": made,
                             "frames_dropped": dropped, "messages_ignored": ignored, "refused": refused])
        }
    }
}

/// Finished recordings, in memory, served by token (no request path reaches the file system);
/// the oldest go once there are more than `limit`.
final class RecordingStore: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(token: String, mp4: Data, csv: Data)] = []
    let limit = 16

    func add(mp4: Data, csv: Data) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        lock.withLock {
            entries.append((token, mp4, csv))
            if entries.count > limit { entries.removeFirst(entries.count - limit) }
        }
        return token
    }

    /// `TOKEN.mp4` or `TOKEN.actions.csv`: its bytes and content type.
    func file(named name: String) -> (Data, String)? {
        lock.withLock {
            for entry in entries {
                if name == entry.token + ".mp4" { return (entry.mp4, "video/mp4") }
                if name == entry.token + ".actions.csv" { return (entry.csv, "text/csv") }
            }
            return nil
        }
    }
}
