// Elementwise operations (unary, binary, scalar, fused update forms), plus the C++ baseline
// loop for the per-op overhead benchmark.
#include "internal.h"

#include <ATen/ExpandUtils.h>
#include <ATen/ScalarOps.h>
#include <torch/csrc/autograd/custom_function.h>

#include <chrono>
#include <cmath>

using namespace dit4j;

namespace dit4j {
at::Scalar scalar_for(const at::Tensor& t, double v) {
  if (at::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::isfinite(v) && v == std::floor(v) &&
      std::fabs(v) < 9.2e18) {
    return at::Scalar(static_cast<int64_t>(v));
  }
  return at::Scalar(v);
}
}  // namespace dit4j

namespace {

[[noreturn]] void bad_op(const char* what, int32_t op) {
  arg_error(std::string("unknown ") + what + " op code " + std::to_string(op));
}

// A 0-dim "wrapped number" tensor: takes part in type promotion like a Python scalar.
at::Tensor wrapped(const at::Tensor& like, double v) {
  return at::native::wrapped_scalar_tensor(scalar_for(like, v));
}

at::Tensor unary(int32_t op, const at::Tensor& t) {
  switch (op) {
    case DT_NEG: return at::neg(t);
    case DT_EXP: return at::exp(t);
    case DT_LOG: return at::log(t);
    case DT_SQRT: return at::sqrt(t);
    case DT_RSQRT: return at::rsqrt(t);
    case DT_TANH: return at::tanh(t);
    case DT_SIN: return at::sin(t);
    case DT_COS: return at::cos(t);
    case DT_ABS: return at::abs(t);
    case DT_SIGMOID: return at::sigmoid(t);
    case DT_RELU: return at::relu(t);
    case DT_SILU: return at::silu(t);
    case DT_GELU: return at::gelu(t);
    case DT_GELU_TANH: return at::gelu(t, "tanh");
    case DT_SQUARE: return at::square(t);
    case DT_LOGICAL_NOT: return at::logical_not(t);
    case DT_ERF: return at::erf(t);
    case DT_RECIPROCAL: return at::reciprocal(t);
    case DT_SIGN: return at::sign(t);
    case DT_FLOOR: return at::floor(t);
    case DT_CEIL: return at::ceil(t);
    case DT_ROUND: return at::round(t);
    case DT_LOG1P: return at::log1p(t);
    case DT_EXPM1: return at::expm1(t);
    case DT_ISNAN: return at::isnan(t);
    case DT_ISFINITE: return at::isfinite(t);
    default: bad_op("unary", op);
  }
}

void unary_(int32_t op, const at::Tensor& t) {
  switch (op) {
    case DT_NEG: t.neg_(); return;
    case DT_EXP: t.exp_(); return;
    case DT_LOG: t.log_(); return;
    case DT_SQRT: t.sqrt_(); return;
    case DT_RSQRT: t.rsqrt_(); return;
    case DT_TANH: t.tanh_(); return;
    case DT_SIN: t.sin_(); return;
    case DT_COS: t.cos_(); return;
    case DT_ABS: t.abs_(); return;
    case DT_SIGMOID: t.sigmoid_(); return;
    case DT_RELU: t.relu_(); return;
    case DT_SILU: at::silu_(const_cast<at::Tensor&>(t)); return;
    case DT_GELU: at::gelu_(const_cast<at::Tensor&>(t)); return;
    case DT_GELU_TANH: at::gelu_(const_cast<at::Tensor&>(t), "tanh"); return;
    case DT_SQUARE: t.square_(); return;
    case DT_LOGICAL_NOT: t.logical_not_(); return;
    case DT_ERF: t.erf_(); return;
    case DT_RECIPROCAL: t.reciprocal_(); return;
    case DT_SIGN: t.sign_(); return;
    case DT_FLOOR: t.floor_(); return;
    case DT_CEIL: t.ceil_(); return;
    case DT_ROUND: t.round_(); return;
    case DT_LOG1P: t.log1p_(); return;
    case DT_EXPM1: t.expm1_(); return;
    case DT_ISNAN:
    case DT_ISFINITE: arg_error("isnan/isfinite have no in-place form (their result is bool)");
    default: bad_op("unary", op);
  }
}

at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b) {
  switch (op) {
    case DT_ADD: return at::add(a, b);
    case DT_SUB: return at::sub(a, b);
    case DT_MUL: return at::mul(a, b);
    case DT_DIV: return at::div(a, b);
    case DT_POW: return at::pow(a, b);
    case DT_MAXIMUM: return at::maximum(a, b);
    case DT_MINIMUM: return at::minimum(a, b);
    case DT_EQ: return at::eq(a, b);
    case DT_NE: return at::ne(a, b);
    case DT_LT: return at::lt(a, b);
    case DT_LE: return at::le(a, b);
    case DT_GT: return at::gt(a, b);
    case DT_GE: return at::ge(a, b);
    case DT_RSUB: return at::sub(b, a);
    case DT_RDIV: return at::div(b, a);
    case DT_RPOW: return at::pow(b, a);
    case DT_LOGICAL_AND: return at::logical_and(a, b);
    case DT_LOGICAL_OR: return at::logical_or(a, b);
    case DT_ATAN2: return at::atan2(a, b);
    case DT_REMAINDER: return at::remainder(a, b);
    default: bad_op("binary", op);
  }
}

