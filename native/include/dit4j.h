/*
 * dit4j.h — the pure C boundary between Java (FFM, via jextract) and libtorch.
 *
 * Conventions (every entry point is noexcept; no C++ exception ever crosses this line):
 *  - Functions returning a handle return NULL on failure.
 *  - Functions returning int32_t return 0 on success and -1 on failure
 *    (counting functions return a count >= 0, or -1).
 *  - After a failure, dt_last_error() / dt_last_error_kind() describe it (thread-local).
 *  - Optional tensor arguments accept NULL ("none").
 *  - dtype codes are c10::ScalarType values (DT_DTYPE_*), device types are c10::DeviceType
 *    values (DT_DEVICE_*); a device index of -1 means "the current/default device".
 *  - Every dt_tensor returned must be released with dt_tensor_free exactly once.
 */
#ifndef DIT4J_H
#define DIT4J_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dt_tensor_s* dt_tensor;
typedef struct dt_generator_s* dt_generator;
typedef struct dt_process_group_s* dt_process_group;
typedef struct dt_work_s* dt_work;

/* ---- dtype and device codes ---------------------------------------------------------- */
enum dt_dtype {
  DT_DTYPE_UINT8 = 0, DT_DTYPE_INT8 = 1, DT_DTYPE_INT16 = 2, DT_DTYPE_INT32 = 3,
  DT_DTYPE_INT64 = 4, DT_DTYPE_FLOAT16 = 5, DT_DTYPE_FLOAT32 = 6, DT_DTYPE_FLOAT64 = 7,
  DT_DTYPE_BOOL = 11, DT_DTYPE_BFLOAT16 = 15
};
enum dt_device_type { DT_DEVICE_CPU = 0, DT_DEVICE_CUDA = 1 };

/* ---- errors -------------------------------------------------------------------------- */
enum dt_error_kind {
  DT_ERR_NONE = 0, DT_ERR_TORCH = 1, DT_ERR_INDEX = 2, DT_ERR_VALUE = 3, DT_ERR_TYPE = 4,
  DT_ERR_NOT_IMPLEMENTED = 5, DT_ERR_OUT_OF_MEMORY = 6, DT_ERR_STD = 7, DT_ERR_UNKNOWN = 8,
  DT_ERR_ARGUMENT = 9, DT_ERR_TIMEOUT = 10, DT_ERR_DISTRIBUTED = 11
};
/* Message of the last failure on this thread ("" if none); valid until the next failure. */
const char* dt_last_error(void);
int32_t dt_last_error_kind(void);
void dt_clear_error(void);

/* ---- runtime information ------------------------------------------------------------- */
const char* dt_torch_version(void);        /* the libtorch version this shim was compiled against */
int32_t dt_built_with_cuda(void);          /* 1 if the loaded libtorch has CUDA (libtorch_cuda loaded) */
const char* dt_torch_config(void);         /* at::show_config(), static storage */
int32_t dt_cuda_is_available(void);
int32_t dt_cuda_device_count(void);
/* Writes the device name (NUL-terminated, truncated to cap) into buf. */
int32_t dt_cuda_device_name(int32_t device, char* buf, int32_t cap);
/* (major, minor) compute capability into out[2]. */
int32_t dt_cuda_device_capability(int32_t device, int32_t* out);
int32_t dt_cudnn_is_available(void);
int64_t dt_cudnn_version(void);            /* as libtorch reports it, 0 when absent */
/* The cudaStream_t libtorch currently uses on device (for cuDNN handles), NULL on CPU builds. */
void* dt_cuda_current_stream(int32_t device);
int32_t dt_cuda_synchronize(int32_t device);
/* out[0..3] = allocated bytes now, peak allocated, reserved now, peak reserved. */
int32_t dt_cuda_memory_stats(int32_t device, int64_t* out);
int32_t dt_cuda_reset_peak_memory_stats(int32_t device);
int32_t dt_cuda_empty_cache(void);

/* CUDA graphs (src/cuda_graph.cpp says how they are driven). dt_cuda_graphs_supported: 1 if this
 * shim was built with them (a CUDA libtorch and the CUDA toolkit's headers at build time). */
