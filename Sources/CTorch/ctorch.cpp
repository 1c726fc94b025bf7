// ctorch.cpp — implementation of ctorch.h over ATen. One translation unit on purpose (ATen headers
// are heavy; keep the build short). Every entry point funnels through guard_t / guard_i so no C++
// exception can cross into Swift.
#include "ctorch.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <c10/core/GradMode.h>
#include <torch/version.h>

#include <atomic>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

struct ct_tensor {
  at::Tensor t;
};

at::Tensor ct_internal_bmm(const at::Tensor &a, const at::Tensor &b);  // bmm.cpp
bool ct_internal_fused_attention_applies(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v,
                                         bool has_mask, bool causal);  // attention.cpp
at::Tensor ct_internal_fused_attention(const at::Tensor &q, const at::Tensor &k, const at::Tensor &v, double scale,
                                       bool causal, int64_t group, int64_t band);

namespace {

std::atomic<int64_t> g_created{0};
std::atomic<int64_t> g_freed{0};
thread_local std::string g_err;

ct_tensor_t wrap(at::Tensor t) {
  auto *h = new ct_tensor{std::move(t)};
  g_created.fetch_add(1, std::memory_order_relaxed);
  return h;
}

const at::Tensor &T(ct_tensor_t h) {
  if (!h) throw std::invalid_argument("ctorch: NULL tensor handle");
  return h->t;
}

c10::optional<at::Tensor> OPT(ct_tensor_t h) {
  if (!h) return c10::nullopt;
  return h->t;
}

at::ScalarType to_st(int d) {
  switch (d) {
    case CT_F32: return at::kFloat;
    case CT_F64: return at::kDouble;
    case CT_I64: return at::kLong;
    case CT_I32: return at::kInt;
    case CT_U8: return at::kByte;
    case CT_F16: return at::kHalf;
    case CT_BOOL: return at::kBool;
    case CT_I16: return at::kShort;
    case CT_BF16: return at::kBFloat16;
    case CT_I8: return at::kChar;
  }
  throw std::invalid_argument("ctorch: unknown dtype code " + std::to_string(d));
}

int from_st(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return CT_F32;
    case at::kDouble: return CT_F64;
    case at::kLong: return CT_I64;
    case at::kInt: return CT_I32;
    case at::kByte: return CT_U8;
    case at::kHalf: return CT_F16;
    case at::kBool: return CT_BOOL;
    case at::kShort: return CT_I16;
    case at::kBFloat16: return CT_BF16;
    case at::kChar: return CT_I8;
    default: break;
  }
  throw std::invalid_argument(std::string("ctorch: unsupported scalar type ") + c10::toString(s));
}

// The device of new tensors (ct_set_device): CPU unless set.
std::atomic<int> g_device_type{0}, g_device_index{0};
at::Device device() {
  return g_device_type.load(std::memory_order_relaxed) == 1
             ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(g_device_index.load(std::memory_order_relaxed)))
             : at::Device(at::kCPU);
}
// A tensor made on the CPU, on the current device.
at::Tensor placed(at::Tensor t) { return g_device_type.load(std::memory_order_relaxed) == 1 ? t.to(device()) : t; }

at::TensorOptions opts(int dtype) { return at::TensorOptions().dtype(to_st(dtype)).device(device()); }
// Random draws come from the CPU generator (ct_manual_seed) whatever the device.
at::TensorOptions cpu_opts(int dtype) { return at::TensorOptions().dtype(to_st(dtype)); }
// Fills x with `draw` made on the CPU (the seeded generator), copied where x lives elsewhere.
template <class Draw>
void drawn_on_cpu(const at::Tensor &x, Draw draw) {
  if (x.is_cpu()) draw(x);
  else x.copy_(draw(at::empty(x.sizes(), x.options().device(at::kCPU))));
}

at::IntArrayRef dims(const int64_t *p, int n) {
  if (n < 0) throw std::invalid_argument("ctorch: negative ndim");
  if (n > 0 && !p) throw std::invalid_argument("ctorch: NULL shape pointer");
  return at::IntArrayRef(p, static_cast<size_t>(n));
}

void set_err(const char *msg) { g_err = msg ? msg : "unknown error"; }

template <class F>
ct_tensor_t guard_t(F &&f) {
  try {
    return wrap(f());
  } catch (const c10::Error &e) {
    set_err(e.what_without_backtrace());
  } catch (const std::exception &e) {
    set_err(e.what());
  } catch (...) {
    set_err("ctorch: unknown C++ exception");
  }
  return nullptr;
}

template <class F>
int guard_i(F &&f) {
  try {
    f();
    return 0;
  } catch (const c10::Error &e) {
    set_err(e.what_without_backtrace());
  } catch (const std::exception &e) {
    set_err(e.what());
  } catch (...) {
    set_err("ctorch: unknown C++ exception");
  }
  return -1;
}

