// CUDA kernels for the fused adaLN ops of fused.cpp, each wrapped in a torch::autograd::Function:
//   ln_modulate:    y = LayerNorm_D(x) * (1 + scale) + shift   (no affine; x [N, L, D], shift/scale [N, D])
//   gated_residual: out = x + gate * y                          (gate [N, D])
// Built only where CMake finds a CUDA libtorch and the CUDA toolkit (DIT4J_WITH_FUSED_KERNELS).
// fused.cpp has validated the arguments and cast them to one dtype (float32, bfloat16 or float16);
// all arithmetic is in float32, values are read and written in that dtype.
#include <ATen/ATen.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "fused_kernels.h"

namespace dit4j::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 8;  // one warp per row, 8 rows (256 threads) per block

// Calls f with a value of the C++ type of t (float, at::BFloat16 or at::Half).
template <class F>
void by_dtype(at::ScalarType t, F&& f) {
  switch (t) {
    case at::kFloat: return f(float{});
    case at::kBFloat16: return f(at::BFloat16{});
    case at::kHalf: return f(at::Half{});
    default: TORCH_CHECK(false, "dit4j fused kernels: unsupported dtype ", t, " (float32, bfloat16 or float16)");
  }
}

// A [N, D] vector whose rows are contiguous (stride 1 along D), so that the kernels index it with
// n * row_stride + d: a chunk of the [N, 6D] adaLN output qualifies as it is, without a copy.
at::Tensor rows_contiguous(const at::Tensor& v) {
  return v.size(1) == 1 || v.stride(1) == 1 ? v : v.contiguous();
}

unsigned int grid_for_rows(int64_t rows) {
  return static_cast<unsigned int>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
}

// Sum over the 32 lanes of a warp; the butterfly leaves the total in every lane, so no broadcast follows.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// ---- ln_modulate ------------------------------------------------------------------------------

// One warp per row (n, l) of D elements. Two passes for the statistics, the mean, then the
// variance about it: exact where E[x^2] - mean^2 cancels, and the row (a few KiB) is in L1 by the
// second read. Writes the output and the row's mean and rstd (float32) for the backward.
template <typename scalar_t>
__global__ void ln_modulate_forward_kernel(const scalar_t* __restrict__ x, const scalar_t* __restrict__ shift,
                                           const scalar_t* __restrict__ scale, int64_t mod_stride,
                                           scalar_t* __restrict__ out, float* __restrict__ mean_out,
                                           float* __restrict__ rstd_out, int64_t rows, int64_t L, int64_t D, float eps) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (row >= rows) return;  // the same row for all 32 lanes: a warp leaves whole, the shuffles stay full
  const int lane = threadIdx.x % kWarp;
  const scalar_t* xr = x + row * D;
  const int64_t n = row / L;
  const scalar_t* sh = shift + n * mod_stride;
  const scalar_t* sc = scale + n * mod_stride;

  float sum = 0.f;
  for (int64_t d = lane; d < D; d += kWarp) sum += static_cast<float>(xr[d]);
  const float mean = warp_sum(sum) / static_cast<float>(D);
  float sq = 0.f;
  for (int64_t d = lane; d < D; d += kWarp) {
    const float c = static_cast<float>(xr[d]) - mean;
    sq += c * c;
  }
  const float rstd = rsqrtf(warp_sum(sq) / static_cast<float>(D) + eps);  // biased variance, as layer_norm

  scalar_t* outr = out + row * D;
  for (int64_t d = lane; d < D; d += kWarp) {
    const float xhat = (static_cast<float>(xr[d]) - mean) * rstd;
    outr[d] = static_cast<scalar_t>(xhat * (1.f + static_cast<float>(sc[d])) + static_cast<float>(sh[d]));
  }
  if (lane == 0) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}

