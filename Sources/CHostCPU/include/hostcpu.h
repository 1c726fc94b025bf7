// hostcpu.h — what the CPU a module is compiled for offers its vector kernels.
//
// Evaluated by the compiler of the module that includes it (the Prior target builds with
// -march=native), so the answer is a constant that the optimiser folds away.
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

#endif
