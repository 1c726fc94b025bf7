// swift-tools-version:6.0
// A program that uses framecast as a library: it depends on FramecastKit by path and drives
// `Predictor` with no command line. From the repository root:
//   swift run --package-path Examples/PredictorExample PredictorExample
import PackageDescription

let package = Package(
    name: "PredictorExample",
    dependencies: [.package(name: "framecast", path: "../..")],
    targets: [
        .executableTarget(name: "PredictorExample", dependencies: [.product(name: "FramecastKit", package: "framecast")]),
    ]
)