at::Tensor binary_scalar(int32_t op, const at::Tensor& a, double v) {
  const at::Scalar s = scalar_for(a, v);
  switch (op) {
    case DT_ADD: return at::add(a, s);
    case DT_SUB: return at::sub(a, s);
    case DT_MUL: return at::mul(a, s);
    case DT_DIV: return at::div(a, s);
    case DT_POW: return at::pow(a, s);
    case DT_MAXIMUM: return at::maximum(a, wrapped(a, v));
    case DT_MINIMUM: return at::minimum(a, wrapped(a, v));
    case DT_EQ: return at::eq(a, s);
    case DT_NE: return at::ne(a, s);
    case DT_LT: return at::lt(a, s);
    case DT_LE: return at::le(a, s);
    case DT_GT: return at::gt(a, s);
    case DT_GE: return at::ge(a, s);
    case DT_RSUB: return at::rsub(a, s);
    case DT_RDIV: return at::div(wrapped(a, v), a);
    case DT_RPOW: return at::pow(s, a);
    case DT_LOGICAL_AND: return at::logical_and(a, wrapped(a, v));
    case DT_LOGICAL_OR: return at::logical_or(a, wrapped(a, v));
    case DT_ATAN2: return at::atan2(a, wrapped(a, v));
    case DT_REMAINDER: return at::remainder(a, s);
    default: bad_op("binary", op);
  }
}

void binary_(int32_t op, const at::Tensor& a, const at::Tensor& b) {
  at::Tensor& out = const_cast<at::Tensor&>(a);
  switch (op) {
    case DT_ADD: a.add_(b); return;
    case DT_SUB: a.sub_(b); return;
    case DT_MUL: a.mul_(b); return;
    case DT_DIV: a.div_(b); return;
    case DT_POW: a.pow_(b); return;
    case DT_MAXIMUM: at::maximum_out(out, a, b); return;
    case DT_MINIMUM: at::minimum_out(out, a, b); return;
    case DT_EQ: a.eq_(b); return;
    case DT_NE: a.ne_(b); return;
    case DT_LT: a.lt_(b); return;
    case DT_LE: a.le_(b); return;
    case DT_GT: a.gt_(b); return;
    case DT_GE: a.ge_(b); return;
    case DT_RSUB: at::sub_out(out, b, a); return;
    case DT_RDIV: at::div_out(out, b, a); return;
    case DT_RPOW: at::pow_out(out, b, a); return;
    case DT_LOGICAL_AND: a.logical_and_(b); return;
    case DT_LOGICAL_OR: a.logical_or_(b); return;
    case DT_ATAN2: a.atan2_(b); return;
    case DT_REMAINDER: a.remainder_(b); return;
    default: bad_op("binary", op);
  }
}

