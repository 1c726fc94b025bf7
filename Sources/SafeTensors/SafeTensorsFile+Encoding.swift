import Foundation

extension SafeTensorsFile {
    /// The file's bytes, deterministic for a given value (see the type's documentation).
    /// - Throws: `SafeTensorsError` for duplicate or reserved tensor names.
    public func data() throws -> Data {
        var seen = Set<String>()
        var headerMembers: [(key: String, json: String)] = []
        var offset = 0
        for entry in entries {
            guard !entry.name.isEmpty, entry.name != "__metadata__" else {
                throw SafeTensorsError(file: nil, problem: .reservedName(name: entry.name))
            }
            guard seen.insert(entry.name).inserted else {
                throw SafeTensorsError(file: nil, problem: .duplicateTensor(name: entry.name))
            }
            let end = offset + entry.bytes.count
            headerMembers.append((entry.name, jsonTensorEntry(dtype: entry.dtype, shape: entry.shape, begin: offset, end: end)))
            offset = end
        }
        if !metadata.isEmpty {
            headerMembers.append(("__metadata__", jsonStringObject(metadata)))
        }
        headerMembers.sort { utf8Less($0.key, $1.key) }
        var header = Array(("{" + headerMembers.map { jsonStringLiteral($0.key) + ":" + $0.json }.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 {
            header.append(UInt8(ascii: " "))
        }

        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for entry in entries {
            out.append(contentsOf: entry.bytes)
        }
        return out
    }
}
