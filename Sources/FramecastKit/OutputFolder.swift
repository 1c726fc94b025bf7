import Foundation
import Media

/// Makes `path` a folder for outputs (with its parents), or uses it when it already is one.
/// - Throws: `MediaError` naming `path` when it exists and is not a folder, or cannot be made.
package func makeOutputFolder(_ path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
        guard isDirectory.boolValue else { throw MediaError(path, "exists and is not a folder") }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw MediaError(path, "cannot make the folder (\((error as NSError).localizedFailureReason ?? "permission denied or a file in the way"))")
    }
}