std::string shape_str(const at::Tensor &t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

void check_mm(const at::Tensor &a, const at::Tensor &b, const char *what) {
  if (a.dim() == 0 || b.dim() == 0)
    throw std::invalid_argument(std::string(what) + ": both arguments need at least 1 dimension, got " +
                                shape_str(a) + " and " + shape_str(b));
  const int64_t ka = a.size(-1);
  const int64_t kb = b.dim() == 1 ? b.size(0) : b.size(-2);
  if (ka != kb)
    throw std::invalid_argument(std::string(what) + ": shapes " + shape_str(a) + " and " + shape_str(b) +
                                " cannot be multiplied (" + std::to_string(ka) + " != " +
                                std::to_string(kb) + ")");
}

// float32 GEMMs reach oneDNN through the `sgemm_` override in blas_onednn.cpp.
at::Tensor matmul_impl(const at::Tensor &a, const at::Tensor &b) {
  check_mm(a, b, "matmul");
  return at::matmul(a, b);
}

at::Tensor compare(const at::Tensor &a, const at::Tensor &b, int op) {
  switch (op) {
    case 0: return at::eq(a, b);
    case 1: return at::ne(a, b);
    case 2: return at::lt(a, b);
    case 3: return at::le(a, b);
    case 4: return at::gt(a, b);
    case 5: return at::ge(a, b);
  }
  throw std::invalid_argument("ctorch: unknown comparison op " + std::to_string(op));
}

at::Tensor compare_s(const at::Tensor &a, const at::Scalar &b, int op) {
  switch (op) {
    case 0: return at::eq(a, b);
    case 1: return at::ne(a, b);
    case 2: return at::lt(a, b);
    case 3: return at::le(a, b);
    case 4: return at::gt(a, b);
    case 5: return at::ge(a, b);
  }
  throw std::invalid_argument("ctorch: unknown comparison op " + std::to_string(op));
}

at::Tensor causal_mask(int64_t tq, int64_t tk, at::Device on) {
  return at::ones({tq, tk}, at::TensorOptions().dtype(at::kBool).device(on)).tril(tk - tq);
}

// causal_mask, and query i (at key position i + tk − tq) sees no key before the start of the group
// of `group` positions `band − 1` groups before its own.
at::Tensor band_mask(int64_t tq, int64_t tk, int64_t group, int64_t band, at::Device on) {
  const auto longs = at::TensorOptions().dtype(at::kLong).device(on);
  auto position = at::arange(tq, longs) + (tk - tq);                                             // [tq]
  auto first = ((position.div(group, "floor") - (band - 1)) * group).clamp_min(0).unsqueeze(1);  // [tq, 1]
  auto keys = at::arange(tk, longs).unsqueeze(0);                                                // [1, tk]
  return causal_mask(tq, tk, on).logical_and(keys.ge(first));
}

}  // namespace