typedef struct dt_cuda_graph_s* dt_cuda_graph;
int32_t dt_cuda_graphs_supported(void);
dt_cuda_graph dt_cuda_graph_new(int32_t device);     /* makes a side stream current until capture end */
int32_t dt_cuda_graph_register_generator(dt_cuda_graph g, dt_generator gen);
int32_t dt_cuda_graph_capture_begin(dt_cuda_graph g);
int32_t dt_cuda_graph_capture_end(dt_cuda_graph g);
int32_t dt_cuda_graph_replay(dt_cuda_graph g);      /* on the caller's current stream */
void dt_cuda_graph_free(dt_cuda_graph g);            /* ends an unfinished capture first */

/* libtorch's profiler around a region: start (cuda != 0: device activity too), then stop, which
 * writes out[0..5] = device kernels, device copies and fills, their summed device time in ns,
 * host (CPU) events, those of them that are ATen operators ("aten::*", nested ones included, as
 * torch.profiler lists them), and the top-level ones among those (called by no other ATen
 * operator: the operators that code, autograd nodes included, ran itself); and, when top is not NULL, the n_top device kernels by summed time as
 * "ms<TAB>calls<TAB>name" lines (NUL-terminated, truncated to cap). */
int32_t dt_profiler_start(int32_t cuda);
int32_t dt_profiler_stop(int64_t* out, char* top, int32_t cap, int32_t n_top);

/* CPU tensors' caching allocator (src/cpu_cache.cpp): freed blocks of 1 MiB and more are kept,
 * up to bytes in all, for the next tensor they fit; 0 frees them and keeps none. Installed on
 * the first call with bytes > 0. stats: out[0..4] = bytes kept, blocks kept, requests served
 * from kept blocks, large requests allocated fresh, the limit. */
int32_t dt_cpu_cache_set_limit(int64_t bytes);
int32_t dt_cpu_cache_stats(int64_t* out);

int32_t dt_set_num_threads(int32_t n);
int32_t dt_get_num_threads(void);
int32_t dt_manual_seed(uint64_t seed);     /* CPU and every CUDA device */

/* Number of dt_tensor handles alive (created and not yet freed). */
int64_t dt_live_tensors(void);

/* ---- generators ---------------------------------------------------------------------- */
dt_generator dt_generator_new(uint64_t seed, int32_t device_type, int32_t device_index);
void dt_generator_free(dt_generator g);
int32_t dt_generator_set_seed(dt_generator g, uint64_t seed);
/* The generator's state as a uint8 tensor; NULL g means the default generator of the device. */
dt_tensor dt_generator_get_state(dt_generator g, int32_t device_type, int32_t device_index);
int32_t dt_generator_set_state(dt_generator g, int32_t device_type, int32_t device_index, dt_tensor state);

/* ---- tensor metadata ----------------------------------------------------------------- */
void dt_tensor_free(dt_tensor t);
int32_t dt_tensor_dim(dt_tensor t);
/* Copies up to cap sizes/strides into out; returns dim. */
int32_t dt_tensor_sizes(dt_tensor t, int64_t* out, int32_t cap);
int32_t dt_tensor_strides(dt_tensor t, int64_t* out, int32_t cap);
int64_t dt_tensor_numel(dt_tensor t);
int32_t dt_tensor_dtype(dt_tensor t);
int32_t dt_tensor_device_type(dt_tensor t);
int32_t dt_tensor_device_index(dt_tensor t);
int32_t dt_tensor_is_contiguous(dt_tensor t);
int32_t dt_tensor_element_size(dt_tensor t);
int64_t dt_tensor_storage_offset(dt_tensor t);
/* Address of the first element (data_ptr); NULL for undefined tensors. */
void* dt_tensor_data_ptr(dt_tensor t);
int32_t dt_tensor_requires_grad(dt_tensor t);
int32_t dt_tensor_set_requires_grad(dt_tensor t, int32_t requires_grad);
int32_t dt_tensor_is_leaf(dt_tensor t);
/* 1 if t has a defined .grad, 0 if not. */
int32_t dt_tensor_has_grad(dt_tensor t);
dt_tensor dt_tensor_grad(dt_tensor t);
/* Replaces .grad (NULL clears it). */
int32_t dt_tensor_set_grad(dt_tensor t, dt_tensor grad);
/* Another handle to the same tensor (shares storage and autograd identity). */
dt_tensor dt_tensor_share(dt_tensor t);
int32_t dt_tensor_same(dt_tensor a, dt_tensor b);  /* 1 if both handles are the same tensor */
int32_t dt_item_double(dt_tensor t, double* out);
int32_t dt_item_int64(dt_tensor t, int64_t* out);

