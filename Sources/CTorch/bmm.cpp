// bmm.cpp — batched matmul that uses both cores for many small products.
//
// libtorch 1.13's CPU bmm loops over the batch sequentially, one GEMM per slice; per-head
// attention products (e.g. 300×300×64) are too small to be worth splitting inside one GEMM, so a
// 2-core machine ran them on one core. Here the batch is split across the intra-op threads
// (each slice is one serial `sgemm_`), with a custom autograd node whose backward does the same.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// a [B, M, K] x b [B, K, N] -> [B, M, N]; no autograd (callers pass detached tensors).
at::Tensor par_bmm_raw(const at::Tensor &a, const at::Tensor &b) {
  auto out = at::empty({a.size(0), a.size(1), b.size(2)}, a.options());
  at::parallel_for(0, a.size(0), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      auto o = out.select(0, i);
      at::mm_out(o, a.select(0, i), b.select(0, i));
    }
  });
  return out;
}

struct ParallelBmm : public torch::autograd::Function<ParallelBmm> {
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &a, const at::Tensor &b) {
    ctx->save_for_backward({a, b});
    return par_bmm_raw(a.detach(), b.detach());
  }
  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto g = grads[0].detach();
    auto a = saved[0].detach(), b = saved[1].detach();
    at::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) ga = par_bmm_raw(g, b.transpose(1, 2));
    if (ctx->needs_input_grad(1)) gb = par_bmm_raw(a.transpose(1, 2), g);
    return {ga, gb};
  }
};

}  // namespace

// Used by ctorch.cpp (attention) and exported as ct_bmm.
at::Tensor ct_internal_bmm(const at::Tensor &a, const at::Tensor &b) {
  TORCH_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
              "bmm: shapes ", a.sizes(), " and ", b.sizes(), " cannot be multiplied");
  if (!a.is_cpu() || a.scalar_type() != at::kFloat || b.scalar_type() != at::kFloat || at::get_num_threads() < 2 ||
      a.size(0) < 2)
    return at::bmm(a, b);
  return ParallelBmm::apply(a, b);
}
