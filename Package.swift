// swift-tools-version:6.0
// Numerics foundation for framecast (branch `torch`): to be merged by hand into the main manifest.
import PackageDescription

let torchLinker: [LinkerSetting] = [
    .linkedLibrary("torch"),
    .linkedLibrary("torch_cpu"),
    .linkedLibrary("c10"),
    // No dev symlinks for these; blas_onednn.cpp calls dnnl_sgemm and omp_* directly.
    .unsafeFlags(["-L/usr/lib/x86_64-linux-gnu", "-l:libdnnl.so.2", "-l:libgomp.so.1"]),
]

let package = Package(
    name: "framecast",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NN", targets: ["NN"]),
    ],
    targets: [
        // Plain C API over libtorch (ATen) ops: tensors, math, conv, norms, losses, autograd,
        // fused optimizer step, threads. No models, no training loops.
        .target(
            name: "CTorch",
            cxxSettings: [
                .unsafeFlags(["-isystem", "/usr/include/torch/csrc/api/include", "-Wno-deprecated-declarations"]),
            ],
            linkerSettings: torchLinker
        ),
        // Swift Tensor wrapper, modules, optimizers.
        .target(name: "NN", dependencies: ["CTorch"]),
        // Throughput / thread-contention benchmark: `swift run -c release NNBench`.
        .executableTarget(name: "NNBench", dependencies: ["NN"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