/* ---- creation ------------------------------------------------------------------------ */
dt_tensor dt_empty(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
dt_tensor dt_zeros(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
dt_tensor dt_ones(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index);
dt_tensor dt_full(const int64_t* sizes, int32_t ndim, double value, int32_t dtype, int32_t device_type, int32_t device_index);
dt_tensor dt_arange(double start, double end, double step, int32_t dtype, int32_t device_type, int32_t device_index);
dt_tensor dt_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t device_type, int32_t device_index);
/* Random creation; gen may be NULL (the device's default generator). */
dt_tensor dt_randn(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, dt_generator gen);
dt_tensor dt_rand(const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, dt_generator gen);
dt_tensor dt_randint(int64_t low, int64_t high, const int64_t* sizes, int32_t ndim, int32_t dtype, int32_t device_type, int32_t device_index, dt_generator gen);
dt_tensor dt_randperm(int64_t n, int32_t device_type, int32_t device_index, dt_generator gen);
/* In-place initialisers. */
int32_t dt_normal_(dt_tensor t, double mean, double std, dt_generator gen);
int32_t dt_uniform_(dt_tensor t, double low, double high, dt_generator gen);
int32_t dt_bernoulli_(dt_tensor t, double p, dt_generator gen);
/* Truncated normal: N(mean, std) restricted to [a, b] (as torch.nn.init.trunc_normal_). */
int32_t dt_trunc_normal_(dt_tensor t, double mean, double std, double a, double b, dt_generator gen);

/*
 * A CPU tensor over caller memory, no copy. strides may be NULL (contiguous).
 * on_free(ctx) is called once when libtorch releases the memory (may be on any thread);
 * on_free may be NULL when the caller guarantees the memory outlives every use.
 */
dt_tensor dt_from_blob(void* data, const int64_t* sizes, const int64_t* strides, int32_t ndim,
                       int32_t dtype, void (*on_free)(int64_t ctx), int64_t ctx);

/* ---- conversion and copies ----------------------------------------------------------- */
dt_tensor dt_to(dt_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t non_blocking, int32_t copy);
dt_tensor dt_clone(dt_tensor t);
dt_tensor dt_contiguous(dt_tensor t);
dt_tensor dt_detach(dt_tensor t);
dt_tensor dt_pin_memory(dt_tensor t);
int32_t dt_copy_(dt_tensor dst, dt_tensor src, int32_t non_blocking);
int32_t dt_fill_(dt_tensor t, double value);
int32_t dt_zero_(dt_tensor t);

/* ---- elementwise --------------------------------------------------------------------- */
enum dt_unary_op {
  DT_NEG = 0, DT_EXP = 1, DT_LOG = 2, DT_SQRT = 3, DT_RSQRT = 4, DT_TANH = 5, DT_SIN = 6,
  DT_COS = 7, DT_ABS = 8, DT_SIGMOID = 9, DT_RELU = 10, DT_SILU = 11, DT_GELU = 12,
  DT_GELU_TANH = 13, DT_SQUARE = 14, DT_LOGICAL_NOT = 15, DT_ERF = 16, DT_RECIPROCAL = 17,
  DT_SIGN = 18, DT_FLOOR = 19, DT_CEIL = 20, DT_ROUND = 21, DT_LOG1P = 22, DT_EXPM1 = 23,
  DT_ISNAN = 24, DT_ISFINITE = 25
};
enum dt_binary_op {
  DT_ADD = 0, DT_SUB = 1, DT_MUL = 2, DT_DIV = 3, DT_POW = 4, DT_MAXIMUM = 5, DT_MINIMUM = 6,
  DT_EQ = 7, DT_NE = 8, DT_LT = 9, DT_LE = 10, DT_GT = 11, DT_GE = 12, DT_RSUB = 13,
  DT_RDIV = 14, DT_RPOW = 15, DT_LOGICAL_AND = 16, DT_LOGICAL_OR = 17, DT_ATAN2 = 18,
  DT_REMAINDER = 19
};
dt_tensor dt_unary(int32_t op, dt_tensor t);
int32_t dt_unary_(int32_t op, dt_tensor t);
/* a OP b with broadcasting. DT_RSUB/RDIV/RPOW compute b OP a. */
dt_tensor dt_binary(int32_t op, dt_tensor a, dt_tensor b);
dt_tensor dt_binary_scalar(int32_t op, dt_tensor a, double b);
int32_t dt_binary_(int32_t op, dt_tensor a, dt_tensor b);
int32_t dt_binary_scalar_(int32_t op, dt_tensor a, double b);
/* a += alpha * b */
int32_t dt_add_scaled_(dt_tensor a, dt_tensor b, double alpha);
/* a + alpha * b */
dt_tensor dt_add_scaled(dt_tensor a, dt_tensor b, double alpha);
/* a = a + weight * (b - a) */
int32_t dt_lerp_(dt_tensor a, dt_tensor b, double weight);
int32_t dt_addcmul_(dt_tensor t, dt_tensor a, dt_tensor b, double value);
/* t + value * a * b with broadcasting, in one kernel, as a new tensor that autograd tracks. */
dt_tensor dt_addcmul(dt_tensor t, dt_tensor a, dt_tensor b, double value);
int32_t dt_addcdiv_(dt_tensor t, dt_tensor a, dt_tensor b, double value);
dt_tensor dt_gelu(dt_tensor t, int32_t tanh_approximation);
/* has_min/has_max select which bounds apply. */
dt_tensor dt_clamp(dt_tensor t, double min, double max, int32_t has_min, int32_t has_max);
int32_t dt_clamp_(dt_tensor t, double min, double max, int32_t has_min, int32_t has_max);
dt_tensor dt_where(dt_tensor condition, dt_tensor a, dt_tensor b);
dt_tensor dt_masked_fill(dt_tensor t, dt_tensor mask, double value);

/* ---- reductions (dims NULL/ndims 0 = all dims) --------------------------------------- */
dt_tensor dt_sum(dt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim);
dt_tensor dt_mean(dt_tensor t, const int64_t* dims, int32_t ndims, int32_t keepdim);
dt_tensor dt_var(dt_tensor t, const int64_t* dims, int32_t ndims, double correction, int32_t keepdim);
/* Maximum over all elements. */
dt_tensor dt_max_all(dt_tensor t);
dt_tensor dt_min_all(dt_tensor t);
/* Max/min along dim; writes the indices handle into *indices when indices != NULL. */
dt_tensor dt_max_dim(dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* indices);
dt_tensor dt_min_dim(dt_tensor t, int64_t dim, int32_t keepdim, dt_tensor* indices);
dt_tensor dt_argmax(dt_tensor t, int64_t dim, int32_t keepdim);
/* The k largest (or smallest) along dim, in order when sorted != 0; writes the indices handle into *indices when indices != NULL. */
dt_tensor dt_topk(dt_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, dt_tensor* indices);
/* Indices that sort t along dim (ascending unless descending != 0; stable keeps ties in index order). */
dt_tensor dt_argsort(dt_tensor t, int64_t dim, int32_t descending, int32_t stable);
dt_tensor dt_norm(dt_tensor t, double p, const int64_t* dims, int32_t ndims, int32_t keepdim);
dt_tensor dt_cumsum(dt_tensor t, int64_t dim);
dt_tensor dt_cumprod(dt_tensor t, int64_t dim);
/* 1 if same shape and all |a-b| <= atol + rtol*|b|. */
int32_t dt_allclose(dt_tensor a, dt_tensor b, double rtol, double atol);

/* ---- shape and indexing -------------------------------------------------------------- */
dt_tensor dt_reshape(dt_tensor t, const int64_t* sizes, int32_t ndim);
dt_tensor dt_view(dt_tensor t, const int64_t* sizes, int32_t ndim);
dt_tensor dt_permute(dt_tensor t, const int64_t* dims, int32_t ndim);
dt_tensor dt_transpose(dt_tensor t, int64_t dim0, int64_t dim1);
dt_tensor dt_flatten(dt_tensor t, int64_t start_dim, int64_t end_dim);
dt_tensor dt_unsqueeze(dt_tensor t, int64_t dim);
dt_tensor dt_squeeze(dt_tensor t, int64_t dim);
dt_tensor dt_squeeze_all(dt_tensor t);
dt_tensor dt_expand(dt_tensor t, const int64_t* sizes, int32_t ndim);
dt_tensor dt_repeat(dt_tensor t, const int64_t* repeats, int32_t ndim);
dt_tensor dt_flip(dt_tensor t, const int64_t* dims, int32_t ndims);
dt_tensor dt_narrow(dt_tensor t, int64_t dim, int64_t start, int64_t length);
dt_tensor dt_slice(dt_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step);
dt_tensor dt_select(dt_tensor t, int64_t dim, int64_t index);
dt_tensor dt_cat(const dt_tensor* ts, int32_t n, int64_t dim);
dt_tensor dt_stack(const dt_tensor* ts, int32_t n, int64_t dim);
/* Writes up to cap handles into out; returns how many pieces there are. */
int32_t dt_chunk(dt_tensor t, int64_t chunks, int64_t dim, dt_tensor* out, int32_t cap);
int32_t dt_split(dt_tensor t, int64_t split_size, int64_t dim, dt_tensor* out, int32_t cap);
dt_tensor dt_index_select(dt_tensor t, int64_t dim, dt_tensor index);
dt_tensor dt_gather(dt_tensor t, int64_t dim, dt_tensor index);
dt_tensor dt_scatter(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src);
dt_tensor dt_scatter_add(dt_tensor t, int64_t dim, dt_tensor index, dt_tensor src);
dt_tensor dt_one_hot(dt_tensor t, int64_t num_classes);
dt_tensor dt_tril(dt_tensor t, int64_t diagonal);

/* ---- linear algebra ------------------------------------------------------------------ */
dt_tensor dt_matmul(dt_tensor a, dt_tensor b);
dt_tensor dt_mm(dt_tensor a, dt_tensor b);
dt_tensor dt_bmm(dt_tensor a, dt_tensor b);
/* x @ w^T + b (b may be NULL) */
dt_tensor dt_linear(dt_tensor x, dt_tensor w, dt_tensor b);
/* GELU with the tanh approximation of x @ w^T + b (b may be NULL). On CUDA, outside autocast and
 * with nothing to differentiate, one GEMM with cuBLASLt's GELU epilogue (_addmm_activation, which
 * has no backward); elsewhere dt_linear and dt_gelu. */
dt_tensor dt_linear_gelu_tanh(dt_tensor x, dt_tensor w, dt_tensor b);
/* beta * input + alpha * (a @ b) */
dt_tensor dt_addmm(dt_tensor input, dt_tensor a, dt_tensor b, double beta, double alpha);

/* ---- neural-network functions -------------------------------------------------------- */
dt_tensor dt_softmax(dt_tensor t, int64_t dim);
dt_tensor dt_log_softmax(dt_tensor t, int64_t dim);
/* weight and bias may be NULL (no affine). */
dt_tensor dt_layer_norm(dt_tensor x, const int64_t* normalized_shape, int32_t ndim, dt_tensor weight, dt_tensor bias, double eps);
dt_tensor dt_group_norm(dt_tensor x, int64_t groups, dt_tensor weight, dt_tensor bias, double eps);
/* adaLN, fused (src/fused.cpp). x [N, L, D]; shift, scale, gate [N, D] (one vector per sample);
 * y [N, L, D]; floating-point tensors on one device, mixed floating dtypes promote as addcmul does.
 * dt_ln_modulate: LayerNorm over D without affine (DiT: eps 1e-6), then * (1 + scale) + shift.
 * dt_gated_residual: x + gate * y.
 * Both equal the composite of ATen ops (layer_norm, addcmul) and are differentiable in every input.
 * On CUDA, when the shim was built with its kernels (dt_fused_kernels_built), float32, bfloat16 and
 * float16 run as one kernel forward and one backward (statistics in float32; no double backward);
 * under autocast the result has the dtype the composite would have (layer_norm runs in float32
 * there). Elsewhere (CPU, float64, or a shim without the kernels) the composite runs. */
dt_tensor dt_ln_modulate(dt_tensor x, dt_tensor shift, dt_tensor scale, double eps);
dt_tensor dt_gated_residual(dt_tensor x, dt_tensor gate, dt_tensor y);
/* 1 if this shim was compiled with its fused CUDA kernels (a CUDA libtorch and the CUDA toolkit at build time), else 0. */
int32_t dt_fused_kernels_built(void);
dt_tensor dt_embedding(dt_tensor weight, dt_tensor indices);
/* Dropout with the default generator; identity when train == 0. */
dt_tensor dt_dropout(dt_tensor t, double p, int32_t train);
/* stride/padding/dilation are pairs (h, w). */
dt_tensor dt_conv2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                    const int64_t* dilation, int64_t groups);
dt_tensor dt_conv_transpose2d(dt_tensor x, dt_tensor w, dt_tensor b, const int64_t* stride, const int64_t* padding,
                              const int64_t* output_padding, const int64_t* dilation, int64_t groups);
