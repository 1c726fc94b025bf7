import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking WebSocket client over a POSIX socket, for tests that need what a library
/// client hides: sending malformed or oversized frames, and a client that stops reading.
final class RawWebSocket {
    enum Message: Equatable {
        case text(String)
        case binary([UInt8])
        case close
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    private let fd: Int32

    /// Connects to 127.0.0.1:`port` and upgrades `path`.
    /// - Parameter receiveBuffer: SO_RCVBUF in bytes (small: a client whose socket fills at once).
    init(port: Int, path: String = "/play", receiveBuffer: Int32? = nil, timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw Failure(description: "connect: \(errno)") }
        try writeAll(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        var response: [UInt8] = []
        while !response.suffix(4).elementsEqual([13, 10, 13, 10]) { response += try read(1) }
        let status = String(decoding: response, as: UTF8.self)
        guard status.hasPrefix("HTTP/1.1 101") else { close(fd); throw Failure(description: "no upgrade: \(status)") }
    }

    deinit { close(fd) }

    /// Sends one frame (masked, as a client must).
    func send(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        switch payload.count {
        case ..<126: frame.append(0x80 | UInt8(payload.count))
        case ..<65536: frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 255)]
        default: frame.append(0x80 | 127); frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 255) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try writeAll(frame)
    }

    func send(text: String) throws { try send(opcode: 1, Array(text.utf8)) }

    /// The next text, binary or close message (pings are skipped).
    func receive() throws -> Message {
        while true {
            let head = try read(2)
            let opcode = head[0] & 0x0F
            var length = Int(head[1] & 0x7F)
            if length == 126 { length = try read(2).reduce(0) { $0 << 8 | Int($1) } }
            if length == 127 { length = try read(8).reduce(0) { $0 << 8 | Int($1) } }
            let payload = length > 0 ? try read(length) : []
            switch opcode {
            case 1: return .text(String(decoding: payload, as: UTF8.self))
            case 2: return .binary(payload)
            case 8: return .close
            default: continue
            }
        }
    }

    /// The next text message of JSON type `type` (others are skipped), as a dictionary.
    func receive(type: String, within seconds: Double = 10) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if case .text(let text) = try receive(),
               let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], object["type"] as? String == type {
                return object
            }
        }
        throw Failure(description: "no '\(type)' message within \(seconds) s")
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: \(errno)") }
            offset += n
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: \(errno)") }
            offset += n
        }
        return out
    }
}
