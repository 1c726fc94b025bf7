// swift-tools-version:6.1
import PackageDescription

// libtorch: Debian's (libtorch-dev, /usr) by default. FRAMECAST_LIBTORCH=DIR builds against another
// one instead, such as the C++ libtorch inside PyPI's torch wheel (DIR = the `torch` package folder,
// `python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))'`): its headers, its
// libraries by full path (plain -l would find Debian's first) with an rpath, and C++20, which its
// headers need. Use another --scratch-path for it: the two builds must not share object files.
let libtorch = Context.environment["FRAMECAST_LIBTORCH"]
let torchIncludes = libtorch.map { ["-isystem", $0 + "/include", "-isystem", $0 + "/include/torch/csrc/api/include"] }
    ?? ["-isystem", "/usr/include/torch/csrc/api/include"]
let torchLinker: [LinkerSetting] = (libtorch.map { dir -> [LinkerSetting] in
    [.unsafeFlags(["\(dir)/lib/libtorch.so", "\(dir)/lib/libtorch_cpu.so", "\(dir)/lib/libc10.so",
                   "-Xlinker", "-rpath", "-Xlinker", "\(dir)/lib"])]
} ?? [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")]) + [
    // blas_onednn.cpp finds oneDNN's and libgomp's functions at run time in what libtorch loads.
    .linkedLibrary("dl"),
]

// The prior's Swift decoding kernels (SIMD16<Float>) and CTorch's attention loops are compiled
// for x86-64-v3 (AVX2 + FMA, every x86-64 CPU since 2013-2015): without a target that has FMA,
// vector FMAs become libm calls. The binaries run on any such CPU (framecast checks at start-up
// and says so where the CPU lacks it). FRAMECAST_MARCH=native builds for the building CPU instead
// (AVX-512 tiles where it has them; measured within noise to 7% faster on an AVX-512 Xeon).
#if arch(x86_64)
let vectorTarget = Context.environment["FRAMECAST_MARCH"] ?? "x86-64-v3"
let hostVectorFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=" + vectorTarget])]
// Without AVX-512 the compiler notes that passing attention.cpp's 64-byte vectors by value would
// change a function's ABI; they are file-internal helpers that never cross a library boundary,
// so the note is silenced.
let hostCxxFlags = ["-march=" + vectorTarget, "-Wno-psabi"]
#else
let hostVectorFlags: [SwiftSetting] = []
let hostCxxFlags: [String] = []
#endif

let package = Package(
    name: "framecast",
        products: [
        .executable(name: "framecast", targets: ["framecast"]),
        // The product as a library: VideoTokenizer, Predictor (reset / step / rollout), evaluation,
        // training runs, Recipe. Examples/PredictorExample depends on it by path.
        .library(name: "FramecastKit", targets: ["FramecastKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // framecast play's web server: HTTP and WebSocket on SwiftNIO (default traits off: no swift-configuration).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.0"),
    ],
    targets: [
        // FFmpeg's C libraries (libavformat, libavcodec, libavutil, libswscale) with a macro shim.
        .systemLibrary(
            name: "CFFmpeg",
            pkgConfig: "libavformat libavcodec libavutil libswscale",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev"])]
        ),
        // Atomic outputs: temporary file beside the destination, fsync, rename; one type for every writer.
        .target(name: "FileOutput"),
        // Video decode/encode and the action sidecar; knows nothing about models.
        .target(name: "Media", dependencies: ["CFFmpeg", "FileOutput"]),
        // The safetensors container: a JSON header plus raw little-endian tensor bytes.
        .target(name: "SafeTensors", dependencies: ["FileOutput"]),
        // The code-file format for a tokenized clip; must not depend on libtorch.
        .target(name: "CodeFile", dependencies: ["SafeTensors"]),
        // Plain C API over libtorch (ATen) ops: tensors, math, conv, norms, losses, autograd,
        // fused optimizer step, threads. No models, no training loops.
        .target(
            name: "CTorch",
            cxxSettings: [
                .unsafeFlags(torchIncludes + ["-Wno-deprecated-declarations"]),
                // c10d's Gloo process group (distributed.cpp); gloo's headers come from libgloo-dev.
                .define("USE_C10D_GLOO"),
                .unsafeFlags(hostCxxFlags),
            ],
            linkerSettings: torchLinker
        ),
        // Swift Tensor wrapper, modules, optimizers, safetensors checkpoints.
        .target(name: "NN", dependencies: ["CTorch", "SafeTensors"]),
        // The per-frame VQ-VAE tokenizer: model, training, metrics.
        .target(name: "VQVAE", dependencies: ["NN", "FrameMetrics", "SafeTensors"]),
        // The action-conditioned transformer prior over code grids: model, training, sampling.
        // The build target's vector register count, for the Swift decoder's tile shapes.
        .target(name: "CHostCPU"),
        // Optimised in debug builds too: unoptimised SIMD code makes the Swift decoder ~100x slower, and the
        // tests sample the shipped model.
        .target(name: "Prior", dependencies: ["NN", "CodeFile", "SafeTensors", "CHostCPU"],
                swiftSettings: hostVectorFlags + [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        // Throughput / thread-contention benchmark: `swift run -c release NNBench`.
        .executableTarget(name: "NNBench", dependencies: ["NN"]),
        // Image quality metrics (PSNR, SSIM) on 8-bit RGB; no dependencies.
        .target(name: "FrameMetrics"),
        // An executable's load-time hook: OMP_WAIT_POLICY=PASSIVE for libgomp without a re-exec.
        .target(name: "CProcessStart"),
        // The product as a library: video ⇄ code clips, the checked tokenizer + prior pair as an
        // environment (Predictor), rollout evaluation, the shared training-run loop, the recipe, reports.
        .target(name: "FramecastKit", dependencies: ["FileOutput", "Media", "CodeFile", "NN", "VQVAE", "Prior", "FrameMetrics", "SafeTensors"]),
        // framecast play: the predictor as a game in the browser (a local Hummingbird server, one
        // session per tab, frames over a WebSocket at the clip's fps).
        .target(name: "FramecastPlay", dependencies: [
            "FramecastKit", "Media", "CodeFile",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
        ]),
        // The command-line tool: one small file per command (parse → recipe overrides → FramecastKit → print).
        .executableTarget(
            name: "framecast",
            dependencies: [
                "CHostCPU",
                "CProcessStart",
                "FileOutput",
                "FramecastKit",
                "FramecastPlay",
                "Media",
                "CodeFile",
                "NN",
                "VQVAE",
                "Prior",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets: synthetic clips made in-test, paths, process runner.
        .target(name: "TestSupport", dependencies: ["Media", "FrameMetrics", "NN"], path: "Tests/TestSupport"),
        .testTarget(name: "FileOutputTests", dependencies: ["FileOutput"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        .testTarget(name: "CodeFileTests", dependencies: ["CodeFile", "SafeTensors"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "VQVAETests", dependencies: ["VQVAE", "NN", "FrameMetrics", "TestSupport"]),
        .testTarget(name: "FrameMetricsTests", dependencies: ["FrameMetrics"]),
        .testTarget(name: "PriorTests", dependencies: ["Prior", "NN", "CodeFile", "TestSupport"]),
        .testTarget(name: "MediaTests", dependencies: ["Media", "FrameMetrics", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["framecast", "FramecastKit", "VQVAE", "Media", "NN", "Prior", "CodeFile", "TestSupport"]),
        .testTarget(name: "FramecastPlayTests", dependencies: ["FramecastPlay", "FramecastKit", "TestSupport"]),
        .testTarget(name: "FramecastKitTests", dependencies: ["FramecastKit", "Media", "NN", "Prior", "VQVAE", "SafeTensors", "CodeFile", "TestSupport"]),
        // framecast's tokenizer and prior against the PyTorch reference in Tools/reference (skipped without python3-torch).
        .testTarget(name: "ReferenceTests", dependencies: ["VQVAE", "Prior", "NN", "SafeTensors", "TestSupport"]),
    ],
    cxxLanguageStandard: libtorch == nil ? .cxx17 : .cxx20
)
