// The CUDA forms of the fused adaLN ops (fused_kernels.cu), compiled only where CMake sets
// DIT4J_WITH_FUSED_KERNELS (a CUDA libtorch and the CUDA toolkit). fused.cpp validates the
// arguments and calls these with tensors of one dtype (float32, bfloat16 or float16) on one CUDA
// device, with at least one element; each returns a tensor that autograd tracks.
#pragma once

#include <ATen/ATen.h>

namespace dit4j::fused {

// LayerNorm over D (no affine) of x [N, L, D], then * (1 + scale) + shift; shift, scale [N, D].
at::Tensor ln_modulate_cuda(const at::Tensor& x, const at::Tensor& shift, const at::Tensor& scale, double eps);
// x + gate * y; x, y [N, L, D], gate [N, D].
at::Tensor gated_residual_cuda(const at::Tensor& x, const at::Tensor& gate, const at::Tensor& y);

}  // namespace dit4j::fused