dt_tensor dt_avg_pool2d(dt_tensor x, const int64_t* kernel, const int64_t* stride);
dt_tensor dt_pixel_shuffle(dt_tensor x, int64_t factor);
dt_tensor dt_pixel_unshuffle(dt_tensor x, int64_t factor);
enum dt_interp_mode { DT_INTERP_NEAREST = 0, DT_INTERP_BILINEAR = 1, DT_INTERP_BICUBIC = 2 };
dt_tensor dt_interpolate(dt_tensor x, int64_t out_h, int64_t out_w, int32_t mode, int32_t align_corners);
enum dt_reduction { DT_REDUCE_NONE = 0, DT_REDUCE_MEAN = 1, DT_REDUCE_SUM = 2 };
dt_tensor dt_mse_loss(dt_tensor input, dt_tensor target, int32_t reduction);
/* target: int64 class indices; label_smoothing in [0, 1]. */
dt_tensor dt_cross_entropy(dt_tensor logits, dt_tensor target, int32_t reduction, double label_smoothing);

/* ---- attention ----------------------------------------------------------------------- */
enum dt_sdpa_backend {
  DT_SDPA_AUTO = -1, DT_SDPA_MATH = 0, DT_SDPA_FLASH = 1, DT_SDPA_EFFICIENT = 2, DT_SDPA_CUDNN = 3
};
/*
 * softmax(q k^T * scale + mask) v over [..., L, E] inputs. scale <= 0 means 1/sqrt(E).
 * backend selects the kernel (AUTO lets libtorch choose); *backend_used (if not NULL)
 * receives the kernel that ran. A forced backend that cannot run these inputs fails
 * with libtorch's reason instead of falling back.
 */
