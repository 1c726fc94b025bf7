// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "framecast",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "framecast", targets: ["framecast"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // FFmpeg's C libraries (libavformat, libavcodec, libavutil, libswscale) with a macro shim.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        // Video decode/encode and the action sidecar; knows nothing about models.
        .target(name: "Media", dependencies: ["CFFmpeg"]),
        // The safetensors container: a JSON header plus raw little-endian tensor bytes.
        .target(name: "SafeTensors"),
        // The code-file format for a tokenized clip; must not depend on libtorch.
        .target(name: "CodeFile", dependencies: ["SafeTensors"]),
        // Image quality metrics (PSNR, SSIM) on 8-bit RGB; no dependencies.
        .target(name: "Metrics"),
        // The command-line tool.
        .executableTarget(
            name: "framecast",
            dependencies: [
                "Media",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets: synthetic clips made in-test, paths, process runner.
        .target(name: "TestSupport", dependencies: ["Media", "Metrics"], path: "Tests/TestSupport"),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "CodeFileTests", dependencies: ["CodeFile", "SafeTensors"]),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "Metrics", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["framecast", "Media", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
