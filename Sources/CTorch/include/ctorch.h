// ctorch.h — a plain C API over libtorch (ATen) *ops*. No models, no training loops.
//
// Conventions
// - Every tensor is an opaque, heap-allocated handle owned by the caller; free it exactly once
//   with ct_free(). Functions never take ownership of their arguments.
// - Functions returning ct_tensor_t return NULL on failure; functions returning int return 0 on
//   success and -1 on failure. After a failure, ct_last_error() (thread-local) holds libtorch's
//   message. No C++ exception ever crosses this boundary.
// - Shapes are passed as (const int64_t *shape, int ndim). Dims may be negative (PyTorch-style).
// - Optional tensor arguments may be NULL.
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor *ct_tensor_t;

// dtype codes (stable; also used by the safetensors layer)
enum {
  CT_F32 = 0, CT_F64 = 1, CT_I64 = 2, CT_I32 = 3, CT_U8 = 4, CT_F16 = 5,
  CT_BOOL = 6, CT_I16 = 7, CT_BF16 = 8, CT_I8 = 9
};
// reductions for losses
enum { CT_REDUCE_NONE = 0, CT_REDUCE_MEAN = 1, CT_REDUCE_SUM = 2 };

// ---- errors, lifetime, debug counters ----
const char *ct_last_error(void);
void ct_clear_error(void);
void ct_free(ct_tensor_t t);
int64_t ct_live_tensors(void);                       // handles currently alive
void ct_debug_counts(int64_t *created, int64_t *freed);
ct_tensor_t ct_alias(ct_tensor_t t);                 // new handle, same storage & autograd node
ct_tensor_t ct_clone(ct_tensor_t t);                 // deep copy (differentiable)
size_t ct_dtype_size(int dtype);                     // bytes per element, 0 if unknown

// ---- creation ----
ct_tensor_t ct_from_buffer(const void *data, size_t nbytes, int dtype, const int64_t *shape, int ndim);
int ct_to_buffer(ct_tensor_t t, int dtype, void *out, size_t nbytes); // converts to dtype, C order
ct_tensor_t ct_zeros(const int64_t *shape, int ndim, int dtype);
ct_tensor_t ct_ones(const int64_t *shape, int ndim, int dtype);
ct_tensor_t ct_full(const int64_t *shape, int ndim, double value, int dtype);
ct_tensor_t ct_randn(const int64_t *shape, int ndim, int dtype);
ct_tensor_t ct_rand(const int64_t *shape, int ndim, int dtype);     // U[0,1)
ct_tensor_t ct_uniform(const int64_t *shape, int ndim, double lo, double hi, int dtype);
ct_tensor_t ct_randint(int64_t low, int64_t high, const int64_t *shape, int ndim, int dtype);
ct_tensor_t ct_randperm(int64_t n);
ct_tensor_t ct_arange(double start, double end, double step, int dtype);
ct_tensor_t ct_scalar_tensor(double value, int dtype);

// ---- info ----
int ct_ndim(ct_tensor_t t);                          // -1 on error
int ct_shape(ct_tensor_t t, int64_t *out, int cap);  // writes min(ndim,cap) sizes, returns ndim
int ct_dtype(ct_tensor_t t);
int64_t ct_numel(ct_tensor_t t);
int ct_item(ct_tensor_t t, double *out);             // single-element tensor -> double
int ct_is_contiguous(ct_tensor_t t);

// ---- dtype / shape ----
ct_tensor_t ct_to_dtype(ct_tensor_t t, int dtype);
ct_tensor_t ct_reshape(ct_tensor_t t, const int64_t *shape, int ndim);
ct_tensor_t ct_view(ct_tensor_t t, const int64_t *shape, int ndim);
ct_tensor_t ct_permute(ct_tensor_t t, const int64_t *dims, int ndim);
ct_tensor_t ct_transpose(ct_tensor_t t, int64_t d0, int64_t d1);
ct_tensor_t ct_contiguous(ct_tensor_t t);
// 4-D tensor stored NHWC (PyTorch's channels_last); same values and shape. oneDNN convolutions
// of such inputs skip a layout reorder and return channels-last outputs.
ct_tensor_t ct_channels_last(ct_tensor_t t);
int ct_is_channels_last(ct_tensor_t t);
ct_tensor_t ct_slice(ct_tensor_t t, int64_t dim, int64_t start, int64_t end, int64_t step);
ct_tensor_t ct_narrow(ct_tensor_t t, int64_t dim, int64_t start, int64_t length);
ct_tensor_t ct_select(ct_tensor_t t, int64_t dim, int64_t index);
ct_tensor_t ct_index_select(ct_tensor_t t, int64_t dim, ct_tensor_t index);
ct_tensor_t ct_cat(const ct_tensor_t *ts, int n, int64_t dim);
ct_tensor_t ct_stack(const ct_tensor_t *ts, int n, int64_t dim);
ct_tensor_t ct_expand(ct_tensor_t t, const int64_t *shape, int ndim);
ct_tensor_t ct_repeat(ct_tensor_t t, const int64_t *repeats, int ndim);
ct_tensor_t ct_unsqueeze(ct_tensor_t t, int64_t dim);
ct_tensor_t ct_squeeze(ct_tensor_t t, int64_t dim);
ct_tensor_t ct_squeeze_all(ct_tensor_t t);
ct_tensor_t ct_flatten(ct_tensor_t t, int64_t start_dim, int64_t end_dim);
ct_tensor_t ct_tril(ct_tensor_t t, int64_t diagonal);
ct_tensor_t ct_triu(ct_tensor_t t, int64_t diagonal);

