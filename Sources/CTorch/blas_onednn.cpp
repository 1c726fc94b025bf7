// blas_onednn.cpp — route libtorch's single-precision GEMM to oneDNN.
//
// Debian's libtorch 1.13 calls the Fortran BLAS symbol `sgemm_` for every float32 mm/bmm/addmm
// (BLAS_INFO=generic), and on this system that resolves to the netlib *reference* BLAS
// (single-threaded, ~3 GFLOP/s). oneDNN (already loaded by libtorch for convolutions) exports a
// fast, OpenMP-threaded `dnnl_sgemm`. Defining `sgemm_` here — linked into the executable, which
// the linker then exports because libtorch_cpu.so references it — makes the dynamic linker bind
// libtorch's `sgemm_` to this function instead of libblas's. Autograd is untouched: it is still
// libtorch's mm/bmm calling "BLAS".
//
// Safety valves: any case oneDNN rejects (or zero-sized/unknown flags) falls through to the next
// `sgemm_` in lookup order (the reference BLAS), and ct_set_blas_override(0) turns routing off.
// oneDNN's and libgomp's functions are looked up at run time in the libraries libtorch itself
// loaded (no link-time paths); where neither oneDNN nor another `sgemm_` exists, the process
// stops with a message instead of returning an uncomputed product.
#include "ctorch.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>

#include <cstdio>
#include <cstdlib>

namespace {
using sgemm_fn = void (*)(const char *, const char *, const int *, const int *, const int *, const float *,
                          const float *, const int *, const float *, const int *, const float *, float *, const int *);
std::atomic<int> g_override{1};
std::atomic<int64_t> g_routed{0};
std::atomic<int64_t> g_fallback{0};
// GEMMs with m*n*k below this run on the calling thread only: waking the other OpenMP thread
// costs more than it saves for small products (e.g. per-head attention matmuls).
std::atomic<int64_t> g_serial_below{int64_t(1) << 24};

sgemm_fn next_sgemm() {
  static sgemm_fn fn = reinterpret_cast<sgemm_fn>(dlsym(RTLD_NEXT, "sgemm_"));
  return fn;
}

// oneDNN's row-major GEMM and libgomp's thread count, from the libraries libtorch loaded.
using dnnl_sgemm_fn = int (*)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                              int64_t, float, float *, int64_t);
struct Routines {
  dnnl_sgemm_fn sgemm = reinterpret_cast<dnnl_sgemm_fn>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  int (*max_threads)() = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  void (*set_threads)(int) = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
};

const Routines &routines() {
  static Routines r;
  return r;
}

char norm_trans(char t) {
  switch (t) {
    case 'N': case 'n': return 'N';
    case 'T': case 't': case 'C': case 'c': return 'T';
  }
  return 0;
}
}  // namespace

extern "C" {

// Column-major C = alpha op(A) op(B) + beta C is row-major Cᵀ = alpha op(B)ᵀ op(A)ᵀ + beta Cᵀ,
// so call the row-major dnnl_sgemm with the operands and M/N swapped.
void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k, const float *alpha,
            const float *a, const int *lda, const float *b, const int *ldb, const float *beta, float *c,
            const int *ldc) {
  const char ta = norm_trans(*transa), tb = norm_trans(*transb);
  const Routines &r = routines();
  if (r.sgemm && g_override.load(std::memory_order_relaxed) && ta && tb && *m > 0 && *n > 0 && *k > 0) {
    const int64_t work = int64_t(*m) * int64_t(*n) * int64_t(*k);
    const int threads = r.max_threads && r.set_threads ? r.max_threads() : 1;
    const bool serial = threads > 1 && work < g_serial_below.load(std::memory_order_relaxed);
    if (serial) r.set_threads(1);
    const int status = r.sgemm(tb, ta, *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc);
    if (serial) r.set_threads(threads);
    if (status == 0) {
      g_routed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  g_fallback.fetch_add(1, std::memory_order_relaxed);
  if (auto fn = next_sgemm()) {
    fn(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  std::fprintf(stderr, "framecast: no BLAS for a float32 matrix product: libtorch's oneDNN (dnnl_sgemm) %s and no other "
                       "sgemm_ is loaded; install Debian's libtorch-dev (Tools/setup)\n",
               r.sgemm ? "refused it" : "was not found");
  std::abort();
}

int64_t ct_set_gemm_serial_threshold(int64_t mnk) { return g_serial_below.exchange(mnk < 0 ? 0 : mnk); }

int ct_set_blas_override(int on) { return g_override.exchange(on ? 1 : 0); }

void ct_blas_counts(int64_t *routed, int64_t *fallback) {
  if (routed) *routed = g_routed.load();
  if (fallback) *fallback = g_fallback.load();
}

}  // extern "C"