extern "C" {

// ---- errors, lifetime ----
const char *ct_last_error(void) { return g_err.c_str(); }
void ct_clear_error(void) { g_err.clear(); }
void ct_free(ct_tensor_t t) {
  if (!t) return;
  delete t;
  g_freed.fetch_add(1, std::memory_order_relaxed);
}
int64_t ct_live_tensors(void) { return g_created.load() - g_freed.load(); }
void ct_debug_counts(int64_t *created, int64_t *freed) {
  if (created) *created = g_created.load();
  if (freed) *freed = g_freed.load();
}
ct_tensor_t ct_alias(ct_tensor_t t) { return guard_t([&] { return T(t); }); }
ct_tensor_t ct_clone(ct_tensor_t t) { return guard_t([&] { return T(t).clone(); }); }
size_t ct_dtype_size(int dtype) {
  try {
    return c10::elementSize(to_st(dtype));
  } catch (...) {
    return 0;
  }
}

// ---- creation ----
ct_tensor_t ct_from_buffer(const void *data, size_t nbytes, int dtype, const int64_t *shape, int ndim) {
  return guard_t([&] {
    auto sizes = dims(shape, ndim);
    auto st = to_st(dtype);
    int64_t n = 1;
    for (auto s : sizes) {
      if (s < 0) throw std::invalid_argument("from_buffer: negative size in shape " + c10::str(sizes));
      n *= s;
    }
    const size_t need = static_cast<size_t>(n) * c10::elementSize(st);
    if (need != nbytes)
      throw std::invalid_argument("from_buffer: shape " + c10::str(sizes) + " of " + c10::toString(st) +
                                  " needs " + std::to_string(need) + " bytes, got " + std::to_string(nbytes));
    auto out = at::empty(sizes, at::TensorOptions().dtype(st));
    if (need) {
      if (!data) throw std::invalid_argument("from_buffer: NULL data");
      std::memcpy(out.data_ptr(), data, need);
    }
    return placed(out);
  });
}
int ct_to_buffer(ct_tensor_t t, int dtype, void *out, size_t nbytes) {
  return guard_i([&] {
    at::NoGradGuard ng;
    auto c = T(t).detach().to(to_st(dtype)).to(at::kCPU).contiguous();
    const size_t have = static_cast<size_t>(c.numel()) * c.element_size();
    if (have != nbytes)
      throw std::invalid_argument("to_buffer: tensor " + shape_str(c) + " of " + c10::toString(c.scalar_type()) +
                                  " has " + std::to_string(have) + " bytes, buffer has " + std::to_string(nbytes));
    if (have) std::memcpy(out, c.data_ptr(), have);
  });
}
ct_tensor_t ct_zeros(const int64_t *s, int n, int dt) { return guard_t([&] { return at::zeros(dims(s, n), opts(dt)); }); }
ct_tensor_t ct_ones(const int64_t *s, int n, int dt) { return guard_t([&] { return at::ones(dims(s, n), opts(dt)); }); }
ct_tensor_t ct_full(const int64_t *s, int n, double v, int dt) {
  return guard_t([&] { return at::full(dims(s, n), v, opts(dt)); });
}
ct_tensor_t ct_randn(const int64_t *s, int n, int dt) {
  return guard_t([&] { return placed(at::randn(dims(s, n), cpu_opts(dt))); });
}
ct_tensor_t ct_rand(const int64_t *s, int n, int dt) { return guard_t([&] { return placed(at::rand(dims(s, n), cpu_opts(dt))); }); }
ct_tensor_t ct_uniform(const int64_t *s, int n, double lo, double hi, int dt) {
  return guard_t([&] { return placed(at::empty(dims(s, n), cpu_opts(dt)).uniform_(lo, hi)); });
}
ct_tensor_t ct_randint(int64_t low, int64_t high, const int64_t *s, int n, int dt) {
  return guard_t([&] { return placed(at::randint(low, high, dims(s, n), cpu_opts(dt))); });
}
ct_tensor_t ct_randperm(int64_t n) {
  return guard_t([&] { return placed(at::randperm(n, at::TensorOptions().dtype(at::kLong))); });
}
ct_tensor_t ct_arange(double start, double end, double step, int dt) {
  return guard_t([&] { return at::arange(start, end, step, opts(dt)); });
}
ct_tensor_t ct_scalar_tensor(double v, int dt) { return guard_t([&] { return at::scalar_tensor(v, opts(dt)); }); }

// ---- info ----
int ct_ndim(ct_tensor_t t) {
  int r = -1;
  guard_i([&] { r = static_cast<int>(T(t).dim()); });
  return r;
}
int ct_shape(ct_tensor_t t, int64_t *out, int cap) {
  int r = -1;
  guard_i([&] {
    const auto &x = T(t);
    r = static_cast<int>(x.dim());
    for (int i = 0; i < r && i < cap; i++) out[i] = x.size(i);
  });
  return r;
}
int ct_dtype(ct_tensor_t t) {
  int r = -1;
  guard_i([&] { r = from_st(T(t).scalar_type()); });
  return r;
}
int64_t ct_numel(ct_tensor_t t) {
  int64_t r = -1;
  guard_i([&] { r = T(t).numel(); });
  return r;
}
int ct_item(ct_tensor_t t, double *out) {
  return guard_i([&] {
    const auto &x = T(t);
    if (x.numel() != 1) throw std::invalid_argument("item: tensor of shape " + shape_str(x) + " is not a single element");
    *out = x.item<double>();
  });
}
int ct_is_contiguous(ct_tensor_t t) {
  int r = -1;
  guard_i([&] { r = T(t).is_contiguous() ? 1 : 0; });
  return r;
}

// ---- dtype / shape ----
ct_tensor_t ct_to_dtype(ct_tensor_t t, int dt) { return guard_t([&] { return T(t).to(to_st(dt)); }); }
ct_tensor_t ct_reshape(ct_tensor_t t, const int64_t *s, int n) { return guard_t([&] { return T(t).reshape(dims(s, n)); }); }
ct_tensor_t ct_view(ct_tensor_t t, const int64_t *s, int n) { return guard_t([&] { return T(t).view(dims(s, n)); }); }
ct_tensor_t ct_permute(ct_tensor_t t, const int64_t *d, int n) { return guard_t([&] { return T(t).permute(dims(d, n)); }); }
ct_tensor_t ct_transpose(ct_tensor_t t, int64_t a, int64_t b) { return guard_t([&] { return T(t).transpose(a, b); }); }
ct_tensor_t ct_contiguous(ct_tensor_t t) { return guard_t([&] { return T(t).contiguous(); }); }
ct_tensor_t ct_channels_last(ct_tensor_t t) {
  return guard_t([&] {
    auto &x = T(t);
    if (x.dim() != 4) throw std::invalid_argument("channels_last: tensor of shape " + shape_str(x) + " is not 4-D");
    return x.contiguous(at::MemoryFormat::ChannelsLast);
  });
}
int ct_is_channels_last(ct_tensor_t t) {
  int r = -1;
  guard_i([&] { r = T(t).dim() == 4 && T(t).is_contiguous(at::MemoryFormat::ChannelsLast) ? 1 : 0; });
  return r;
}
ct_tensor_t ct_slice(ct_tensor_t t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  return guard_t([&] { return T(t).slice(dim, start, end, step); });
}
ct_tensor_t ct_narrow(ct_tensor_t t, int64_t dim, int64_t start, int64_t len) {
  return guard_t([&] { return T(t).narrow(dim, start, len); });
}
ct_tensor_t ct_select(ct_tensor_t t, int64_t dim, int64_t i) { return guard_t([&] { return T(t).select(dim, i); }); }
ct_tensor_t ct_index_select(ct_tensor_t t, int64_t dim, ct_tensor_t idx) {
  return guard_t([&] { return at::index_select(T(t), dim, T(idx)); });
}
static std::vector<at::Tensor> list(const ct_tensor_t *ts, int n) {
  if (n <= 0) throw std::invalid_argument("ctorch: empty tensor list");
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int i = 0; i < n; i++) v.push_back(T(ts[i]));
  return v;
}
ct_tensor_t ct_cat(const ct_tensor_t *ts, int n, int64_t dim) { return guard_t([&] { return at::cat(list(ts, n), dim); }); }
ct_tensor_t ct_stack(const ct_tensor_t *ts, int n, int64_t dim) { return guard_t([&] { return at::stack(list(ts, n), dim); }); }
ct_tensor_t ct_expand(ct_tensor_t t, const int64_t *s, int n) { return guard_t([&] { return T(t).expand(dims(s, n)); }); }
ct_tensor_t ct_repeat(ct_tensor_t t, const int64_t *r, int n) { return guard_t([&] { return T(t).repeat(dims(r, n)); }); }
ct_tensor_t ct_unsqueeze(ct_tensor_t t, int64_t d) { return guard_t([&] { return T(t).unsqueeze(d); }); }
ct_tensor_t ct_squeeze(ct_tensor_t t, int64_t d) { return guard_t([&] { return T(t).squeeze(d); }); }
ct_tensor_t ct_squeeze_all(ct_tensor_t t) { return guard_t([&] { return T(t).squeeze(); }); }
ct_tensor_t ct_flatten(ct_tensor_t t, int64_t s, int64_t e) { return guard_t([&] { return T(t).flatten(s, e); }); }
ct_tensor_t ct_tril(ct_tensor_t t, int64_t d) { return guard_t([&] { return T(t).tril(d); }); }
ct_tensor_t ct_triu(ct_tensor_t t, int64_t d) { return guard_t([&] { return T(t).triu(d); }); }