// ---- elementwise ----
ct_tensor_t ct_add(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_sub(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_mul(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_div(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_pow(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_maximum(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_minimum(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_add_scalar(ct_tensor_t a, double s);
ct_tensor_t ct_sub_scalar(ct_tensor_t a, double s);
ct_tensor_t ct_rsub_scalar(ct_tensor_t a, double s); // s - a
ct_tensor_t ct_mul_scalar(ct_tensor_t a, double s);
ct_tensor_t ct_div_scalar(ct_tensor_t a, double s);
ct_tensor_t ct_rdiv_scalar(ct_tensor_t a, double s); // s / a
ct_tensor_t ct_pow_scalar(ct_tensor_t a, double e);
ct_tensor_t ct_clamp(ct_tensor_t t, double lo, double hi, int has_lo, int has_hi);
ct_tensor_t ct_addcmul(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double value); // t + value * a * b (broadcasting)
// comparisons -> bool tensors. op: 0 eq, 1 ne, 2 lt, 3 le, 4 gt, 5 ge
ct_tensor_t ct_compare(ct_tensor_t a, ct_tensor_t b, int op);
ct_tensor_t ct_compare_scalar(ct_tensor_t a, double s, int op);
ct_tensor_t ct_logical_not(ct_tensor_t t);
ct_tensor_t ct_where(ct_tensor_t cond, ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_masked_fill(ct_tensor_t t, ct_tensor_t mask, double value);

// unary (all differentiable where PyTorch's are)
ct_tensor_t ct_neg(ct_tensor_t t);
ct_tensor_t ct_sqrt(ct_tensor_t t);
ct_tensor_t ct_rsqrt(ct_tensor_t t);
ct_tensor_t ct_exp(ct_tensor_t t);
ct_tensor_t ct_log(ct_tensor_t t);
ct_tensor_t ct_abs(ct_tensor_t t);
ct_tensor_t ct_square(ct_tensor_t t);
ct_tensor_t ct_sin(ct_tensor_t t);
ct_tensor_t ct_cos(ct_tensor_t t);
ct_tensor_t ct_floor(ct_tensor_t t);
ct_tensor_t ct_round(ct_tensor_t t);
ct_tensor_t ct_relu(ct_tensor_t t);
ct_tensor_t ct_gelu(ct_tensor_t t, int tanh_approx);
ct_tensor_t ct_silu(ct_tensor_t t);
ct_tensor_t ct_sigmoid(ct_tensor_t t);
ct_tensor_t ct_tanh(ct_tensor_t t);
ct_tensor_t ct_softmax(ct_tensor_t t, int64_t dim);
ct_tensor_t ct_log_softmax(ct_tensor_t t, int64_t dim);
ct_tensor_t ct_dropout(ct_tensor_t t, double p, int train);

// ---- linear algebra / nn ----
// matmul: PyTorch semantics (errors name both shapes). float32 GEMMs run in oneDNN, see below.
ct_tensor_t ct_matmul(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_linear(ct_tensor_t x, ct_tensor_t w, ct_tensor_t b_or_null); // y = x w^T + b
// [B, M, K] x [B, K, N]: float32 with >= 2 threads splits the batch across threads (own backward).
ct_tensor_t ct_bmm(ct_tensor_t a, ct_tensor_t b);
ct_tensor_t ct_conv2d(ct_tensor_t x, ct_tensor_t w, ct_tensor_t b_or_null,
                      int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
                      int64_t dil_h, int64_t dil_w, int64_t groups);
// While set (thread-local, like grad mode), float32 convolutions compute in bfloat16: input,
// weight and bias are rounded to bfloat16, the output comes back as float32 (the casts are part
// of the autograd graph, so gradients reach the float32 parameters). Returns the previous flag.
int ct_set_conv_bfloat16(int flag);
int ct_conv_bfloat16(void);
ct_tensor_t ct_group_norm(ct_tensor_t x, int64_t groups, ct_tensor_t w_or_null, ct_tensor_t b_or_null, double eps);
ct_tensor_t ct_layer_norm(ct_tensor_t x, const int64_t *normalized_shape, int nd,
                          ct_tensor_t w_or_null, ct_tensor_t b_or_null, double eps);
ct_tensor_t ct_pixel_shuffle(ct_tensor_t x, int64_t r);
ct_tensor_t ct_pixel_unshuffle(ct_tensor_t x, int64_t r);
ct_tensor_t ct_upsample_nearest2d(ct_tensor_t x, int64_t out_h, int64_t out_w);
ct_tensor_t ct_avg_pool2d(ct_tensor_t x, int64_t k, int64_t stride);
ct_tensor_t ct_embedding(ct_tensor_t weight, ct_tensor_t indices);
// scaled dot-product attention from matmul+softmax. q,k,v: [..., T, d]. mask (bool, true = keep)
// broadcastable to [..., Tq, Tk], or NULL; causal adds a lower-triangular mask
// aligned to the end (query i sees keys <= i + Tk - Tq). band > 0 (causal only) also hides the keys
// before the start of the group of `group` key positions band - 1 groups before the query's own
// (key positions counted from 0; a prior's frames of tokens); band 0 = none. scale <= 0 means 1/sqrt(d).
ct_tensor_t ct_attention(ct_tensor_t q, ct_tensor_t k, ct_tensor_t v, ct_tensor_t mask_or_null,
                         int causal, int64_t group, int64_t band, double scale);
ct_tensor_t ct_causal_mask(int64_t tq, int64_t tk);  // bool [tq, tk], true = may attend

// ---- reductions / indexing ----
ct_tensor_t ct_sum_all(ct_tensor_t t);
ct_tensor_t ct_mean_all(ct_tensor_t t);
ct_tensor_t ct_sum_dims(ct_tensor_t t, const int64_t *dims, int n, int keepdim);
ct_tensor_t ct_mean_dims(ct_tensor_t t, const int64_t *dims, int n, int keepdim);
ct_tensor_t ct_max_all(ct_tensor_t t);
ct_tensor_t ct_min_all(ct_tensor_t t);
int ct_max_dim(ct_tensor_t t, int64_t dim, int keepdim, ct_tensor_t *values, ct_tensor_t *indices);
ct_tensor_t ct_argmax(ct_tensor_t t, int64_t dim, int keepdim);
ct_tensor_t ct_argmin(ct_tensor_t t, int64_t dim, int keepdim);
ct_tensor_t ct_gather(ct_tensor_t t, int64_t dim, ct_tensor_t index);
ct_tensor_t ct_scatter(ct_tensor_t t, int64_t dim, ct_tensor_t index, ct_tensor_t src);
ct_tensor_t ct_scatter_add(ct_tensor_t t, int64_t dim, ct_tensor_t index, ct_tensor_t src);
ct_tensor_t ct_index_add(ct_tensor_t t, int64_t dim, ct_tensor_t index, ct_tensor_t src);
ct_tensor_t ct_one_hot(ct_tensor_t indices, int64_t num_classes);          // int64 result
ct_tensor_t ct_bincount(ct_tensor_t indices, int64_t minlength);
int ct_topk(ct_tensor_t t, int64_t k, int64_t dim, int largest, ct_tensor_t *values, ct_tensor_t *indices);
ct_tensor_t ct_multinomial(ct_tensor_t probs, int64_t n, int replacement);
ct_tensor_t ct_cumsum(ct_tensor_t t, int64_t dim);
ct_tensor_t ct_nonzero(ct_tensor_t t);                       // int64 [n, ndim]
ct_tensor_t ct_isfinite(ct_tensor_t t);                      // bool
ct_tensor_t ct_logsumexp(ct_tensor_t t, int64_t dim, int keepdim);
ct_tensor_t ct_var(ct_tensor_t t, const int64_t *dims, int n, int unbiased, int keepdim);
ct_tensor_t ct_sort(ct_tensor_t t, int64_t dim, int descending, ct_tensor_t *indices_out);

// ---- losses ----
ct_tensor_t ct_mse_loss(ct_tensor_t a, ct_tensor_t b, int reduction);
ct_tensor_t ct_l1_loss(ct_tensor_t a, ct_tensor_t b, int reduction);
// logits [N, C] or [N, C, d...]; target int64 [N] / [N, d...]
ct_tensor_t ct_cross_entropy(ct_tensor_t logits, ct_tensor_t target, int64_t ignore_index,
                             double label_smoothing, int reduction);

// ---- autograd ----
ct_tensor_t ct_detach(ct_tensor_t t);
int ct_set_requires_grad(ct_tensor_t t, int flag);
int ct_requires_grad(ct_tensor_t t);                 // 1/0, -1 on error
int ct_grad(ct_tensor_t t, ct_tensor_t *out);        // *out = NULL if no grad yet
int ct_zero_grad(ct_tensor_t t);                     // drops .grad (set_to_none)
int ct_backward(ct_tensor_t t, ct_tensor_t grad_or_null, int retain_graph);
int ct_grad_enabled(void);
int ct_set_grad_enabled(int flag);                   // returns previous flag (thread-local)

// ---- in-place (for optimizers; run them with grad disabled or on non-leaf tensors) ----
int ct_add_(ct_tensor_t t, ct_tensor_t other, double alpha);
int ct_mul_(ct_tensor_t t, ct_tensor_t other);
int ct_add_scalar_(ct_tensor_t t, double s);
int ct_mul_scalar_(ct_tensor_t t, double s);
int ct_addcmul_(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double value);
int ct_addcdiv_(ct_tensor_t t, ct_tensor_t a, ct_tensor_t b, double value);
int ct_lerp_(ct_tensor_t t, ct_tensor_t end, double weight);
int ct_copy_(ct_tensor_t dst, ct_tensor_t src);
int ct_zero_(ct_tensor_t t);
int ct_fill_(ct_tensor_t t, double value);
int ct_uniform_(ct_tensor_t t, double lo, double hi);
int ct_normal_(ct_tensor_t t, double mean, double std);

// ---- optimizer helpers (no-grad, in place) ----
// PyTorch AdamW (amsgrad = false); step is 1-based.
int ct_adamw_step(ct_tensor_t param, ct_tensor_t grad, ct_tensor_t exp_avg, ct_tensor_t exp_avg_sq,
                  double lr, double beta1, double beta2, double eps, double weight_decay, int64_t step);
// global L2 norm over the .grad of n tensors (those without grad are skipped); if max_norm > 0,
// scales the grads by min(1, max_norm / (norm + 1e-6)). Writes the pre-clip norm.
int ct_clip_grad_norm(const ct_tensor_t *params, int n, double max_norm, double *total_norm);

// ---- global state ----
int ct_manual_seed(uint64_t seed);
int ct_set_num_threads(int n);
// The device new tensors are made on (creation, from_buffer; random draws are made on the CPU and
// moved, so a seed gives the same numbers on either): 0 = CPU (the default), 1 = CUDA device
// `index`. Returns -1 with ct_last_error set when this libtorch has no CUDA or sees no such device.
// Set it once, before any tensor is made. to_buffer copies back from any device.
int ct_set_device(int type, int index);
int ct_device_type(void);                            // 0 CPU, 1 CUDA
// glibc's allocator keeps freed blocks (up to mmap_threshold bytes) in the process: serves them
// from the heap, trims the heap only above trim_threshold, grows it by top_pad extra. Returns 1
// when every setting was accepted (always 0 without glibc).
int ct_tune_allocator(long mmap_threshold, long trim_threshold, long top_pad);
int ct_get_num_threads(void);
const char *ct_config(void);                         // at::show_config()

// ---- float32 GEMM routing (blas_onednn.cpp) ----
// libtorch's `sgemm_` calls are served by oneDNN's dnnl_sgemm instead of the reference BLAS.
int ct_set_blas_override(int on);                    // returns the previous setting (default 1)
void ct_blas_counts(int64_t *routed, int64_t *fallback);  // sgemm_ calls served by oneDNN / by BLAS
// GEMMs with m*n*k below this run single-threaded (default 2^24). Returns the previous value.
int64_t ct_set_gemm_serial_threshold(int64_t mnk);

// ---- fused attention (attention.cpp) ----
// float32 ct_attention without a mask runs one fused kernel per (batch, head) slice with its own
// backward (default 1); 0 selects the composite ops (bmm, masked_fill, softmax). Returns the previous.
int ct_set_fused_attention(int on);
int64_t ct_fused_attention_calls(void);              // forward calls served by the fused kernel

// ---- data parallelism: c10d process groups with Gloo (distributed.cpp) ----
typedef struct ct_group *ct_group_t;
// Joins a group of `world` processes through a TCP store at host:port that rank 0 serves; waits
// for all of them (up to timeout_ms). NULL on failure. GLOO_SOCKET_IFNAME picks the interface.
ct_group_t ct_group_join(const char *host, int port, int rank, int world, int64_t timeout_ms);
int ct_group_allreduce_sum(ct_group_t g, ct_tensor_t *tensors, int n);   // in place, one dtype
int ct_group_broadcast(ct_group_t g, ct_tensor_t *tensors, int n, int root);   // in place
int ct_group_barrier(ct_group_t g);
void ct_group_free(ct_group_t g);

#ifdef __cplusplus
}
#endif
#endif