dt_tensor dt_sdpa(dt_tensor q, dt_tensor k, dt_tensor v, dt_tensor attn_mask, double dropout_p,
                  int32_t is_causal, double scale, int32_t backend, int32_t* backend_used);

/* ---- autograd ------------------------------------------------------------------------ */
/* grad may be NULL for scalar outputs. */
int32_t dt_backward(dt_tensor t, dt_tensor grad, int32_t retain_graph, int32_t create_graph);
/* Gradients of outputs w.r.t. inputs (torch.autograd.grad); writes n_inputs handles into out
 * (NULL where an input is unused). grad_outputs may be NULL. */
int32_t dt_autograd_grad(const dt_tensor* outputs, int32_t n_outputs, const dt_tensor* inputs, int32_t n_inputs,
                         const dt_tensor* grad_outputs, int32_t retain_graph, int32_t create_graph, dt_tensor* out);
/* Sets grad mode for this thread; returns the previous mode (0/1). */
int32_t dt_set_grad_enabled(int32_t enabled);
int32_t dt_is_grad_enabled(void);

/* ---- autocast (automatic mixed precision) ---------------------------------------------- */
/* Per-thread regions, like torch.autocast's __enter__/__exit__. device_type is DT_DEVICE_*.
 * enter: turns autocast on (enabled 1, dtype bfloat16 or float16) or off (enabled 0, dtype
 * ignored) for the region and returns the previous enabled state (0/1), or -1 on error.
 * exit: closes the innermost region, restoring the enabled state and dtype read before entering
 * (dt_autocast_is_enabled / dt_autocast_dtype); the cast cache is cleared when the outermost closes. */