// One warp per row. With g = dy * (1 + scale) the gradient of the normalized x (xhat):
//   dx = rstd * (g - mean_D(g) - xhat * mean_D(g * xhat))
// The first pass gathers the two row means (and, when dy_xhat is given, writes dy * xhat, which the
// scale's gradient sums over L); the second writes dx (skipped when dx is NULL).
template <typename scalar_t>
__global__ void ln_modulate_backward_kernel(const scalar_t* __restrict__ dy, const scalar_t* __restrict__ x,
                                            const scalar_t* __restrict__ scale, int64_t mod_stride,
                                            const float* __restrict__ mean, const float* __restrict__ rstd,
                                            scalar_t* __restrict__ dx, scalar_t* __restrict__ dy_xhat, int64_t rows,
                                            int64_t L, int64_t D) {
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  if (row >= rows) return;
  const int lane = threadIdx.x % kWarp;
  const scalar_t* xr = x + row * D;
  const scalar_t* dyr = dy + row * D;
  const scalar_t* sc = scale + (row / L) * mod_stride;
  const float mu = mean[row];
  const float rs = rstd[row];

  float sum_g = 0.f, sum_g_xhat = 0.f;
  for (int64_t d = lane; d < D; d += kWarp) {
    const float xhat = (static_cast<float>(xr[d]) - mu) * rs;
    const float dyv = static_cast<float>(dyr[d]);
    const float g = dyv * (1.f + static_cast<float>(sc[d]));
    sum_g += g;
    sum_g_xhat += g * xhat;
    if (dy_xhat != nullptr) dy_xhat[row * D + d] = static_cast<scalar_t>(dyv * xhat);
  }
  if (dx == nullptr) return;  // uniform over the launch: only the scale's gradient was asked for
  const float mean_g = warp_sum(sum_g) / static_cast<float>(D);
  const float mean_g_xhat = warp_sum(sum_g_xhat) / static_cast<float>(D);

  scalar_t* dxr = dx + row * D;
  for (int64_t d = lane; d < D; d += kWarp) {
    const float xhat = (static_cast<float>(xr[d]) - mu) * rs;
    const float g = static_cast<float>(dyr[d]) * (1.f + static_cast<float>(sc[d]));
    dxr[d] = static_cast<scalar_t>(rs * (g - mean_g - xhat * mean_g_xhat));
  }
}

// Sum over L of a [N, L, D] tensor, accumulated in float32, in t's dtype.
at::Tensor sum_over_tokens(const at::Tensor& t) {
  return at::sum(t, {1}, /*keepdim=*/false, at::kFloat).to(t.scalar_type());
}

struct LnModulate : public torch::autograd::Function<LnModulate> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale,
                            double eps) {
    const c10::cuda::CUDAGuard device_guard(x.device());
    const at::Tensor xc = x.contiguous();
    at::Tensor sh = rows_contiguous(shift);
    at::Tensor sc = rows_contiguous(scale);
    if (sh.stride(0) != sc.stride(0)) {  // the kernel steps both by one row stride
      sh = shift.contiguous();
      sc = scale.contiguous();
    }
    const int64_t N = xc.size(0), L = xc.size(1), D = xc.size(2), rows = N * L;
    at::Tensor out = at::empty_like(xc);
    at::Tensor mean = at::empty({N, L}, xc.options().dtype(at::kFloat));
    at::Tensor rstd = at::empty({N, L}, xc.options().dtype(at::kFloat));
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
    by_dtype(xc.scalar_type(), [&](auto tag) {
      using scalar_t = decltype(tag);
      ln_modulate_forward_kernel<scalar_t><<<grid_for_rows(rows), kWarp * kRowsPerBlock, 0, stream>>>(
          xc.const_data_ptr<scalar_t>(), sh.const_data_ptr<scalar_t>(), sc.const_data_ptr<scalar_t>(), sh.stride(0),
          out.mutable_data_ptr<scalar_t>(), mean.mutable_data_ptr<float>(), rstd.mutable_data_ptr<float>(), rows, L, D,
          static_cast<float>(eps));
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    // The inputs themselves are saved (x's contiguous copy, if one was made, is redone in backward);
    // the statistics are intermediates, kept in saved_data.
    ctx->save_for_backward({x, scale});
    ctx->saved_data["mean"] = mean;
    ctx->saved_data["rstd"] = rstd;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const bool need_x = ctx->needs_input_grad(0), need_shift = ctx->needs_input_grad(1),
               need_scale = ctx->needs_input_grad(2);
    at::Tensor dx, dshift, dscale;
    const at::Tensor& grad = grad_outputs[0];
    if (!grad.defined()) return {dx, dshift, dscale, at::Tensor()};
    // The kernel's backward is not itself differentiable: refuse create_graph rather than give
    // second derivatives that silently miss it.
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "dt_ln_modulate: the fused CUDA kernel has no double backward (create_graph); use the composite "
                "(layer_norm, addcmul) for higher-order gradients");
    // Autocast, when the caller's backward runs inside a region, must not re-cast the reductions below.
    const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const at::Tensor x = saved[0].contiguous();
    const at::Tensor sc = rows_contiguous(saved[1]);
    const at::Tensor mean = ctx->saved_data["mean"].toTensor();
    const at::Tensor rstd = ctx->saved_data["rstd"].toTensor();
    const c10::cuda::CUDAGuard device_guard(x.device());
    const at::Tensor dy = grad.contiguous();
    const int64_t N = x.size(0), L = x.size(1), D = x.size(2), rows = N * L;

    if (need_x || need_scale) {
      if (need_x) dx = at::empty_like(x);
      at::Tensor dy_xhat = need_scale ? at::empty_like(x) : at::Tensor();
      const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
      by_dtype(x.scalar_type(), [&](auto tag) {
        using scalar_t = decltype(tag);
        ln_modulate_backward_kernel<scalar_t><<<grid_for_rows(rows), kWarp * kRowsPerBlock, 0, stream>>>(
            dy.const_data_ptr<scalar_t>(), x.const_data_ptr<scalar_t>(), sc.const_data_ptr<scalar_t>(), sc.stride(0),
            mean.const_data_ptr<float>(), rstd.const_data_ptr<float>(),
            need_x ? dx.mutable_data_ptr<scalar_t>() : nullptr,
            need_scale ? dy_xhat.mutable_data_ptr<scalar_t>() : nullptr, rows, L, D);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      });
      if (need_scale) dscale = sum_over_tokens(dy_xhat);  // d/dscale = sum_L dy * xhat
    }
    if (need_shift) dshift = sum_over_tokens(dy);  // d/dshift = sum_L dy
    return {dx, dshift, dscale, at::Tensor()};      // eps: no gradient
  }
};

