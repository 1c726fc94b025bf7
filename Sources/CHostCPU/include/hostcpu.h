// hostcpu.h — what the CPU a module is compiled for offers its vector kernels.
//
// `hostcpu_vector_registers` is evaluated by the compiler of the module that includes it (the Prior
// target builds with -march=x86-64-v3, or FRAMECAST_MARCH), so the answer is a constant that the
// optimiser folds away; `hostcpu_runs_kernels` asks the running CPU.
#ifndef HOSTCPU_H
#define HOSTCPU_H

/// Vector registers of the build target: 32 with AVX-512 (zmm0–31), else 16 (AVX2's ymm0–15).
static inline int hostcpu_vector_registers(void) {
#if defined(__AVX512F__)
  return 32;
#else
  return 16;
#endif
}

/// Whether the CPU running this has what the vector kernels were compiled for (AVX2 and FMA on
/// x86-64, checked at run time); 1 elsewhere.
static inline int hostcpu_runs_kernels(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return 1;
#endif
}

#endif
