import ArgumentParser
import Foundation
import FramecastKit
import FramecastPlay
import NN
import Prior

struct Play: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play the world model in the browser: your keys are the actions, frames are predicted live on the CPU.",
        discussion: """
            Starts a local web server and prints its URL. The page shows the predicted frame (enlarged), the \
            action applied, frames/s and the latency from a key press to the frame it changed, and the real \
            frames the game started from. Each browser tab plays its own game, stepped at the clip's fps, up \
            to --max-sessions (by default as many as the cores sustain at full speed, measured at start-up); \
            more tabs get a "busy" message. Restart, Pause, a temperature slider and Record (an MP4 of the \
            game with the action under each frame, and its NAME.actions.csv) are on the page.

            Keys are browser key codes bound to the prior's action names: arrows and WASD move and turn, \
            Space attacks, Digit1... reach the rest; held together, ArrowUp + ArrowLeft take \
            MOVE_FORWARD+TURN_LEFT where the prior has it. --keys replaces the bindings. With no key held \
            the game takes NOOP (or no action where the prior has no NOOP).

            It listens on 127.0.0.1 only; --host 0.0.0.0 serves the network (with a warning: anyone who \
            reaches the port can play). Ctrl-C stops it.

            Examples:
              framecast play
              framecast play --clip Clips/defend_the_line_s1.mp4 --start 100 --port 9000
              framecast play --keys 'KeyW=MOVE_FORWARD,KeyA=TURN_LEFT,KeyD=TURN_RIGHT,KeyJ=ATTACK'
            """
    )

    @Option(help: "Tokenizer checkpoint (default: the shipped model's).")
    var tokenizer = Shipped.modelFolder + "/tokenizer.safetensors"

    @Option(help: "Prior checkpoint (default: the shipped model's).")
    var prior = Shipped.modelFolder + "/prior.safetensors"

    @Option(help: "Video the real context comes from (with its NAME.actions.csv sidecar).")
    var clip = Shipped.demoClip

    @Option(help: "First context frame in the clip.")
    var start = 60

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Address to listen on; anything but 127.0.0.1 / localhost / ::1 serves other machines.")
    var host = "127.0.0.1"

    @Option(help: "Key bindings KEY=ACTION,... (browser key codes such as ArrowUp, KeyW, Space; replaces the defaults).")
    var keys: String?

    @Option(help: "Games played at once (default: what the cores sustain at the clip's fps, measured at start-up).")
    var maxSessions: Int?

    @Option(help: "Sampling temperature at the start of a game (the page's slider changes it); 0 is greedy.")
    var temperature = Recipe.sampling.temperature

    @Option(help: "Random seed of the first game (each later game adds its number).")
    var seed: UInt64 = 0

    func validate() throws {
        try validateRange(port, 0...65535, "--port")
        try validateRange(start, 0...100_000_000, "--start")
        try validateRange(temperature, 0...2, "--temperature")
        if let maxSessions { try validateRange(maxSessions, 1...64, "--max-sessions") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run() throws {
        Torch.setThreads(1)   // one thread per game: games run side by side on the cores
        var sampling = Recipe.sampling
        (sampling.temperature, sampling.seed) = (temperature, seed)
        let world = try PlayWorld(tokenizer: Shipped.locate(tokenizer), prior: Shipped.locate(prior), clip: Shipped.locate(clip),
                                  start: start, keys: keys, sampling: sampling)
        var configuration = PlayServer.Configuration()
        (configuration.host, configuration.port) = (host, port)
        let perFrame = try world.secondsPerFrame()
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Games that fit in 80% of the cores at the clip's fps.
        let sustained = max(1, Int(0.8 * Double(cores) / (perFrame * world.fps)))
        configuration.maxSessions = maxSessions ?? sustained
        let say = { (line: String) in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        say(String(format: "play: %.1f ms a frame on one thread; %d cores sustain %d game(s) at %g frames/s%@", perFrame * 1000, cores,
                   sustained, world.fps, maxSessions.map { " (--max-sessions \($0))" } ?? ""))
        if !["127.0.0.1", "localhost", "::1"].contains(host) {
            say("play: warning: listening on \(host): anyone who can reach this port can play and use this machine's CPU")
        }
        say("play: keys " + world.keys.bindings.map { "\($0.key)=\($0.action)" }.joined(separator: " "))
        let server = PlayServer(world: world, configuration: configuration)
        let shown = host.contains(":") ? "[\(host)]" : host
        let done = DispatchSemaphore(value: 0)
        let failure = LockedError()
        Task {
            do {
                try await server.run { port in
                    FileHandle.standardOutput.write(Data("framecast play: open http://\(shown):\(port)/ (Ctrl-C stops)\n".utf8))
                }
            } catch {
                failure.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = failure.get() { throw PlayError("cannot serve on \(host):\(port): \(error)") }
    }
}

/// An error handed from the server's task to the command's thread.
private final class LockedError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}
