import CTorch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide libtorch settings.
public enum Torch {
    /// Runs once, before the first tensor is created, and sets the intra-op thread count to
    /// `defaultThreadCount(...)` for this process.
    private static let bootstrapOnce: Void = {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        let n = defaultThreadCount(cores: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
                                   override: env("FRAMECAST_THREADS"),
                                   waitPolicy: env("OMP_WAIT_POLICY"), spinCount: env("GOMP_SPINCOUNT"))
        _ = ct_set_num_threads(Int32(n))
        keepFreedMemory()
    }()

    /// Keeps freed tensor memory in the process instead of handing it back to the kernel at once.
    ///
    /// glibc returns a freed block of 128 KB and more (its starting mmap threshold, adapting up to
    /// 32 MB) with munmap and trims the heap top above 128 KB, so every training step faulted in
    /// freshly zeroed pages for its activations and gradients again: on this 2-core machine a prior
    /// training run spent 39% of its CPU time in the kernel at 4400 tokens/s. Its attention scores
    /// alone are 69 MB a layer (16 windows × 4 heads × 520²), so a 32 MB threshold still gave only
    /// 5700–6000 tokens/s. With blocks up to 256 MB served from the heap, trimming only above 1 GB
    /// and 64 MB of padding per heap growth, it trains at 7800–8300 tokens/s. Freed memory is kept
    /// for reuse rather than returned.
    ///
    /// Returns whether the allocator took the settings (false off glibc).
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        ct_tune_allocator(256 << 20, 1 << 30, 64 << 20) == 1
    }

    /// The default intra-op thread count. libtorch itself starts with 1 here.
    ///
    /// While other processes use the cores, libgomp's default wait policy (spinning before it
    /// sleeps) with 2 threads makes GEMMs and small ops many times slower than with
    /// `OMP_WAIT_POLICY=PASSIVE` (docs/numerics.md), and libgomp reads that variable only when it
    /// is loaded. So: every core when the process was started with a wait
    /// policy or spin count (see `ensureProcessEnvironment()`), otherwise 1 thread (no spinning
    /// partner thread at all). `FRAMECAST_THREADS=n` overrides both.
    public static func defaultThreadCount(cores: Int, override: String?, waitPolicy: String?, spinCount: String?) -> Int {
        if let override, let n = Int(override), n > 0 { return n }
        let protected = (waitPolicy.map { !$0.isEmpty } ?? false) || (spinCount.map { !$0.isEmpty } ?? false)
        return protected ? Swift.max(1, cores) : 1
    }

    static func bootstrap() { _ = bootstrapOnce }

    /// Intra-op threads (OpenMP / oneDNN).
    public static var threads: Int {
        bootstrap()
        return Int(ct_get_num_threads())
    }

    /// The machine's core count: the default for commands that compute.
    public static var allCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public static func setThreads(_ n: Int) {
        bootstrap()
        precondition(n > 0, "Torch.setThreads: need at least 1 thread, got \(n)")
        _ = ct_set_num_threads(Int32(n))
    }

    /// Seeds libtorch's global CPU generator (randn, rand, dropout, multinomial, module init), and
    /// on `.cuda` the GPU's too (what ops draw there).
    public static func manualSeed(_ seed: UInt64) {
        _ = ct_manual_seed(seed)
    }

    /// Shim handles currently alive (debug counter).
    public static var liveTensorCount: Int { Int(ct_live_tensors()) }

    /// Handles created and freed since process start (debug counters).
    public static var handleCounts: (created: Int, freed: Int) {
        var c: Int64 = 0, f: Int64 = 0
        ct_debug_counts(&c, &f)
        return (Int(c), Int(f))
    }

    /// libtorch's build configuration.
    public static var config: String { String(cString: ct_config()) }

    /// Makes sure libgomp runs with `OMP_WAIT_POLICY=PASSIVE`, which it reads only when it is
    /// loaded (before `main`, so `setenv` in-process is too late). If neither `OMP_WAIT_POLICY`
    /// nor `GOMP_SPINCOUNT` is set, sets the policy and re-executes `/proc/self/exe` with the same
    /// arguments (the process image is replaced; nothing after this call runs twice). Returns
    /// normally when the environment is already right or re-exec is impossible. Call it first
    /// thing in an executable's `main`, before creating any tensor; never in tests or libraries.
    /// `FRAMECAST_NO_REEXEC=1` disables it. `framecast` links CProcessStart, whose load-time hook
    /// does the same before libtorch initialises (half the start-up cost), so there this is only
    /// the fallback.
    public static func ensureProcessEnvironment() {
        #if os(Linux)
        if getenv("OMP_WAIT_POLICY") != nil || getenv("GOMP_SPINCOUNT") != nil || getenv("FRAMECAST_NO_REEXEC") != nil {
            return
        }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: undo, so the thread default stays at the safe value.
        unsetenv("OMP_WAIT_POLICY")
        #endif
    }
}

extension Torch {
    /// Whether libtorch's float32 GEMMs (`sgemm_`) are served by oneDNN rather than the
    /// system's reference BLAS (on by default; see blas_onednn.cpp).
    public static var routesGemmToOneDNN: Bool {
        get { shimSwitch(ct_set_blas_override) }
        set { _ = ct_set_blas_override(newValue ? 1 : 0) }
    }

    /// The state of an on/off switch of the shim whose setter returns the previous state (the C
    /// API has no getters): sets it, then puts the previous state back.
    static func shimSwitch(_ set: (Int32) -> Int32) -> Bool {
        let previous = set(1)
        _ = set(previous)
        return previous != 0
    }

    /// `sgemm_` calls served by oneDNN and by the fallback BLAS since process start.
    public static var gemmCounts: (oneDNN: Int, fallback: Int) {
        var r: Int64 = 0, f: Int64 = 0
        ct_blas_counts(&r, &f)
        return (Int(r), Int(f))
    }
}

extension Torch {
    /// Whether float32 `F.attention` without a mask runs the fused kernel (attention.cpp: one
    /// pass per batch-head slice in cache, its own backward; on by default) rather than the
    /// composite ops (bmm, masked_fill, softmax, bmm).
    public static var fusesAttention: Bool {
        get { shimSwitch(ct_set_fused_attention) }
        set { _ = ct_set_fused_attention(newValue ? 1 : 0) }
    }

    /// `F.attention` calls served by the fused kernel since process start.
    public static var fusedAttentionCalls: Int { Int(ct_fused_attention_calls()) }
}

extension Torch {
    /// float32 GEMMs with m·n·k below this run on the calling thread only (default 2²⁴): waking
    /// the second OpenMP thread costs more than it saves for e.g. per-head attention products.
    public static func setGemmSerialThreshold(_ mnk: Int) {
        _ = ct_set_gemm_serial_threshold(Int64(mnk))
    }
}