int32_t dt_autocast_enter(int32_t device_type, int32_t dtype, int32_t enabled);
int32_t dt_autocast_exit(int32_t device_type, int32_t previous_enabled, int32_t previous_dtype);
/* 1 when autocast is on for device_type in this thread, 0 when off, -1 on error. */
int32_t dt_autocast_is_enabled(int32_t device_type);
/* The dtype autocast casts to on device_type (a DT_* code), or -1 on error. */
int32_t dt_autocast_dtype(int32_t device_type);

/* ---- optimisation -------------------------------------------------------------------- */
/* Fused AdamW step over n parameters (libtorch's _fused_adamw_); step is the new step count. */
int32_t dt_fused_adamw_(const dt_tensor* params, const dt_tensor* grads, const dt_tensor* exp_avgs,
                        const dt_tensor* exp_avg_sqs, const dt_tensor* state_steps, int32_t n, double lr,
                        double beta1, double beta2, double weight_decay, double eps);
/* Total 2-norm of the gradients of n tensors, scaling them by min(1, max_norm/total) when max_norm > 0. */
dt_tensor dt_clip_grad_norm_(const dt_tensor* params, int32_t n, double max_norm);
/* t += value for each of n tensors, as one multi-tensor op (torch._foreach_add_). */
int32_t dt_foreach_add_(const dt_tensor* ts, int32_t n, double value);
/* ema = decay * ema + (1 - decay) * param for every pair (torch._foreach_lerp_). */
int32_t dt_ema_update_(const dt_tensor* ema, const dt_tensor* params, int32_t n, double decay);