// ---- elementwise ----
#define CT_BIN(name, expr) \
  ct_tensor_t name(ct_tensor_t a, ct_tensor_t b) { return guard_t([&] { return expr(T(a), T(b)); }); }
CT_BIN(ct_add, at::add)
CT_BIN(ct_sub, at::sub)
CT_BIN(ct_mul, at::mul)
CT_BIN(ct_div, at::div)
CT_BIN(ct_pow, at::pow)
CT_BIN(ct_maximum, at::maximum)
CT_BIN(ct_minimum, at::minimum)
#undef CT_BIN
ct_tensor_t ct_addcmul(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double v) {
  return guard_t([&] { return at::addcmul(T(t), T(a), T(b), v); });
}
ct_tensor_t ct_add_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::add(T(a), s); }); }
ct_tensor_t ct_sub_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::sub(T(a), s); }); }
ct_tensor_t ct_rsub_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::rsub(T(a), s); }); }
ct_tensor_t ct_mul_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::mul(T(a), s); }); }
ct_tensor_t ct_div_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::div(T(a), s); }); }
ct_tensor_t ct_rdiv_scalar(ct_tensor_t a, double s) { return guard_t([&] { return at::reciprocal(T(a)) * s; }); }
ct_tensor_t ct_pow_scalar(ct_tensor_t a, double e) { return guard_t([&] { return at::pow(T(a), e); }); }
ct_tensor_t ct_clamp(ct_tensor_t t, double lo, double hi, int has_lo, int has_hi) {
  return guard_t([&] {
    c10::optional<at::Scalar> l, h;
    if (has_lo) l = lo;
    if (has_hi) h = hi;
    return at::clamp(T(t), l, h);
  });
}
ct_tensor_t ct_compare(ct_tensor_t a, ct_tensor_t b, int op) { return guard_t([&] { return compare(T(a), T(b), op); }); }
ct_tensor_t ct_compare_scalar(ct_tensor_t a, double s, int op) { return guard_t([&] { return compare_s(T(a), s, op); }); }
ct_tensor_t ct_logical_not(ct_tensor_t t) { return guard_t([&] { return at::logical_not(T(t)); }); }
ct_tensor_t ct_where(ct_tensor_t c, ct_tensor_t a, ct_tensor_t b) { return guard_t([&] { return at::where(T(c), T(a), T(b)); }); }
ct_tensor_t ct_masked_fill(ct_tensor_t t, ct_tensor_t m, double v) { return guard_t([&] { return T(t).masked_fill(T(m), v); }); }

#define CT_UN(name, fn) \
  ct_tensor_t name(ct_tensor_t t) { return guard_t([&] { return fn(T(t)); }); }
CT_UN(ct_neg, at::neg)
CT_UN(ct_sqrt, at::sqrt)
CT_UN(ct_rsqrt, at::rsqrt)
CT_UN(ct_exp, at::exp)
CT_UN(ct_log, at::log)
CT_UN(ct_abs, at::abs)
CT_UN(ct_square, at::square)
CT_UN(ct_sin, at::sin)
CT_UN(ct_cos, at::cos)
CT_UN(ct_floor, at::floor)
CT_UN(ct_round, at::round)
CT_UN(ct_relu, at::relu)
CT_UN(ct_silu, at::silu)
CT_UN(ct_sigmoid, at::sigmoid)
CT_UN(ct_tanh, at::tanh)
#undef CT_UN
ct_tensor_t ct_gelu(ct_tensor_t t, int approx) { return guard_t([&] { return at::gelu(T(t), approx ? "tanh" : "none"); }); }
ct_tensor_t ct_softmax(ct_tensor_t t, int64_t d) { return guard_t([&] { return at::softmax(T(t), d); }); }
ct_tensor_t ct_log_softmax(ct_tensor_t t, int64_t d) { return guard_t([&] { return at::log_softmax(T(t), d); }); }
ct_tensor_t ct_dropout(ct_tensor_t t, double p, int train) { return guard_t([&] { return at::dropout(T(t), p, train != 0); }); }

