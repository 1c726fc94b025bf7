import FileOutput
import Foundation
import XCTest

final class AtomicFileTests: XCTestCase {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testWriteReplacesTheDestinationAndLeavesNothingElse() throws {
        let dir = try folder(), path = dir + "/out.bin"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        try AtomicFile.write(Data("new".utf8), to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.bin"])
    }

    func testAnUncommittedFileIsRemovedAndTheDestinationKept() throws {
        let dir = try folder(), path = dir + "/out.bin"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        var temporary = ""
        do {
            let file = try AtomicFile(path)
            temporary = file.temporaryPath
            XCTAssertTrue(temporary.hasPrefix(dir + "/.out.bin.partial-\(getpid())-"), temporary)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: temporary))
        }   // released without commit
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary))
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old")
        // Two files for one destination get different temporary paths; commit twice is an error.
        let (a, b) = (try AtomicFile(path), try AtomicFile(path))
        XCTAssertNotEqual(a.temporaryPath, b.temporaryPath)
        try Data("a".utf8).write(to: URL(fileURLWithPath: a.temporaryPath))
        try a.commit()
        XCTAssertThrowsError(try a.commit()) { XCTAssertTrue("\($0)".contains("already committed"), "\($0)") }
        b.discard()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.bin"])
    }

    func testTemporariesOfProcessesThatNoLongerRunAreRemovedAtTheNextWrite() throws {
        let dir = try folder(), path = dir + "/out.bin"
        // A process that has ended: its pid names a stale temporary (as after a kill -9).
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let stale = dir + "/.out.bin.partial-\(ended.processIdentifier)-1"
        let older = dir + "/.out.bin.partial-\(ended.processIdentifier)"        // the naming before the counter
        let running = dir + "/.out.bin.partial-1-1"                             // pid 1 runs: kept
        let other = dir + "/.other.bin.partial-\(ended.processIdentifier)-1"   // another destination's: kept
        for path in [stale, older, running, other] { try Data("x".utf8).write(to: URL(fileURLWithPath: path)) }
        try AtomicFile.write(Data("new".utf8), to: path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       [".other.bin.partial-\(ended.processIdentifier)-1", ".out.bin.partial-1-1", "out.bin"])
    }

    func testAMissingFolderIsNamed() throws {
        let dir = try folder()
        XCTAssertThrowsError(try AtomicFile.write(Data(), to: dir + "/nope/out.bin")) {
            XCTAssertTrue("\($0)".contains(dir + "/nope") && "\($0)".contains("does not exist"), "\($0)")
        }
    }
}
