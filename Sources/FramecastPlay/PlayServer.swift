import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// `framecast play`'s web server: serves its own page, and one game per WebSocket (`/play`) up
/// to `maxSessions`, each stepped at the clip's fps on its own thread.
///
/// WebSocket protocol. Page → server, text JSON of at most `maxMessageBytes`:
/// `{"type":"keys","held":["ArrowUp"],"seq":7}`, `{"type":"pause","on":true}`, `{"type":"restart"}`,
/// `{"type":"temperature","value":0.8}`, `{"type":"record"}`; anything else is ignored and counted.
/// Server → page: text JSON (`hello`, `busy`, `recording`, `status`) and binary pictures, each a
/// 16-byte little-endian header (`PlayPacket`) followed by RGB bytes.
/// A page that reads slowly gets the newest frame, never a queue: older unsent frames are dropped
/// (and counted).
public final class PlayServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0: any free port (`run` reports the one bound).
        public var port = 8080
        public var maxSessions = 2
        /// The server library's log level (its messages go to stderr).
        public var logLevel = Logger.Level.warning
        public init() {}
    }

    /// Text messages longer than this are ignored (and counted).
    public static let maxMessageBytes = 4096
    /// Larger WebSocket frames close that connection (the others play on).
    static let maxFrameBytes = 1 << 18
    /// SO_SNDBUF of a game's socket (about 5 frames of 64×64).
    static let sendBufferBytes: ChannelOptions.Types.SocketOption.Value = 1 << 16

    public let world: PlayWorld
    public let configuration: Configuration
    let counters = PlayCounters()
    let recordings = RecordingStore()

    public init(world: PlayWorld, configuration: Configuration) {
        self.world = world
        self.configuration = configuration
    }

    /// Serves until the process gets SIGINT or SIGTERM (or the task is cancelled).
    /// - Parameter ready: called with the bound port once the server listens.
    public func run(ready: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router()
        router.get("/") { _, _ in Self.response(PlayPage.html, type: "text/html; charset=utf-8") }
        router.get("/stats") { [counters, configuration] _, _ in
            Self.response(counters.json(maxSessions: configuration.maxSessions), type: "application/json")
        }
        router.get("/recordings/{file}") { [recordings] _, context in
            guard let file = context.parameters.get("file"), let (data, type) = recordings.file(named: file) else {
                throw HTTPError(.notFound, message: "no such recording")
            }
            return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"\(file)\""],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        var logger = Logger(label: "framecast.play")
        logger.logLevel = configuration.logLevel
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(ws: WebSocketServerConfiguration(maxFrameSize: Self.maxFrameBytes))) { [self] request, channel, _ in
                guard request.path == "/play" else { return .dontUpgrade }
                // A small kernel send buffer: a page that reads slowly backs up within a few frames,
                // so it is sent the newest frame instead of seconds-old ones (and the rest are dropped).
                try await channel.setOption(ChannelOptions.socketOption(.so_sndbuf), value: Self.sendBufferBytes).get()
                return .upgrade([:]) { inbound, outbound, _ in
                    try await self.play(inbound: inbound, outbound: outbound)
                }
            },
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "framecast"),
            onServerRunning: { channel in ready(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        try await app.runService()
    }

    static func response(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-store"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// One tab's game, from the upgrade to the socket's close.
    func play(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        guard let id = counters.claim(max: configuration.maxSessions) else {
            let message = "framecast play is serving as many games as it can (\(configuration.maxSessions), --max-sessions); close another tab or try again later"
            try await outbound.write(.text(Self.json(["type": "busy", "message": message])))
            try await outbound.close(.policyViolation, reason: "busy")
            return
        }
        defer { counters.release() }
        let thread = PlayThread(label: "framecast.play.\(id)")
        let world = self.world
        let session = try await thread.run { try PlaySession(world: world, seed: world.sampling.seed &+ UInt64(id)) }
        let game = PlayGame(session: session, thread: thread, counters: counters, recordings: recordings)
        try await outbound.write(.text(Self.json(hello(id: id))))
        try await outbound.write(.binary(PlayPacket.context(try await game.thread.run { try session.contextPictures })))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await game.loop() }
            group.addTask { try await game.send(game.frames.stream, to: outbound) }
            group.addTask { try await game.send(game.control.stream, to: outbound) }
            group.addTask { try await game.status() }
            defer { group.cancelAll() }
            for try await message in inbound.messages(maxSize: Self.maxFrameBytes) {
                await game.handle(message)
            }
        }
        FileHandle.standardError.write(Data("play: game \(id) ended after \(game.session.played) frames (\(game.dropped) dropped, \(game.ignored) messages ignored)\n".utf8))
    }

    private func hello(id: Int) -> [String: Any] {
        let w = world
        return ["type": "hello", "session": id, "actions": w.actionNames, "idle": w.keys.idleAction,
                "keys": w.keys.bindings.map { ["key": $0.key, "action": $0.action] },
                "fps": w.fps, "width": w.frameWidth, "height": w.frameHeight, "context": w.contextFrames,
                "clip": URL(fileURLWithPath: w.clipPath).lastPathComponent, "start": w.start, "temperature": w.sampling.temperature]
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// A picture message: a 16-byte little-endian header, then `count` RGB pictures.
/// Header: kind (u8: 0 a predicted frame, 1 the context), count (u8), action (i16, −1 none),
/// frame number since the start (u32), the page's keys sequence number it applied (u32), the
/// server's milliseconds to make it ×10 (u32).
enum PlayPacket {
    static func frame(_ picture: [UInt8], action: Int, index: Int, keys: UInt32, tenthsOfMilliseconds: UInt32) -> ByteBuffer {
        make(kind: 0, pictures: [picture], action: action, index: index, keys: keys, cost: tenthsOfMilliseconds)
    }

    static func context(_ pictures: [[UInt8]]) -> ByteBuffer {
        make(kind: 1, pictures: pictures, action: -1, index: 0, keys: 0, cost: 0)
    }

    private static func make(kind: UInt8, pictures: [[UInt8]], action: Int, index: Int, keys: UInt32, cost: UInt32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(16 + pictures.reduce(0) { $0 + $1.count })
        buffer.writeInteger(kind)
        buffer.writeInteger(UInt8(pictures.count))
        buffer.writeInteger(Int16(action), endianness: .little)
        buffer.writeInteger(UInt32(index), endianness: .little)
        buffer.writeInteger(keys, endianness: .little)
        buffer.writeInteger(cost, endianness: .little)
        for picture in pictures { buffer.writeBytes(picture) }
        return buffer
    }
}