void binary_scalar_(int32_t op, const at::Tensor& a, double v) {
  at::Tensor& out = const_cast<at::Tensor&>(a);
  const at::Scalar s = scalar_for(a, v);
  switch (op) {
    case DT_ADD: a.add_(s); return;
    case DT_SUB: a.sub_(s); return;
    case DT_MUL: a.mul_(s); return;
    case DT_DIV: a.div_(s); return;
    case DT_POW: a.pow_(s); return;
    case DT_MAXIMUM: a.clamp_min_(s); return;
    case DT_MINIMUM: a.clamp_max_(s); return;
    case DT_EQ: a.eq_(s); return;
    case DT_NE: a.ne_(s); return;
    case DT_LT: a.lt_(s); return;
    case DT_LE: a.le_(s); return;
    case DT_GT: a.gt_(s); return;
    case DT_GE: a.ge_(s); return;
    case DT_RSUB: at::sub_out(out, wrapped(a, v), a); return;
    case DT_RDIV: at::div_out(out, wrapped(a, v), a); return;
    case DT_RPOW: at::pow_out(out, s, a); return;
    case DT_LOGICAL_AND: a.logical_and_(wrapped(a, v)); return;
    case DT_LOGICAL_OR: a.logical_or_(wrapped(a, v)); return;
    case DT_ATAN2: a.atan2_(wrapped(a, v)); return;
    case DT_REMAINDER: a.remainder_(s); return;
    default: bad_op("binary", op);
  }
}

std::optional<at::Scalar> bound(const at::Tensor& t, double v, int32_t has) {
  if (has == 0) return std::nullopt;
  return scalar_for(t, v);
}

// addcmul with the backward of the unfused t + value * a * b: ATen's formula scales a full-size
// operand by value before multiplying by the gradient (an extra pass over memory per operand,
// even for value 1); this one multiplies once and scales only when value is not 1.
struct Addcmul : torch::autograd::Function<Addcmul> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& self, const at::Tensor& a,
                            const at::Tensor& b, double value) {
    ctx->save_for_backward({a, b});
    ctx->saved_data["value"] = value;
    ctx->saved_data["self_sizes"] = self.sizes().vec();
    return at::addcmul(self, a, b, value);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &a = saved[0], &b = saved[1], &g = grads[0];
    const double value = ctx->saved_data["value"].toDouble();
    auto scaled = [&](at::Tensor t) { return value == 1.0 ? t : t.mul(value); };
    at::Tensor grad_self, grad_a, grad_b;
    if (ctx->needs_input_grad(0)) grad_self = at::sum_to(g, ctx->saved_data["self_sizes"].toIntVector());
    if (ctx->needs_input_grad(1)) grad_a = at::sum_to(scaled(g.mul(b)), a.sizes());
    if (ctx->needs_input_grad(2)) grad_b = at::sum_to(scaled(g.mul(a)), b.sizes());
    return {grad_self, grad_a, grad_b, at::Tensor()};
  }
};

}  // namespace

at::Tensor dit4j::addcmul(const at::Tensor& self, const at::Tensor& a, const at::Tensor& b, double value) {
  const bool grad = at::GradMode::is_enabled() && (self.requires_grad() || a.requires_grad() || b.requires_grad());
  return grad ? Addcmul::apply(self, a, b, value) : at::addcmul(self, a, b, value);
}

