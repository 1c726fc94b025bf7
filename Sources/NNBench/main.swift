// Throughput and thread-contention benchmark for the CTorch/NN stack.
//   swift run -c release NNBench [threads...] [--reexec] [--quick]
// Prints GFLOP/s for conv2d forward+backward, GEMMs (oneDNN path vs the BLAS path), attention
// (fused kernel vs composite ops; dense-equivalent FLOPs, so causal skipping counts as speed),
// and the latency of small ops (where OpenMP spin-waiting hurts most on a shared machine).
import NN
#if canImport(Glibc)
import Glibc
#endif

let args = Array(CommandLine.arguments.dropFirst())
if args.contains("--reexec") { Torch.ensureProcessEnvironment() }
let quick = args.contains("--quick")
let threadList = args.compactMap { Int($0) }
if let v = getenv("GEMM_SERIAL_BELOW").flatMap({ Int(String(cString: $0)) }) { Torch.setGemmSerialThreshold(v) }

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Median seconds per call over `reps` timed calls after one warm-up call.
func time(_ reps: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var samples: [Double] = []
    for _ in 0..<reps {
        let t0 = now()
        try body()
        samples.append(now() - t0)
    }
    return samples.sorted()[samples.count / 2]
}

func fmt(_ x: Double, _ digits: Int = 1) -> String {
    var s = "\(Double(Int(x * pow(10, Double(digits)) + 0.5)) / pow(10, Double(digits)))"
    if s.hasSuffix(".0") && digits == 0 { s.removeLast(2) }
    return s
}

let policy = getenv("OMP_WAIT_POLICY").map { String(cString: $0) } ?? "(unset)"
print("OMP_WAIT_POLICY=\(policy)  default threads=\(Torch.threads)")

for threads in threadList.isEmpty ? [1, 2] : threadList {
    Torch.setThreads(threads)
    Torch.manualSeed(0)
    let reps = quick ? 3 : 5

    // conv2d 3x3, 64->64, batch 32, 64x64: forward + backward (dX and dW)
    let x = try Tensor.randn([32, 64, 64, 64]).requiresGrad(true)
    let conv = Conv2d(64, 64, kernelSize: 3, padding: 1)
    let convFlops: Double = 2.0 * 32 * 64 * 64 * 64 * 64 * 9
    let tf = try time(reps) { _ = try Tensor.noGrad { try conv(x) } }
    let tfb = try time(reps) {
        let y = try conv(x)
        try y.sum().backward()
        x.zeroGrad(); conv.zeroGrad()
    }

    // GEMM 1024^3 through the oneDNN path vs the BLAS path
    let a = try Tensor.randn([1024, 1024]), b = try Tensor.randn([1024, 1024])
    let mmFlops: Double = 2.0 * 1024 * 1024 * 1024
    let tmm = try time(reps) { _ = try a.matmul(b) }   // at::matmul -> sgemm_ -> oneDNN
    Torch.routesGemmToOneDNN = false
    let tblas = try time(1) { _ = try a.matmul(b) }    // at::matmul -> reference BLAS
    Torch.routesGemmToOneDNN = true

    // transformer-ish linear fwd+bwd: [16*260, 256] x [768, 256]
    let h = try Tensor.randn([16 * 260, 256]).requiresGrad(true)
    let lin = Linear(256, 768)
    let linFlops: Double = 3 * 2.0 * 16 * 260 * 256 * 768
    let tlin = try time(reps) {
        try lin(h).sum().backward()
        h.zeroGrad(); lin.zeroGrad()
    }

    // attention fwd+bwd at the default prior's shape: batch 16, 4 heads, T 585 (9 frames of 65 tokens), d 48
    let q = try Tensor.randn([16, 4, 585, 48]).requiresGrad(true)
    let attFlops: Double = 3 * 2 * 2.0 * 64 * 585 * 585 * 48
    let tatt = try time(quick ? 1 : 3) {
        try F.attention(q, q, q, causal: true).sum().backward()
        q.zeroGrad()
    }
    Torch.fusesAttention = false
    let tattComposite = try time(quick ? 1 : 3) {
        try F.attention(q, q, q, causal: true).sum().backward()
        q.zeroGrad()
    }
    Torch.fusesAttention = true

    // small ops: 2000 x (add + conv on a tiny tensor)
    let s = try Tensor.randn([64]), tiny = try Tensor.randn([1, 4, 8, 8]), tw = try Tensor.randn([4, 4, 3, 3])
    let tsmall = try time(reps) {
        for _ in 0..<1000 {
            _ = try s + s
            _ = try F.conv2d(tiny, tw, padding: 1)
        }
    }

    let convF: Double = convFlops / tf / 1e9, convFB: Double = 3 * convFlops / tfb / 1e9
    let mmF: Double = mmFlops / tmm / 1e9, blasF: Double = mmFlops / tblas / 1e9
    let linF: Double = linFlops / tlin / 1e9, attF: Double = attFlops / tatt / 1e9, attCF: Double = attFlops / tattComposite / 1e9
    var line = "threads=\(threads): conv3x3 fwd \(fmt(convF)) GFLOP/s, fwd+bwd \(fmt(convFB)) GFLOP/s"
    line += " | gemm1024 oneDNN \(fmt(mmF)) (ref BLAS \(fmt(blasF))) GFLOP/s"
    line += " | linear fwd+bwd \(fmt(linF)) GFLOP/s | attention fwd+bwd \(fmt(attF)) (composite \(fmt(attCF))) GFLOP/s"
    line += " | 1000x(tiny add+conv) \(fmt(tsmall * 1000)) ms"
    print(line)
}
