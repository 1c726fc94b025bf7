import CTorch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Process-wide libtorch settings.
public enum Torch {
    /// Runs once, before the first tensor is created: libtorch starts with 1 intra-op thread on
    /// this machine class, so default to every online core (override with `FRAMECAST_THREADS`).
    private static let bootstrapOnce: Void = {
        var n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        if let s = getenv("FRAMECAST_THREADS"), let v = Int(String(cString: s)), v > 0 { n = v }
        _ = ct_set_num_threads(Int32(Swift.max(1, n)))
    }()

    static func bootstrap() { _ = bootstrapOnce }

    /// Intra-op threads (OpenMP / oneDNN).
    public static var threads: Int {
        bootstrap()
        return Int(ct_get_num_threads())
    }

    public static func setThreads(_ n: Int) {
        bootstrap()
        precondition(n > 0, "Torch.setThreads: need at least 1 thread, got \(n)")
        _ = ct_set_num_threads(Int32(n))
    }

    /// Seeds libtorch's global CPU generator (randn, rand, dropout, multinomial, module init).
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

    /// Makes sure libgomp sees `OMP_WAIT_POLICY=PASSIVE`, which it reads only when it is loaded
    /// (before `main`). If the variable is missing, sets it and re-executes `/proc/self/exe`
    /// with the same arguments; returns normally when the environment is already right (or when
    /// re-exec is impossible). Call it first thing in an executable's `main`, never in tests.
    /// Idempotent; `FRAMECAST_NO_REEXEC=1` disables it.
    public static func ensureProcessEnvironment() {
        #if os(Linux)
        if getenv("OMP_WAIT_POLICY") != nil || getenv("FRAMECAST_NO_REEXEC") != nil { return }
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv only returns on failure: carry on with the current environment.
        #endif
    }
}

extension Torch {
    /// Whether libtorch's float32 GEMMs (`sgemm_`) are served by oneDNN rather than the
    /// system's reference BLAS (on by default; see blas_onednn.cpp).
    public static var routesGemmToOneDNN: Bool {
        get {
            let previous = ct_set_blas_override(1)
            _ = ct_set_blas_override(previous)
            return previous != 0
        }
        set { _ = ct_set_blas_override(newValue ? 1 : 0) }
    }

    /// `sgemm_` calls served by oneDNN and by the fallback BLAS since process start.
    public static var gemmCounts: (oneDNN: Int, fallback: Int) {
        var r: Int64 = 0, f: Int64 = 0
        ct_blas_counts(&r, &f)
        return (Int(r), Int(f))
    }
}