// ---- linear algebra / nn ----
ct_tensor_t ct_matmul(ct_tensor_t a, ct_tensor_t b) { return guard_t([&] { return matmul_impl(T(a), T(b)); }); }
ct_tensor_t ct_bmm(ct_tensor_t a, ct_tensor_t b) { return guard_t([&] { return ct_internal_bmm(T(a), T(b)); }); }
ct_tensor_t ct_linear(ct_tensor_t x, ct_tensor_t w, ct_tensor_t b) {
  return guard_t([&] {
    const auto &X = T(x), &W = T(w);
    if (W.dim() != 2 || X.dim() < 1 || X.size(-1) != W.size(1))
      throw std::invalid_argument("linear: input " + shape_str(X) + " does not match weight " + shape_str(W) +
                                  " (expected input [..., " + (W.dim() == 2 ? std::to_string(W.size(1)) : "?") + "])");
    if (b && (T(b).dim() != 1 || T(b).size(0) != W.size(0)))
      throw std::invalid_argument("linear: bias " + shape_str(T(b)) + " does not match weight " + shape_str(W));
    return at::linear(X, W, OPT(b));
  });
}
namespace {
thread_local bool g_conv_bfloat16 = false;
}
int ct_set_conv_bfloat16(int flag) {
  int previous = g_conv_bfloat16 ? 1 : 0;
  g_conv_bfloat16 = flag != 0;
  return previous;
}
int ct_conv_bfloat16(void) { return g_conv_bfloat16 ? 1 : 0; }

ct_tensor_t ct_conv2d(ct_tensor_t x, ct_tensor_t w, ct_tensor_t b, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                      int64_t dh, int64_t dw, int64_t groups) {
  return guard_t([&] {
    const auto &X = T(x), &W = T(w);
    if (g_conv_bfloat16 && X.scalar_type() == at::kFloat && W.scalar_type() == at::kFloat) {
      auto bias = b ? c10::optional<at::Tensor>(T(b).to(at::kBFloat16)) : c10::nullopt;
      // oneDNN's bfloat16 kernels work channels-last: cast and re-lay the input in one copy, and
      // return the output NCHW float32 in one copy.
      const auto cl = at::MemoryFormat::ChannelsLast;
      return at::conv2d(X.to(at::kBFloat16, false, false, cl), W.to(at::kBFloat16, false, false, cl), bias,
                        {sh, sw}, {ph, pw}, {dh, dw}, groups)
          .to(at::kFloat, false, false, at::MemoryFormat::Contiguous);
    }
    return at::conv2d(X, W, OPT(b), {sh, sw}, {ph, pw}, {dh, dw}, groups);
  });
}
ct_tensor_t ct_group_norm(ct_tensor_t x, int64_t g, ct_tensor_t w, ct_tensor_t b, double eps) {
  return guard_t([&] {
    // GroupNorm of a channels-last tensor is ~5x slower in this libtorch than of an NCHW copy
    // ([64, 128, 8, 8]: 3.3 ms vs 0.68 ms), so such an input is normalised as NCHW.
    const auto &input = T(x);
    bool channels_last = input.dim() == 4 && !input.is_contiguous() && input.is_contiguous(at::MemoryFormat::ChannelsLast);
    return at::group_norm(channels_last ? input.contiguous() : input, g, OPT(w), OPT(b), eps, false);
  });
}
ct_tensor_t ct_layer_norm(ct_tensor_t x, const int64_t *ns, int nd, ct_tensor_t w, ct_tensor_t b, double eps) {
  return guard_t([&] { return at::layer_norm(T(x), dims(ns, nd), OPT(w), OPT(b), eps, false); });
}
ct_tensor_t ct_pixel_shuffle(ct_tensor_t x, int64_t r) { return guard_t([&] { return at::pixel_shuffle(T(x), r); }); }
ct_tensor_t ct_pixel_unshuffle(ct_tensor_t x, int64_t r) { return guard_t([&] { return at::pixel_unshuffle(T(x), r); }); }
ct_tensor_t ct_upsample_nearest2d(ct_tensor_t x, int64_t oh, int64_t ow) {
  return guard_t([&] {
    std::vector<int64_t> os{oh, ow};
    return at::upsample_nearest2d(T(x), at::IntArrayRef(os), c10::optional<double>(), c10::optional<double>());
  });
}
ct_tensor_t ct_avg_pool2d(ct_tensor_t x, int64_t k, int64_t s) {
  return guard_t([&] { return at::avg_pool2d(T(x), {k, k}, {s, s}); });
}
ct_tensor_t ct_embedding(ct_tensor_t w, ct_tensor_t idx) { return guard_t([&] { return at::embedding(T(w), T(idx)); }); }
ct_tensor_t ct_causal_mask(int64_t tq, int64_t tk) { return guard_t([&] { return causal_mask(tq, tk, device()); }); }
ct_tensor_t ct_attention(ct_tensor_t q, ct_tensor_t k, ct_tensor_t v, ct_tensor_t mask, int causal, int64_t group,
                         int64_t band, double scale) {
  return guard_t([&] {
    const auto &Q = T(q), &K = T(k), &V = T(v);
    if (Q.dim() < 2 || K.dim() != Q.dim() || V.dim() != Q.dim() || Q.size(-1) != K.size(-1) ||
        K.size(-2) != V.size(-2))
      throw std::invalid_argument("attention: incompatible q " + shape_str(Q) + ", k " + shape_str(K) + ", v " +
                                  shape_str(V));
    if (band < 0 || (band > 0 && (group < 1 || !causal)))
      throw std::invalid_argument("attention: a band of " + std::to_string(band) + " groups of " +
                                  std::to_string(group) + " needs groups of at least 1 and a causal mask");
    const double s = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(Q.size(-1)));
    // [..., T, d] -> [B, T, d] for the batch-parallel bmm
    auto flat = [](const at::Tensor &x) { return x.reshape({-1, x.size(-2), x.size(-1)}); };
    std::vector<int64_t> lead(Q.sizes().begin(), Q.sizes().end() - 2);
    if (ct_internal_fused_attention_applies(Q, K, V, mask != nullptr, causal != 0)) {
      std::vector<int64_t> oshape = lead;
      oshape.push_back(Q.size(-2));
      oshape.push_back(V.size(-1));
      return ct_internal_fused_attention(flat(Q), flat(K), flat(V), s, causal != 0, group, band).view(oshape);
    }
    auto scores3 = ct_internal_bmm(flat(Q), flat(K).transpose(1, 2)) * s;
    std::vector<int64_t> sshape = lead;
    sshape.push_back(Q.size(-2));
    sshape.push_back(K.size(-2));
    auto scores = scores3.view(sshape);
    const double ninf = -std::numeric_limits<double>::infinity();
    if (causal) {
      const auto keep = band > 0 ? band_mask(Q.size(-2), K.size(-2), group, band, Q.device())
                                 : causal_mask(Q.size(-2), K.size(-2), Q.device());
      scores = scores.masked_fill(keep.logical_not(), ninf);
    }
    if (mask) scores = scores.masked_fill(T(mask).logical_not(), ninf);
    auto probs = at::softmax(scores, -1);
    auto out = ct_internal_bmm(flat(probs), flat(V));
    std::vector<int64_t> oshape = lead;
    oshape.push_back(Q.size(-2));
    oshape.push_back(V.size(-1));
    return out.view(oshape);
  });
}