extern "C" {

dt_tensor dt_unary(int32_t op, dt_tensor t) {
  return guard_t([&] { return make(unary(op, DT_ARG(t))); });
}

int32_t dt_unary_(int32_t op, dt_tensor t) {
  return guard_s([&] {
    unary_(op, DT_ARG(t));
    return 0;
  });
}

dt_tensor dt_binary(int32_t op, dt_tensor a, dt_tensor b) {
  return guard_t([&] { return make(binary(op, DT_ARG(a), DT_ARG(b))); });
}

dt_tensor dt_binary_scalar(int32_t op, dt_tensor a, double b) {
  return guard_t([&] { return make(binary_scalar(op, DT_ARG(a), b)); });
}

int32_t dt_binary_(int32_t op, dt_tensor a, dt_tensor b) {
  return guard_s([&] {
    binary_(op, DT_ARG(a), DT_ARG(b));
    return 0;
  });
}

int32_t dt_binary_scalar_(int32_t op, dt_tensor a, double b) {
  return guard_s([&] {
    binary_scalar_(op, DT_ARG(a), b);
    return 0;
  });
}

int32_t dt_add_scaled_(dt_tensor a, dt_tensor b, double alpha) {
  return guard_s([&] {
    const at::Tensor& x = DT_ARG(a);
    x.add_(DT_ARG(b), scalar_for(x, alpha));
    return 0;
  });
}

dt_tensor dt_add_scaled(dt_tensor a, dt_tensor b, double alpha) {
  return guard_t([&] {
    const at::Tensor& x = DT_ARG(a);
    return make(at::add(x, DT_ARG(b), scalar_for(x, alpha)));
  });
}

int32_t dt_lerp_(dt_tensor a, dt_tensor b, double weight) {
  return guard_s([&] {
    DT_ARG(a).lerp_(DT_ARG(b), weight);
    return 0;
  });
}

int32_t dt_addcmul_(dt_tensor t, dt_tensor a, dt_tensor b, double value) {
  return guard_s([&] {
    DT_ARG(t).addcmul_(DT_ARG(a), DT_ARG(b), value);
    return 0;
  });
}

dt_tensor dt_addcmul(dt_tensor t, dt_tensor a, dt_tensor b, double value) {
  return guard_t([&] { return make(dit4j::addcmul(DT_ARG(t), DT_ARG(a), DT_ARG(b), value)); });
}

int32_t dt_addcdiv_(dt_tensor t, dt_tensor a, dt_tensor b, double value) {
  return guard_s([&] {
    DT_ARG(t).addcdiv_(DT_ARG(a), DT_ARG(b), value);
    return 0;
  });
}

dt_tensor dt_gelu(dt_tensor t, int32_t tanh_approximation) {
  return guard_t([&] { return make(at::gelu(DT_ARG(t), tanh_approximation ? "tanh" : "none")); });
}

dt_tensor dt_clamp(dt_tensor t, double min, double max, int32_t has_min, int32_t has_max) {
  return guard_t([&] {
    const at::Tensor& x = DT_ARG(t);
    return make(at::clamp(x, bound(x, min, has_min), bound(x, max, has_max)));
  });
}

int32_t dt_clamp_(dt_tensor t, double min, double max, int32_t has_min, int32_t has_max) {
  return guard_s([&] {
    const at::Tensor& x = DT_ARG(t);
    x.clamp_(bound(x, min, has_min), bound(x, max, has_max));
    return 0;
  });
}

dt_tensor dt_where(dt_tensor condition, dt_tensor a, dt_tensor b) {
  return guard_t([&] { return make(at::where(DT_ARG(condition), DT_ARG(a), DT_ARG(b))); });
}

dt_tensor dt_masked_fill(dt_tensor t, dt_tensor mask, double value) {
  return guard_t([&] {
    const at::Tensor& x = DT_ARG(t);
    return make(x.masked_fill(DT_ARG(mask), scalar_for(x, value)));
  });
}

// The same path Java takes per op: the C entry point, then the handle release.
int64_t dt_bench_binary_loop(int32_t op, dt_tensor a, dt_tensor b, int64_t iters) {
  return guard<int64_t>(-1, [&]() -> int64_t {
    DT_ARG(a);
    DT_ARG(b);
    check_count(iters, "iters", int64_t(1) << 40);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < iters; i++) {
      dt_tensor r = dt_binary(op, a, b);
      if (r == nullptr) return -1;  // the error is already recorded
      dt_tensor_free(r);
    }
    const auto end = std::chrono::steady_clock::now();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count();
  });
}

}  // extern "C"