// ---- gated_residual ---------------------------------------------------------------------------

// Elementwise over the N * L * D outputs with a grid-stride loop; gate is read at (n, d).
template <typename scalar_t>
__global__ void gated_residual_kernel(const scalar_t* __restrict__ x, const scalar_t* __restrict__ gate,
                                      int64_t gate_stride, const scalar_t* __restrict__ y, scalar_t* __restrict__ out,
                                      int64_t total, int64_t LD, int64_t D) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const float g = static_cast<float>(gate[(i / LD) * gate_stride + i % D]);
    out[i] = static_cast<scalar_t>(static_cast<float>(x[i]) + g * static_cast<float>(y[i]));
  }
}

struct GatedResidual : public torch::autograd::Function<GatedResidual> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& gate, const at::Tensor& y) {
    const c10::cuda::CUDAGuard device_guard(x.device());
    const at::Tensor xc = x.contiguous();
    const at::Tensor yc = y.contiguous();
    const at::Tensor g = rows_contiguous(gate);
    const int64_t total = xc.numel(), D = xc.size(2), LD = xc.size(1) * D;
    at::Tensor out = at::empty_like(xc);
    constexpr int threads = 256;
    // Enough blocks to fill the device a few times over; the loop covers the rest.
    int sms = 0;
    C10_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, x.device().index()));
    const int64_t max_blocks = static_cast<int64_t>(sms) * 32;
    const auto blocks = static_cast<unsigned int>(std::min((total + threads - 1) / threads, max_blocks));
    const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
    by_dtype(xc.scalar_type(), [&](auto tag) {
      using scalar_t = decltype(tag);
      gated_residual_kernel<scalar_t><<<blocks, threads, 0, stream>>>(
          xc.const_data_ptr<scalar_t>(), g.const_data_ptr<scalar_t>(), g.stride(0), yc.const_data_ptr<scalar_t>(),
          out.mutable_data_ptr<scalar_t>(), total, LD, D);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    ctx->save_for_backward({gate, y});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    at::Tensor dx, dgate, dy_in;
    const at::Tensor& grad = grad_outputs[0];
    if (!grad.defined()) return {dx, dgate, dy_in};
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "dt_gated_residual: the fused CUDA kernel has no double backward (create_graph); use addcmul for "
                "higher-order gradients");
    const c10::impl::ExcludeDispatchKeyGuard no_autocast(c10::autocast_dispatch_keyset);
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& gate = saved[0];
    const at::Tensor& y = saved[1];
    if (ctx->needs_input_grad(0)) dx = grad;                             // d/dx = dy
    if (ctx->needs_input_grad(1)) dgate = sum_over_tokens(grad * y);     // d/dgate = sum_L dy * y
    if (ctx->needs_input_grad(2)) dy_in = grad * gate.unsqueeze(1);      // d/dy = dy * gate
    return {dx, dgate, dy_in};
  }
};

}  // namespace

at::Tensor ln_modulate_cuda(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps) {
  return LnModulate::apply(x, shift, scale, eps);
}

at::Tensor gated_residual_cuda(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& y) {
  return GatedResidual::apply(x, gate, y);
}

}  // namespace dit4j::fused