// ---- reductions / indexing ----
ct_tensor_t ct_sum_all(ct_tensor_t t) { return guard_t([&] { return T(t).sum(); }); }
ct_tensor_t ct_mean_all(ct_tensor_t t) { return guard_t([&] { return T(t).mean(); }); }
ct_tensor_t ct_sum_dims(ct_tensor_t t, const int64_t *d, int n, int keep) {
  return guard_t([&] { return T(t).sum(dims(d, n), keep != 0); });
}
ct_tensor_t ct_mean_dims(ct_tensor_t t, const int64_t *d, int n, int keep) {
  return guard_t([&] { return T(t).mean(dims(d, n), keep != 0); });
}
ct_tensor_t ct_max_all(ct_tensor_t t) { return guard_t([&] { return T(t).max(); }); }
ct_tensor_t ct_min_all(ct_tensor_t t) { return guard_t([&] { return T(t).min(); }); }
int ct_max_dim(ct_tensor_t t, int64_t dim, int keep, ct_tensor_t *values, ct_tensor_t *indices) {
  return guard_i([&] {
    auto r = T(t).max(dim, keep != 0);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  });
}
ct_tensor_t ct_argmax(ct_tensor_t t, int64_t d, int keep) { return guard_t([&] { return T(t).argmax(d, keep != 0); }); }
ct_tensor_t ct_argmin(ct_tensor_t t, int64_t d, int keep) { return guard_t([&] { return T(t).argmin(d, keep != 0); }); }
ct_tensor_t ct_gather(ct_tensor_t t, int64_t d, ct_tensor_t i) { return guard_t([&] { return at::gather(T(t), d, T(i)); }); }
ct_tensor_t ct_scatter(ct_tensor_t t, int64_t d, ct_tensor_t i, ct_tensor_t s) {
  return guard_t([&] { return at::scatter(T(t), d, T(i), T(s)); });
}
ct_tensor_t ct_scatter_add(ct_tensor_t t, int64_t d, ct_tensor_t i, ct_tensor_t s) {
  return guard_t([&] { return at::scatter_add(T(t), d, T(i), T(s)); });
}
ct_tensor_t ct_index_add(ct_tensor_t t, int64_t d, ct_tensor_t i, ct_tensor_t s) {
  return guard_t([&] { return at::index_add(T(t), d, T(i), T(s)); });
}
ct_tensor_t ct_one_hot(ct_tensor_t i, int64_t n) { return guard_t([&] { return at::one_hot(T(i), n); }); }
ct_tensor_t ct_bincount(ct_tensor_t i, int64_t minlength) {
  return guard_t([&] { return at::bincount(T(i), c10::nullopt, minlength); });
}
int ct_topk(ct_tensor_t t, int64_t k, int64_t dim, int largest, ct_tensor_t *values, ct_tensor_t *indices) {
  return guard_i([&] {
    auto r = at::topk(T(t), k, dim, largest != 0, true);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  });
}
ct_tensor_t ct_multinomial(ct_tensor_t p, int64_t n, int repl) {
  return guard_t([&] { return at::multinomial(T(p), n, repl != 0); });
}
ct_tensor_t ct_nonzero(ct_tensor_t t) { return guard_t([&] { return at::nonzero(T(t)); }); }
ct_tensor_t ct_isfinite(ct_tensor_t t) { return guard_t([&] { return at::isfinite(T(t)); }); }
ct_tensor_t ct_logsumexp(ct_tensor_t t, int64_t dim, int keep) {
  return guard_t([&] { return at::logsumexp(T(t), {dim}, keep != 0); });
}
ct_tensor_t ct_var(ct_tensor_t t, const int64_t *d, int n, int unbiased, int keep) {
  return guard_t([&] { return at::var(T(t), dims(d, n), unbiased != 0, keep != 0); });
}
ct_tensor_t ct_cumsum(ct_tensor_t t, int64_t d) { return guard_t([&] { return at::cumsum(T(t), d); }); }
ct_tensor_t ct_sort(ct_tensor_t t, int64_t dim, int desc, ct_tensor_t *indices_out) {
  ct_tensor_t idx = nullptr;
  ct_tensor_t r = guard_t([&] {
    auto s = at::sort(T(t), dim, desc != 0);
    if (indices_out) idx = wrap(std::get<1>(s));
    return std::get<0>(s);
  });
  if (indices_out) {
    if (r) *indices_out = idx;
    else { ct_free(idx); *indices_out = nullptr; }
  }
  return r;
}

