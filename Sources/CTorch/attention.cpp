// attention.cpp — fused float32 attention, softmax(q kᵀ · scale [causal or banded]) v, with its own backward.
//
// The composite version (two bmms around scale, masked_fill and softmax) keeps four [B, H, T, T]
// tensors alive per layer and passes over each of them in separate ops: for the prior's shape
// (16 windows × 4 heads × 585² scores, 88 MB each) that ran at ~16 GFLOP/s while its linear
// layers ran at ~170. Here each (batch, head) slice is done by one thread from start to end while
// its scores stay in the core's cache: scores by GEMM, causal softmax in place, output by GEMM;
// the backward recomputes nothing and keeps only the probabilities and the output. Causal rows are
// processed in blocks of kRowBlock queries that read only the keys they may see, so the masked
// upper triangle is mostly never computed. A banded mask (queries see only the keys of their own
// group of tokens and the band − 1 groups before it: a prior's frames) also skips the keys left of
// a block's band. Slices are split across the intra-op threads;
// every slice's arithmetic happens in a fixed order, so results do not depend on the thread count.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

extern "C" void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                       const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
                       const float *beta, float *c, const int *ldc);  // blas_onednn.cpp

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<int> g_fused{1};
std::atomic<int64_t> g_fused_calls{0};
constexpr int64_t kRowBlock = 64;

// Row-major C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, through the column-major
// `sgemm_` (which routes to oneDNN and runs products this small on the calling thread).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
          const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  const char cta = ta ? 'T' : 'N', ctb = tb ? 'T' : 'N';
  const int im = int(m), in = int(n), ik = int(k), ilda = int(lda), ildb = int(ldb), ildc = int(ldc);
  sgemm_(&ctb, &cta, &in, &im, &ik, &alpha, b, &ildb, a, &ilda, &beta, c, &ildc);
}

// 16 floats as one vector (AVX-512 register, or two/four narrower ones).
typedef float vf16 __attribute__((vector_size(64)));
typedef int32_t vi16 __attribute__((vector_size(64)));

inline vf16 load16(const float *p) {
  vf16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store16(float *p, vf16 v) { std::memcpy(p, &v, sizeof v); }
inline vf16 splat(float x) { return vf16{} + x; }

// e^x for x ≤ 0 (Cephes' range reduction and polynomial, ~1 ulp); x below −87 gives e^−87.
inline vf16 exp_nonpositive(vf16 x) {
  x = __builtin_elementwise_max(x, splat(-87.0f));
  const vi16 n = __builtin_convertvector(x * 1.44269504088896341f - 0.5f, vi16);  // round(x / ln 2), x ≤ 0
  const vf16 fn = __builtin_convertvector(n, vf16);
  const vf16 r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
  vf16 p = splat(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const vf16 y = p * r * r + r + 1.0f;
  vf16 scale;
  const vi16 bits = (n + 127) << 23;
  std::memcpy(&scale, &bits, sizeof scale);
  return y * scale;
}

// In place: row[0..len) ← softmax(row[0..len)), row[len..width) ← 0.
void softmax_row(float *row, int64_t len, int64_t width) {
  float tail[16];
  const int64_t full = len / 16 * 16, rem = len - full;
  vf16 mv = splat(-std::numeric_limits<float>::infinity());
  for (int64_t j = 0; j < full; j += 16) mv = __builtin_elementwise_max(mv, load16(row + j));
  float m = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < 16; i++) m = std::max(m, mv[i]);
  for (int64_t j = full; j < len; j++) m = std::max(m, row[j]);

  vf16 sv = splat(0);
  for (int64_t j = 0; j < full; j += 16) {
    const vf16 e = exp_nonpositive(load16(row + j) - m);
    store16(row + j, e);
    sv += e;
  }
  float sum = 0;
  for (int i = 0; i < 16; i++) sum += sv[i];
  if (rem > 0) {
    std::fill(tail, tail + 16, m);
    std::copy(row + full, row + len, tail);
    store16(tail, exp_nonpositive(load16(tail) - m));
    for (int64_t j = 0; j < rem; j++) {
      row[full + j] = tail[j];
      sum += tail[j];
    }
  }
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j < len; j++) row[j] *= inv;
  std::fill(row + len, row + width, 0.0f);
}

// In place: row[begin..end) ← softmax(row[begin..end)), the rest of row[0..width) ← 0.
void softmax_range(float *row, int64_t begin, int64_t end, int64_t width) {
  std::fill(row, row + begin, 0.0f);
  softmax_row(row + begin, end - begin, width - begin);
}

