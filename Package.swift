// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "framecast",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "CodeFile", targets: ["CodeFile"]),
    ],
    targets: [
        // The safetensors container: a JSON header plus raw little-endian tensor bytes.
        .target(name: "SafeTensors"),
        // The code-file format for a tokenized clip; must not depend on libtorch.
        .target(name: "CodeFile", dependencies: ["SafeTensors"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "CodeFileTests", dependencies: ["CodeFile", "SafeTensors"]),
    ]
)