// ---- losses ----
ct_tensor_t ct_mse_loss(ct_tensor_t a, ct_tensor_t b, int red) { return guard_t([&] { return at::mse_loss(T(a), T(b), red); }); }
ct_tensor_t ct_l1_loss(ct_tensor_t a, ct_tensor_t b, int red) { return guard_t([&] { return at::l1_loss(T(a), T(b), red); }); }
ct_tensor_t ct_cross_entropy(ct_tensor_t logits, ct_tensor_t target, int64_t ignore, double ls, int red) {
  return guard_t([&] { return at::cross_entropy_loss(T(logits), T(target), c10::nullopt, red, ignore, ls); });
}

// ---- autograd ----
ct_tensor_t ct_detach(ct_tensor_t t) { return guard_t([&] { return T(t).detach(); }); }
int ct_set_requires_grad(ct_tensor_t t, int f) { return guard_i([&] { T(t).set_requires_grad(f != 0); }); }
int ct_requires_grad(ct_tensor_t t) {
  int r = -1;
  guard_i([&] { r = T(t).requires_grad() ? 1 : 0; });
  return r;
}
int ct_grad(ct_tensor_t t, ct_tensor_t *out) {
  *out = nullptr;
  return guard_i([&] {
    const auto &g = T(t).grad();
    if (g.defined()) *out = wrap(g);
  });
}
int ct_zero_grad(ct_tensor_t t) { return guard_i([&] { T(t).mutable_grad().reset(); }); }
int ct_backward(ct_tensor_t t, ct_tensor_t g, int retain) {
  return guard_i([&] {
    const auto &x = T(t);
    if (!g && x.numel() != 1)
      throw std::invalid_argument("backward: gradient can be implicitly created only for scalar outputs, got shape " +
                                  shape_str(x));
    x.backward(g ? T(g) : at::Tensor(), c10::optional<bool>(retain != 0), false);
  });
}
int ct_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
int ct_set_grad_enabled(int f) {
  int prev = c10::GradMode::is_enabled() ? 1 : 0;
  c10::GradMode::set_enabled(f != 0);
  return prev;
}

// ---- in-place ----
int ct_add_(ct_tensor_t t, ct_tensor_t o, double alpha) { return guard_i([&] { T(t).add_(T(o), alpha); }); }
int ct_mul_(ct_tensor_t t, ct_tensor_t o) { return guard_i([&] { T(t).mul_(T(o)); }); }
int ct_add_scalar_(ct_tensor_t t, double s) { return guard_i([&] { T(t).add_(s); }); }
int ct_mul_scalar_(ct_tensor_t t, double s) { return guard_i([&] { T(t).mul_(s); }); }
int ct_addcmul_(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double v) { return guard_i([&] { T(t).addcmul_(T(a), T(b), v); }); }
int ct_addcdiv_(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double v) { return guard_i([&] { T(t).addcdiv_(T(a), T(b), v); }); }
int ct_lerp_(ct_tensor_t t, ct_tensor_t e, double w) { return guard_i([&] { T(t).lerp_(T(e), w); }); }
int ct_copy_(ct_tensor_t d, ct_tensor_t s) { return guard_i([&] { T(d).copy_(T(s)); }); }
int ct_zero_(ct_tensor_t t) { return guard_i([&] { T(t).zero_(); }); }
int ct_fill_(ct_tensor_t t, double v) { return guard_i([&] { T(t).fill_(v); }); }
int ct_uniform_(ct_tensor_t t, double lo, double hi) {
  return guard_i([&] { drawn_on_cpu(T(t), [&](const at::Tensor &x) { return x.uniform_(lo, hi); }); });
}
int ct_normal_(ct_tensor_t t, double m, double s) {
  return guard_i([&] { drawn_on_cpu(T(t), [&](const at::Tensor &x) { return x.normal_(m, s); }); });
}

