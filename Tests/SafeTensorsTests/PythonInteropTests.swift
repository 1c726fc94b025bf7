import Foundation
import XCTest
@testable import SafeTensors

/// Checks the format against an independent numpy implementation of safetensors.
final class PythonInteropTests: XCTestCase {
    /// A minimal numpy safetensors reader: prints {name: {dtype, shape, values}, "__metadata__": {...}} as JSON.
    private static let reader = #"""
    import json, struct, sys
    import numpy as np
    NP = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "U16": "<u2", "U32": "<u4", "BOOL": "?"}
    with open(sys.argv[1], "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    assert (8 + n) % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    buf = blob[8 + n:]
    out = {"__metadata__": header.pop("__metadata__", {})}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = buf[begin:end]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
        else:
            arr = np.frombuffer(raw, NP[info["dtype"]])
        arr = arr.reshape(info["shape"])
        out[name] = {"dtype": info["dtype"], "shape": list(arr.shape), "values": arr.astype(np.float64).ravel().tolist()}
    print(json.dumps(out))
    """#

    /// A minimal numpy safetensors writer (unsorted keys, Python's own ordering and padding).
    private static let writer = #"""
    import json, struct, sys
    import numpy as np
    tensors = {
        "weight": np.arange(12, dtype="<f4").reshape(3, 4) / 8 - 0.5,
        "half": np.array([0.5, -1.25, 1000.0], dtype="<f2"),
        "codes": np.array([[0, 7], [511, 65535]], dtype="<u2"),
        "actions": np.array([-1, 3, 2], dtype="<i4"),
        "episode_start": np.array([1, 0, 0], dtype="u1"),
        "scalar": np.array(42, dtype="<i8"),
        "nothing": np.zeros((0, 5), dtype="<f4"),
    }
    DT = {"float32": "F32", "float16": "F16", "uint16": "U16", "int32": "I32", "uint8": "U8", "int64": "I64"}
    header, chunks, offset = {}, [], 0
    for name, arr in tensors.items():
        raw = arr.tobytes()
        header[name] = {"dtype": DT[str(arr.dtype)], "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt", "by": "numpy"}
    text = json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
    """#

    func testNumpyReadsWhatSwiftWrites() throws {
        try requireNumpy()
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("swift.safetensors")
        let weights: [Float] = (0..<6).map { Float($0) / 3 - 1 }
        try SafeTensorsFile(
            entries: [
                try TensorEntry(name: "layer.weight", floats: weights, shape: [2, 3]),
                try TensorEntry(name: "layer.half", floats: [0.1, -7.5], shape: [2], storedAs: .f16),
                try TensorEntry(name: "layer.bf16", floats: [1.5, -0.75], shape: [2], storedAs: .bf16),
                try TensorEntry(name: "codes", uint16s: [3, 65535, 0, 9], shape: [1, 2, 2]),
                try TensorEntry(name: "actions", int32s: [-1, 2], shape: [2]),
                try TensorEntry(name: "scalar", int64s: [-5], shape: []),
                try TensorEntry(name: "empty", uint8s: [], shape: [0, 4]),
            ],
            metadata: ["fps": "29.97", "names": "[\"NOOP\"]"]
        ).write(to: url)

        let json = try runPython(PythonInteropTests.reader, [url.path], in: directory)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        func tensor(_ name: String) throws -> (dtype: String, shape: [Int], values: [Double]) {
            let info = try XCTUnwrap(parsed[name] as? [String: Any], "numpy did not see \(name)")
            return (try XCTUnwrap(info["dtype"] as? String), try XCTUnwrap(info["shape"] as? [Int]),
                    try XCTUnwrap(info["values"] as? [Double]))
        }
        XCTAssertEqual(parsed["__metadata__"] as? [String: String], ["fps": "29.97", "names": "[\"NOOP\"]"])
        let weight = try tensor("layer.weight")
        XCTAssertEqual(weight.shape, [2, 3])
        // Compared as Float: Foundation's JSON number parsing may be off in the last bit of a Double.
        XCTAssertEqual(weight.values.map { Float($0) }, weights)
        XCTAssertEqual(try tensor("layer.half").values.map { Float($0) }, [Float(Float16(0.1)), -7.5])
        XCTAssertEqual(try tensor("layer.bf16").values, [1.5, -0.75])
        XCTAssertEqual(try tensor("codes").shape, [1, 2, 2])
        XCTAssertEqual(try tensor("codes").values, [3, 65535, 0, 9])
        XCTAssertEqual(try tensor("actions").values, [-1, 2])
        XCTAssertEqual(try tensor("scalar").shape, [])
        XCTAssertEqual(try tensor("scalar").values, [-5])
        XCTAssertEqual(try tensor("empty").shape, [0, 4])
    }

    func testSwiftReadsWhatNumpyWrites() throws {
        try requireNumpy()
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("numpy.safetensors")
        _ = try runPython(PythonInteropTests.writer, [url.path], in: directory)

        let file = try SafeTensorsFile.read(from: url)
        XCTAssertEqual(file.metadata, ["format": "pt", "by": "numpy"])
        XCTAssertEqual(file.entries.map(\.name), ["weight", "half", "codes", "actions", "episode_start", "scalar", "nothing"])
        XCTAssertEqual(file["weight"]?.shape, [3, 4])
        XCTAssertEqual(try file["weight"]?.floats(), (0..<12).map { Float($0) / 8 - 0.5 })
        XCTAssertEqual(try file["half"]?.floats(), [0.5, -1.25, 1000])
        XCTAssertEqual(try file["codes"]?.uint16s(), [0, 7, 511, 65535])
        XCTAssertEqual(try file["actions"]?.int32s(), [-1, 3, 2])
        XCTAssertEqual(try file["episode_start"]?.uint8s(), [1, 0, 0])
        XCTAssertEqual(file["scalar"]?.shape, [])
        XCTAssertEqual(try file["scalar"]?.int64s(), [42])
        XCTAssertEqual(file["nothing"]?.shape, [0, 5])
    }

    /// Runs `python3 script args`, returning stdout; fails the test on a non-zero exit.
    private func runPython(_ script: String, _ arguments: [String], in directory: URL) throws -> Data {
        let scriptURL = directory.appendingPathComponent("script-\(UUID().uuidString).py")
        try script.write(to: scriptURL, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let stdout = output.fileHandleForReading.readDataToEndOfFile()
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailure(status: process.terminationStatus, stderr: String(decoding: stderr, as: UTF8.self))
        }
        return stdout
    }

    private func requireNumpy() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            throw XCTSkip("python3 is not on PATH; skipping the numpy interop check")
        }
        guard process.terminationStatus == 0 else {
            throw XCTSkip("python3 cannot import numpy; skipping the numpy interop check")
        }
    }
}

/// A python3 helper exited with an error.
struct PythonFailure: Error, CustomStringConvertible {
    let status: Int32
    let stderr: String
    var description: String { "python3 exited with status \(status): \(stderr)" }
}