// Query rows [r0, r1) of one slice read keys [key_begin(r0), key_end(r1)); query i sees keys
// first(i) ≤ j < visible(i): causally j ≤ i + offset, and with a band (band > 0) only keys from the
// start of the group `band − 1` groups before the query's own (groups of `group` positions, counted
// from key 0; the query at i is at key position i + offset).
struct Shape {
  int64_t tq, tk, d, dv;
  bool causal;
  int64_t group = 0, band = 0;
  int64_t offset() const { return tk - tq; }
  int64_t visible(int64_t i) const { return causal ? std::min(tk, i + offset() + 1) : tk; }
  int64_t first(int64_t i) const {
    return band > 0 ? std::max<int64_t>(0, ((i + offset()) / group - band + 1) * group) : 0;
  }
  int64_t key_begin(int64_t r0) const { return first(r0); }
  int64_t key_end(int64_t r1) const { return visible(r1 - 1); }
  int64_t block_rows() const { return causal ? kRowBlock : tq; }
};

// One slice: p [tq, tk] (probabilities; entries right of a block's key_end are never read),
// out [tq, dv].
void forward_slice(const Shape &s, float scale, const float *q, const float *k, const float *v, float *p,
                   float *out) {
  for (int64_t r0 = 0; r0 < s.tq; r0 += s.block_rows()) {
    const int64_t r1 = std::min(s.tq, r0 + s.block_rows()), rows = r1 - r0;
    const int64_t kb = s.key_begin(r0), ke = s.key_end(r1), width = ke - kb;
    float *pb = p + r0 * s.tk + kb;
    gemm(false, true, rows, width, s.d, scale, q + r0 * s.d, s.d, k + kb * s.d, s.d, 0.0f, pb, s.tk);  // q kᵀ · scale
    for (int64_t i = r0; i < r1; i++) softmax_range(p + i * s.tk + kb, s.first(i) - kb, s.visible(i) - kb, width);
    gemm(false, false, rows, s.dv, width, 1.0f, pb, s.tk, v + kb * s.dv, s.dv, 0.0f, out + r0 * s.dv, s.dv);  // p v
  }
}

// One slice's backward; dq, dk, dv are overwritten; ds is scratch of [tq, tk].
void backward_slice(const Shape &s, float scale, const float *q, const float *k, const float *v, const float *p,
                    const float *out, const float *dout, float *dq, float *dk, float *dv, float *ds) {
  std::fill(dk, dk + s.tk * s.d, 0.0f);
  std::fill(dv, dv + s.tk * s.dv, 0.0f);
  for (int64_t r0 = 0; r0 < s.tq; r0 += s.block_rows()) {
    const int64_t r1 = std::min(s.tq, r0 + s.block_rows()), rows = r1 - r0;
    const int64_t kb = s.key_begin(r0), ke = s.key_end(r1), width = ke - kb;
    const float *pb = p + r0 * s.tk + kb;
    float *db = ds + r0 * s.tk + kb;
    gemm(true, false, width, s.dv, rows, 1.0f, pb, s.tk, dout + r0 * s.dv, s.dv, 1.0f, dv + kb * s.dv, s.dv);  // dv += pᵀ dout
    gemm(false, true, rows, width, s.dv, 1.0f, dout + r0 * s.dv, s.dv, v + kb * s.dv, s.dv, 0.0f, db, s.tk);   // dp = dout vᵀ
    for (int64_t i = r0; i < r1; i++) {
      // ds = p ⊙ (dp − ⟨dout_i, out_i⟩) · scale
      float dot = 0;
      for (int64_t c = 0; c < s.dv; c++) dot += dout[i * s.dv + c] * out[i * s.dv + c];
      const float *pr = p + i * s.tk + kb;
      float *dr = ds + i * s.tk + kb;
      for (int64_t j = 0; j < width; j++) dr[j] = pr[j] * (dr[j] - dot) * scale;
    }
    gemm(false, false, rows, s.d, width, 1.0f, db, s.tk, k + kb * s.d, s.d, 0.0f, dq + r0 * s.d, s.d);  // dq = ds k
    gemm(true, false, width, s.d, rows, 1.0f, db, s.tk, q + r0 * s.d, s.d, 1.0f, dk + kb * s.d, s.d);  // dk += dsᵀ q
  }
}