// ---- optimizer helpers ----
int ct_adamw_step(ct_tensor_t param, ct_tensor_t grad, ct_tensor_t m, ct_tensor_t v, double lr, double b1, double b2,
                  double eps, double wd, int64_t step) {
  return guard_i([&] {
    at::NoGradGuard ng;
    const auto &p = T(param), &g = T(grad), &M = T(m), &V = T(v);
    if (step < 1) throw std::invalid_argument("adamw_step: step must be >= 1, got " + std::to_string(step));
    if (!p.sizes().equals(g.sizes()) || !p.sizes().equals(M.sizes()) || !p.sizes().equals(V.sizes()))
      throw std::invalid_argument("adamw_step: shapes differ: param " + shape_str(p) + ", grad " + shape_str(g) +
                                  ", exp_avg " + shape_str(M) + ", exp_avg_sq " + shape_str(V));
    if (wd != 0) p.mul_(1.0 - lr * wd);
    M.lerp_(g, 1.0 - b1);
    V.mul_(b2).addcmul_(g, g, 1.0 - b2);
    const double bc1 = 1.0 - std::pow(b1, static_cast<double>(step));
    const double bc2 = 1.0 - std::pow(b2, static_cast<double>(step));
    auto denom = (V.sqrt() / std::sqrt(bc2)).add_(eps);
    p.addcdiv_(M, denom, -lr / bc1);
  });
}
int ct_clip_grad_norm(const ct_tensor_t *params, int n, double max_norm, double *total_norm) {
  return guard_i([&] {
    at::NoGradGuard ng;
    std::vector<at::Tensor> grads, norms;
    for (int i = 0; i < n; i++) {
      const auto &g = T(params[i]).grad();
      if (!g.defined()) continue;
      grads.push_back(g);
      norms.push_back(g.to(at::kDouble).pow(2).sum());
    }
    double total = norms.empty() ? 0.0 : std::sqrt(at::stack(norms).sum().item<double>());
    if (total_norm) *total_norm = total;
    if (max_norm > 0 && std::isfinite(total)) {
      const double coef = max_norm / (total + 1e-6);
      if (coef < 1.0)
        for (auto &g : grads) g.mul_(coef);
    }
  });
}

// ---- global state ----
int ct_manual_seed(uint64_t seed) {
  return guard_i([&] {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
    if (g_device_type.load() == 1) {  // what ops draw on the GPU (dropout): its own generator, seeded alike
      auto gpu = at::globalContext().defaultGenerator(device());
      std::lock_guard<std::mutex> gpu_lock(gpu.mutex());
      gpu.set_current_seed(seed);
    }
  });
}
int ct_set_num_threads(int n) { return guard_i([&] { at::set_num_threads(n); }); }
int ct_set_device(int type, int index) {
  return guard_i([&] {
    if (type == 0) {
      g_device_type.store(0);
      return;
    }
    if (type != 1) throw std::invalid_argument("ctorch: unknown device type " + std::to_string(type));
    // A libtorch with CUDA registers it from libtorch_cuda.so, which a linker dropping unused
    // libraries leaves out: load it (its RUNPATH or the executable's finds it) before asking.
    const bool loaded = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL) != nullptr;
    if (!loaded && !at::hasCUDA())
      throw std::runtime_error("this framecast is built against a libtorch without CUDA (libtorch " +
                               std::string(TORCH_VERSION) +
                               "); build it against PyPI's torch with FRAMECAST_LIBTORCH (README) for a GPU");
    const int count = static_cast<int>(at::getNumGPUs());
    if (!at::hasCUDA() || count == 0) throw std::runtime_error("libtorch " + std::string(TORCH_VERSION) + " sees no CUDA device");
    if (index < 0 || index >= count)
      throw std::runtime_error("no CUDA device " + std::to_string(index) + " (libtorch sees " + std::to_string(count) + ")");
    g_device_index.store(index);
    g_device_type.store(1);
  });
}
int ct_device_type(void) { return g_device_type.load(); }

int ct_tune_allocator(long mmap_threshold, long trim_threshold, long top_pad) {
#if defined(__GLIBC__)
    return mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)) == 1 && mallopt(M_TRIM_THRESHOLD, int(trim_threshold)) == 1 &&
           mallopt(M_TOP_PAD, int(top_pad)) == 1;
#else
    (void)mmap_threshold; (void)trim_threshold; (void)top_pad;
    return 0;
#endif
}
int ct_get_num_threads(void) { return at::get_num_threads(); }
const char *ct_config(void) {
  static std::string cfg;
  static std::once_flag once;
  try {
    std::call_once(once, [] { cfg = at::show_config(); });
  } catch (...) {
  }
  return cfg.c_str();
}

}  // extern "C"

// distributed.cpp's entry points run under the same guard (and error message) as every other.
int ct_internal_guarded(const std::function<void()> &body) { return guard_i(body); }
