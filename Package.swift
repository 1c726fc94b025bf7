// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "framecast",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
    ],
    targets: [
        // The safetensors container: a JSON header plus raw little-endian tensor bytes.
        .target(name: "SafeTensors"),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
    ]
)
