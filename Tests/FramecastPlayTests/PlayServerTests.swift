@testable import FramecastPlay
import Foundation
import TestSupport
import XCTest

/// The server without a browser: its page and nothing else, bad messages, too many games, and a
/// client that stops reading. Each test starts its own server on a free port.
final class PlayServerTests: XCTestCase {
    private var task: Task<Void, any Error>?

    override func tearDown() {
        task?.cancel()
        task = nil
    }

    private final class PortBox: @unchecked Sendable {
        var port = 0
        let ready = DispatchSemaphore(value: 0)
    }

    private func start(maxSessions: Int) throws -> (port: Int, server: PlayServer) {
        var configuration = PlayServer.Configuration()
        (configuration.port, configuration.maxSessions) = (0, maxSessions)
        configuration.logLevel = .critical   // cancelling the server at the end of a test logs shutdown errors
        let server = PlayServer(world: try ShippedWorld.world(), configuration: configuration)
        let box = PortBox()
        task = Task { try await server.run { port in box.port = port; box.ready.signal() } }
        XCTAssertEqual(box.ready.wait(timeout: .now() + 60), .success, "the server did not start")
        return (box.port, server)
    }

    /// GET `path`: status code and body.
    private func get(_ port: Int, _ path: String) throws -> (Int, String) {
        let result = try ProcessRunner.run("/usr/bin/curl", ["-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", "http://127.0.0.1:\(port)\(path)"])
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    /// Reads messages until a predicted frame (kind 0): its action and keys sequence number.
    private func nextFrame(_ client: RawWebSocket) throws -> (action: Int, keys: UInt32) {
        while true {
            if case .binary(let bytes) = try client.receive(), bytes[0] == 0 {
                let action = Int(Int16(bitPattern: UInt16(bytes[2]) | UInt16(bytes[3]) << 8))
                let keys = (8..<12).reduce(UInt32(0)) { $0 | UInt32(bytes[$1]) << (8 * UInt32($1 - 8)) }
                return (action, keys)
            }
        }
    }

    func testItServesItsPageAndNothingElse() throws {
        guard ProcessRunner.which("curl") != nil else { throw XCTSkip("curl is not installed") }
        let (port, _) = try start(maxSessions: 1)
        let (status, page) = try get(port, "/")
        XCTAssertEqual(status, 200)
        XCTAssertTrue(page.contains("<title>framecast play</title>") && !page.contains("http://") && !page.contains("https://"),
                      "its own page, no external URLs")
        for path in ["/Package.swift", "/../Package.swift", "/recordings/..%2F..%2FPackage.swift", "/recordings/0.mp4", "/play"] {
            XCTAssertNotEqual(try get(port, path).0, 200, path)
        }
        let (statsStatus, stats) = try get(port, "/stats")
        XCTAssertEqual(statsStatus, 200)
        XCTAssertTrue(stats.contains("\"max_sessions\":1"), stats)
    }

    func testBadMessagesAreIgnoredAndCountedAndTheGameGoesOn() throws {
        let (port, _) = try start(maxSessions: 1)
        let client = try RawWebSocket(port: port)
        let hello = try client.receive(type: "hello")
        XCTAssertEqual(hello["actions"] as? [String], PlayKeysTests.shipped)
        let bad: [[UInt8]] = [Array("not json".utf8), Array(#"{"type":"keys","held":[],"seq":1,"pad":"\#(String(repeating: "x", count: 10_000))"}"#.utf8),
                              Array(#"{"type":"keys","held":["NoSuchKey"],"seq":2}"#.utf8), Array(#"{"type":"keys","held":["../etc"],"seq":3}"#.utf8),
                              Array(#"{"type":"launch"}"#.utf8), Array(#"{"type":"temperature","value":99}"#.utf8), Array("[1,2]".utf8)]
        for message in bad { try client.send(opcode: 1, message) }
        try client.send(opcode: 2, [1, 2, 3])
        try client.send(text: #"{"type":"keys","held":["ArrowLeft"],"seq":4}"#)
        var frame = try nextFrame(client)
        while frame.keys < 4 { frame = try nextFrame(client) }
        XCTAssertEqual(frame.action, 3, "TURN_LEFT applied after the bad messages")
        var status = try client.receive(type: "status")
        while (status["ignored"] as? Int ?? 0) < 8 { status = try client.receive(type: "status", within: 5) }
        XCTAssertEqual(status["ignored"] as? Int, 8)
    }

    func testGamesBeyondTheLimitAreToldTheServerIsBusyAndAClosedTabFreesItsGame() throws {
        let (port, _) = try start(maxSessions: 2)
        var first: RawWebSocket? = try RawWebSocket(port: port)
        let second = try RawWebSocket(port: port)
        _ = try first?.receive(type: "hello")
        _ = try second.receive(type: "hello")
        let third = try RawWebSocket(port: port)
        let busy = try third.receive(type: "busy")
        XCTAssertTrue((busy["message"] as? String ?? "").contains("--max-sessions"), "\(busy)")
        XCTAssertEqual(try third.receive(), .close)
        first = nil
        withExtendedLifetime(first) {}
        var fourth: [String: Any]?
        for _ in 0..<20 where fourth == nil {   // the server notices the closed socket within moments
            Thread.sleep(forTimeInterval: 0.25)
            let client = try RawWebSocket(port: port)
            if case .text(let text) = try client.receive(), text.contains(#""type":"hello""#) { fourth = ["type": "hello"] }
        }
        XCTAssertNotNil(fourth, "a game was free again after the first tab closed")
        _ = try second.receive(type: "status")
    }

    func testAClientThatStopsReadingDoesNotStallTheOthers() throws {
        let (port, server) = try start(maxSessions: 2)
        let stalled = try RawWebSocket(port: port, receiveBuffer: 2048)
        _ = try stalled.receive(type: "hello")   // then never reads again
        let reader = try RawWebSocket(port: port)
        _ = try reader.receive(type: "hello")
        _ = try nextFrame(reader)
        let started = Date()
        var frames = 0
        while Date().timeIntervalSince(started) < 5 {
            _ = try nextFrame(reader)
            frames += 1
        }
        let fps = Double(frames) / Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(fps, 12, "the reading client's frames/s while the other stalls")
        XCTAssertGreaterThan(server.counters.framesDropped, 0, "the stalled client's frames are dropped, not queued")
        withExtendedLifetime(stalled) {}
    }
}
