// Deterministic JSON text for the fixed shape of a safetensors header.

/// `string` as a JSON string literal: quotes, backslashes and control characters escaped,
/// everything else written as UTF-8.
func jsonStringLiteral(_ string: String) -> String {
    var out = "\""
    for scalar in string.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}

/// The JSON object text for one tensor's header entry, fields in the fixed order
/// `dtype`, `shape`, `data_offsets`.
func jsonTensorEntry(dtype: DType, shape: [Int], begin: Int, end: Int) -> String {
    let dims = shape.map(String.init).joined(separator: ",")
    return "{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(dims)],\"data_offsets\":[\(begin),\(end)]}"
}

/// The JSON object text for string metadata, keys sorted by UTF-8 bytes.
func jsonStringObject(_ dictionary: [String: String]) -> String {
    let members = dictionary.keys.sorted(by: utf8Less).map { key in
        jsonStringLiteral(key) + ":" + jsonStringLiteral(dictionary[key]!)
    }
    return "{" + members.joined(separator: ",") + "}"
}

/// Byte-wise ordering of the UTF-8 encodings, independent of locale and Unicode normalization.
func utf8Less(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}
