import Foundation
import XCTest
@testable import SafeTensors

final class AtomicWriteTests: XCTestCase {
    private func smallFile() throws -> SafeTensorsFile {
        SafeTensorsFile(entries: [try TensorEntry(name: "w", floats: [1, 2], shape: [2])])
    }

    func testMissingDirectoryFailsWithoutCreatingAnything() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("no-such-dir/out.safetensors")
        assertSafeTensorsError(try smallFile().write(to: url), mentions: [url.path, "cannot write"])
        XCTAssertEqual(try fileNames(in: directory), [])
    }

    func testAFolderAsTheDestinationIsRefusedAndKept() throws {
        // The destination is a non-empty directory: refused before anything is written.
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("out.safetensors")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: url.appendingPathComponent("inside"))

        assertSafeTensorsError(try smallFile().write(to: url), mentions: [url.path, "it is a folder"])
        XCTAssertEqual(try fileNames(in: directory), ["out.safetensors"], "temporary file was removed")
        XCTAssertEqual(try Data(contentsOf: url.appendingPathComponent("inside")), Data("keep".utf8))
    }

    func testEncodingFailureLeavesExistingFileUnchanged() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("out.safetensors")
        try smallFile().write(to: url)
        let before = try Data(contentsOf: url)

        let entry = try TensorEntry(name: "dup", uint8s: [1], shape: [1])
        assertSafeTensorsError(try SafeTensorsFile(entries: [entry, entry]).write(to: url), mentions: [url.path, "duplicate"])
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try fileNames(in: directory), ["out.safetensors"])
    }

    func testUnwritableDirectoryFailsCleanlyWhenPermissionsApply() throws {
        try XCTSkipIf(geteuid() == 0, "running as root: directory permissions do not stop writes")
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("out.safetensors")
        try smallFile().write(to: url)
        let before = try Data(contentsOf: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path) }

        let other = SafeTensorsFile(entries: [try TensorEntry(name: "other", uint8s: [7], shape: [1])])
        assertSafeTensorsError(try other.write(to: url), mentions: [url.path, "temporary file"])
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try fileNames(in: directory), ["out.safetensors"])
    }
}