/* ---- distributed (libtorch's c10d) ----------------------------------------------------- */
/*
 * A process group: rank `rank` of `world_size` processes that meet at a c10d TCPStore on
 * master_addr:master_port (rank 0 serves it). Every call on a group is collective: all ranks
 * make the same calls in the same order. Failures: DT_ERR_TIMEOUT when a peer did not answer in
 * time (rendezvous or a collective), DT_ERR_DISTRIBUTED when a peer or the network failed.
 */
enum dt_dist_backend { DT_DIST_GLOO = 0, DT_DIST_NCCL = 1 };
enum dt_reduce_op { DT_REDUCE_OP_SUM = 0, DT_REDUCE_OP_AVG = 1, DT_REDUCE_OP_MAX = 2, DT_REDUCE_OP_MIN = 3 };
/* 1 if this shim was compiled with the backend (Gloo: libtorch's gloo headers found; NCCL: a CUDA
 * libtorch with NCCL), else 0. */
int32_t dt_dist_backend_available(int32_t backend);
/* Blocks until all world_size ranks have joined or timeout_ms has passed (then DT_ERR_TIMEOUT);
 * timeout_ms also bounds every later collective. device_index: the CUDA device for NCCL, else -1. */
dt_process_group dt_process_group_new(int32_t backend, const char* master_addr, int32_t master_port, int32_t rank,
                                      int32_t world_size, int64_t timeout_ms, int32_t device_index);
/* Closes the group (waits for its pending work, at most its timeout) and frees the handle. */
void dt_process_group_free(dt_process_group pg);
int32_t dt_process_group_rank(dt_process_group pg);
int32_t dt_process_group_size(dt_process_group pg);
/* Collectives start asynchronously and return a work handle (NULL on failure to start). Tensors
 * must be contiguous and on the group's device; they must not be touched until the work is done. */
/* t = op over ranks of t (in place). */
dt_work dt_all_reduce(dt_process_group pg, dt_tensor t, int32_t op);
/* t = rank root's t (in place). */
dt_work dt_broadcast(dt_process_group pg, dt_tensor t, int32_t root);
/* out [world_size * n, ...] = the ranks' in [n, ...] in rank order. */
dt_work dt_all_gather(dt_process_group pg, dt_tensor out, dt_tensor in);
/* out [n, ...] = op over ranks of this rank's slice of in [world_size * n, ...]. */
dt_work dt_reduce_scatter(dt_process_group pg, dt_tensor out, dt_tensor in, int32_t op);
dt_work dt_barrier(dt_process_group pg);
/* Waits for the work; timeout_ms <= 0 waits up to the group's timeout. 0 when it succeeded, -1
 * with DT_ERR_TIMEOUT / DT_ERR_DISTRIBUTED otherwise. */
int32_t dt_work_wait(dt_work w, int64_t timeout_ms);
/* 1 when the work has finished (successfully or not), 0 while it runs. */
int32_t dt_work_is_completed(dt_work w);
/* Frees the handle; work still running completes on its own (its tensors stay referenced). */
void dt_work_free(dt_work w);

/* ---- benchmarking support ------------------------------------------------------------ */
/* Runs `iters` times: r = dt_binary(op, a, b); dt_tensor_free(r). Returns elapsed nanoseconds
 * (the C++ baseline for the per-op host overhead benchmark), -1 on failure. */
int64_t dt_bench_binary_loop(int32_t op, dt_tensor a, dt_tensor b, int64_t iters);

#ifdef __cplusplus
}
#endif
#endif /* DIT4J_H */
