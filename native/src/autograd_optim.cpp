// Autograd (backward, torch.autograd.grad, grad mode) and optimiser steps.
#include "internal.h"

#include <torch/csrc/autograd/autograd.h>

#include <map>

using namespace dit4j;

extern "C" {

// ---- autograd ---------------------------------------------------------------------------------

// grad NULL: t must be a scalar (the gradient is 1). retain_graph 0 means "the default", which
// is create_graph (as retain_graph=None in PyTorch).
int32_t dt_backward(dt_tensor t, dt_tensor grad, int32_t retain_graph, int32_t create_graph) {
  return guard_s([&] {
    const at::Tensor& out = DT_ARG(t);
    torch::autograd::variable_list grads;
    if (grad != nullptr) grads.push_back(grad->t);
    const std::optional<bool> retain = retain_graph != 0 ? std::optional<bool>(true) : std::nullopt;
    torch::autograd::backward({out}, grads, retain, create_graph != 0);
    return 0;
  });
}

// out[i] receives a new handle for d(outputs)/d(inputs[i]), or NULL when inputs[i] does not
// affect the outputs. grad_outputs may be NULL (all outputs scalar) or hold NULL entries.
// On failure no handle is left in out (all entries NULL).
int32_t dt_autograd_grad(const dt_tensor* outputs, int32_t n_outputs, const dt_tensor* inputs, int32_t n_inputs,
                         const dt_tensor* grad_outputs, int32_t retain_graph, int32_t create_graph, dt_tensor* out) {
  return guard_s([&] {
    if (n_outputs <= 0) arg_error("'n_outputs' must be > 0, got " + std::to_string(n_outputs));
    if (n_inputs <= 0) arg_error("'n_inputs' must be > 0, got " + std::to_string(n_inputs));
    if (out == nullptr) arg_error("'out' is NULL");
    for (int32_t i = 0; i < n_inputs; i++) out[i] = nullptr;
    const auto outs = tensor_list(outputs, n_outputs, "outputs");
    const auto ins = tensor_list(inputs, n_inputs, "inputs");
    torch::autograd::variable_list gouts;
    if (grad_outputs != nullptr) {
      gouts.reserve(static_cast<size_t>(n_outputs));
      for (int32_t i = 0; i < n_outputs; i++) gouts.push_back(grad_outputs[i] ? grad_outputs[i]->t : at::Tensor());
    }
    const std::optional<bool> retain = retain_graph != 0 ? std::optional<bool>(true) : std::nullopt;
    auto grads = torch::autograd::grad(outs, ins, gouts, retain, create_graph != 0, /*allow_unused=*/true);
    try {
      for (int32_t i = 0; i < n_inputs; i++) {
        if (grads[static_cast<size_t>(i)].defined()) out[i] = make(std::move(grads[static_cast<size_t>(i)]));
      }
    } catch (...) {
      for (int32_t i = 0; i < n_inputs; i++) {
        dt_tensor_free(out[i]);
        out[i] = nullptr;
      }
      throw;
    }
    return 0;
  });
}

int32_t dt_set_grad_enabled(int32_t enabled) {
  return guard_s([&] {
    const bool previous = at::GradMode::is_enabled();
    at::GradMode::set_enabled(enabled != 0);
    return previous ? 1 : 0;
  });
}

int32_t dt_is_grad_enabled(void) {
  return at::GradMode::is_enabled() ? 1 : 0;
}

// ---- optimisation -----------------------------------------------------------------------------

// One AdamW step over n parameters with libtorch's fused kernel (CPU and CUDA). state_steps are
// float32 scalar tensors (one per parameter, on the parameter's device) holding the step
// number of THIS step: the caller increments them before the call, as torch.optim.AdamW does
// (its _fused_adamw increments with _foreach_add_ before calling the kernel).
int32_t dt_fused_adamw_(const dt_tensor* params, const dt_tensor* grads, const dt_tensor* exp_avgs,
                        const dt_tensor* exp_avg_sqs, const dt_tensor* state_steps, int32_t n, double lr, double beta1,
                        double beta2, double weight_decay, double eps) {
  return guard_s([&] {
    const auto p = tensor_list(params, n, "params");
    const auto g = tensor_list(grads, n, "grads");
    const auto m = tensor_list(exp_avgs, n, "exp_avgs");
    const auto s = tensor_list(exp_avg_sqs, n, "exp_avg_sqs");
    const auto steps = tensor_list(state_steps, n, "state_steps");
    if (n == 0) return 0;
    at::NoGradGuard no_grad;
    at::_fused_adamw_(p, g, m, s, /*max_exp_avg_sqs=*/{}, steps, lr, beta1, beta2, weight_decay, eps,
                      /*amsgrad=*/false, /*maximize=*/false, /*grad_scale=*/std::nullopt, /*found_inf=*/std::nullopt);
    return 0;
  });
}

// torch.nn.utils.clip_grad_norm_ (2-norm): returns the total norm of the gradients as a scalar
// tensor on the first gradient's device, without a host sync; when max_norm > 0 the gradients
// are scaled in place by min(1, max_norm / (total + 1e-6)). Parameters without grad are skipped;
// with no gradients at all the result is a float32 CPU zero.
dt_tensor dt_clip_grad_norm_(const dt_tensor* params, int32_t n, double max_norm) {
  return guard_t([&] {
    const auto p = tensor_list(params, n, "params");
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (const auto& t : p) {
      const at::Tensor& gr = t.grad();
      if (gr.defined()) grads.push_back(gr);
    }
    if (grads.empty()) return make(at::zeros({}, at::TensorOptions().dtype(at::kFloat)));
    const at::Device first = grads[0].device();
    std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
    for (auto& nrm : norms) nrm = nrm.to(first);
    at::Tensor total = at::linalg_vector_norm(at::stack(norms), 2);
    if (max_norm > 0) {
      at::Tensor coef = at::clamp_max(max_norm / (total + 1e-6), 1.0);
      std::map<std::string, std::vector<at::Tensor>> by_device;
      for (const auto& gr : grads) by_device[gr.device().str()].push_back(gr);
      for (auto& [dev, group] : by_device) at::_foreach_mul_(group, coef.to(group[0].device()));
    }
    return make(total);
  });
}

// AdamW's step counts advance together (as torch.optim.AdamW's _foreach_add_), not one op each.
int32_t dt_foreach_add_(const dt_tensor* ts, int32_t n, double value) {
  return guard_s([&] {
    const auto t = tensor_list(ts, n, "ts");
    if (n == 0) return 0;
    at::NoGradGuard no_grad;
    at::_foreach_add_(t, at::Scalar(value));
    return 0;
  });
}

// ema[i] = lerp(ema[i], params[i], 1 - decay) = decay * ema + (1 - decay) * param.
int32_t dt_ema_update_(const dt_tensor* ema, const dt_tensor* params, int32_t n, double decay) {
  return guard_s([&] {
    const auto e = tensor_list(ema, n, "ema");
    const auto p = tensor_list(params, n, "params");
    if (n == 0) return 0;
    at::NoGradGuard no_grad;
    at::_foreach_lerp_(e, p, at::Scalar(1.0 - decay));
    return 0;
  });
}

}  // extern "C"