struct FusedAttention : public torch::autograd::Function<FusedAttention> {
  // q [N, tq, d], k [N, tk, d], v [N, tk, dv], contiguous float32 -> [N, tq, dv]
  static at::Tensor forward(AutogradContext *ctx, const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                            double scale, bool causal, int64_t group, int64_t band) {
    const Shape s{q.size(1), k.size(1), q.size(2), v.size(2), causal, group, band};
    auto p = at::empty({q.size(0), s.tq, s.tk}, q.options());
    auto out = at::empty({q.size(0), s.tq, s.dv}, q.options());
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    float *pp = p.data_ptr<float>(), *op = out.data_ptr<float>();
    at::parallel_for(0, q.size(0), 1, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; n++)
        forward_slice(s, float(scale), qp + n * s.tq * s.d, kp + n * s.tk * s.d, vp + n * s.tk * s.dv,
                      pp + n * s.tq * s.tk, op + n * s.tq * s.dv);
    });
    ctx->save_for_backward({q, k, v, p, out});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["group"] = group;
    ctx->saved_data["band"] = band;
    return out;
  }

  static variable_list backward(AutogradContext *ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const at::Tensor q = saved[0].detach(), k = saved[1].detach(), v = saved[2].detach();
    const at::Tensor p = saved[3].detach(), out = saved[4].detach();
    const at::Tensor dout = grads[0].detach().contiguous();
    const float scale = float(ctx->saved_data["scale"].toDouble());
    const Shape s{q.size(1), k.size(1), q.size(2), v.size(2), ctx->saved_data["causal"].toBool(),
                  ctx->saved_data["group"].toInt(), ctx->saved_data["band"].toInt()};
    auto dq = at::empty_like(q), dk = at::empty_like(k), dv = at::empty_like(v);
    const float *qp = q.data_ptr<float>(), *kp = k.data_ptr<float>(), *vp = v.data_ptr<float>();
    const float *pp = p.data_ptr<float>(), *op = out.data_ptr<float>(), *gp = dout.data_ptr<float>();
    float *dqp = dq.data_ptr<float>(), *dkp = dk.data_ptr<float>(), *dvp = dv.data_ptr<float>();
    at::parallel_for(0, q.size(0), 1, [&](int64_t begin, int64_t end) {
      std::vector<float> scratch(size_t(s.tq * s.tk));
      for (int64_t n = begin; n < end; n++)
        backward_slice(s, scale, qp + n * s.tq * s.d, kp + n * s.tk * s.d, vp + n * s.tk * s.dv,
                       pp + n * s.tq * s.tk, op + n * s.tq * s.dv, gp + n * s.tq * s.dv, dqp + n * s.tq * s.d,
                       dkp + n * s.tk * s.d, dvp + n * s.tk * s.dv, scratch.data());
    });
    return {dq, dk, dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

// Used by ct_attention (ctorch.cpp): whether the fused kernel applies to these operands.
bool ct_internal_fused_attention_applies(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                         bool has_mask, bool causal) {
  if (!g_fused.load(std::memory_order_relaxed) || has_mask || !q.is_cpu()) return false;  // CPU loops
  if (q.scalar_type() != at::kFloat || k.scalar_type() != at::kFloat || v.scalar_type() != at::kFloat) return false;
  if (q.dim() < 2 || q.size(-2) == 0 || k.size(-2) == 0 || k.dim() != q.dim() || v.dim() != q.dim()) return false;
  for (int64_t i = 0; i + 2 < q.dim(); i++)  // same leading (batch, head) sizes: no broadcasting
    if (k.size(i) != q.size(i) || v.size(i) != q.size(i)) return false;
  return !causal || k.size(-2) >= q.size(-2);  // every causal row sees at least one key
}

// q [N, tq, d], k [N, tk, d], v [N, tk, dv] float32 -> [N, tq, dv].
// With band > 0 (and causal), query i sees only the keys from the start of the group of `group`
// positions `band − 1` groups before its own.
at::Tensor ct_internal_fused_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale,
                                       bool causal, int64_t group, int64_t band) {
  g_fused_calls.fetch_add(1, std::memory_order_relaxed);
  return FusedAttention::apply(q.contiguous(), k.contiguous(), v.contiguous(), scale, causal, group, band);
}

extern "C" int ct_set_fused_attention(int on) { return g_fused.exchange(on ? 1 : 0); }
extern "C" int64_t ct_fused_attention_calls(void) { return g_fused_calls.load(); }
