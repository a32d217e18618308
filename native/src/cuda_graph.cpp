// CUDA graphs: the kernels a sequence of dt_* calls launches, captured once on a side stream and
// replayed with one launch (no per-kernel host work: what small-batch sampling is bound by).
//
// The protocol (Java's CudaGraph drives it, on one thread):
//   dt_cuda_graph_new         makes a side stream current (after a device sync), so that warm-up
//                             runs and the capture use it, as capture requires;
//   (warm-up calls)           cuBLAS/cuDNN handles and workspaces are created outside the capture;
//   dt_cuda_graph_capture_begin / (the calls) / dt_cuda_graph_capture_end
//                             end restores the caller's stream and syncs the device;
//   dt_cuda_graph_replay      launches the graph on the caller's current stream, ordered with
//                             eager work; tensors made during the capture hold the results.
// Random ops in the capture stay random across replays: the device's default generator is
// registered by libtorch, others with dt_cuda_graph_register_generator before the capture.
//
// Capture needs libtorch's CUDA headers and the toolkit's (ATen/cuda/CUDAGraph.h includes
// cuda_runtime_api.h), so this code is compiled only where CMake finds both
// (DIT4J_WITH_CUDA_GRAPHS); elsewhere every call fails with a message that says why.
#include "internal.h"

#ifdef DIT4J_WITH_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <memory>

struct dt_cuda_graph_s {
  c10::DeviceIndex device;
  std::unique_ptr<at::cuda::CUDAGraph> graph = std::make_unique<at::cuda::CUDAGraph>();
  std::optional<c10::cuda::CUDAStreamGuard> side_stream;  // current from new until capture end
  enum class State { kWarmup, kCapturing, kCaptured } state = State::kWarmup;
};
#else
struct dt_cuda_graph_s {};
#endif

using namespace dit4j;

namespace {

#ifdef DIT4J_WITH_CUDA_GRAPHS
dt_cuda_graph_s& checked(dt_cuda_graph g, dt_cuda_graph_s::State expected, const char* what) {
  if (g == nullptr) arg_error("CUDA graph handle is NULL");
  if (g->state != expected) {
    static const char* names[] = {"warming up", "capturing", "captured"};
    arg_error(std::string("cannot ") + what + " a CUDA graph that is " + names[static_cast<int>(g->state)]);
  }
  return *g;
}

void end_on_side_stream(dt_cuda_graph_s& g) {
  g.side_stream.reset();
  at::detail::getCUDAHooks().deviceSynchronize(g.device);
}
#else
[[noreturn]] void unsupported() {
  throw std::runtime_error(
      "this dit4j shim was built without CUDA graph support (it needs a CUDA libtorch and the CUDA toolkit's "
      "headers at build time; native/build.sh against such a torch builds it)");
}
#endif

}  // namespace

extern "C" {

int32_t dt_cuda_graphs_supported(void) {
#ifdef DIT4J_WITH_CUDA_GRAPHS
  return 1;
#else
  return 0;
#endif
}

dt_cuda_graph dt_cuda_graph_new(int32_t device) {
  return guard<dt_cuda_graph>(nullptr, [&]() -> dt_cuda_graph {
#ifdef DIT4J_WITH_CUDA_GRAPHS
    const c10::DeviceIndex dev = cuda_device(device);
    at::detail::getCUDAHooks().deviceSynchronize(dev);  // inputs made on other streams are ready
    auto g = std::make_unique<dt_cuda_graph_s>();
    g->device = dev;
    g->side_stream.emplace(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, dev));
    return g.release();
#else
    unsupported();
#endif
  });
}

int32_t dt_cuda_graph_register_generator(dt_cuda_graph g, dt_generator gen) {
  return guard_s([&]() -> int32_t {
#ifdef DIT4J_WITH_CUDA_GRAPHS
    auto& graph = checked(g, dt_cuda_graph_s::State::kWarmup, "register a generator with");
    if (gen == nullptr) arg_error("generator handle is NULL");
    if (gen->g.device().type() != c10::DeviceType::CUDA) {
      arg_error("only CUDA generators can be registered with a CUDA graph, got one on " + gen->g.device().str());
    }
    graph.graph->register_generator_state(gen->g);
    return 0;
#else
    unsupported();
#endif
  });
}

int32_t dt_cuda_graph_capture_begin(dt_cuda_graph g) {
  return guard_s([&]() -> int32_t {
#ifdef DIT4J_WITH_CUDA_GRAPHS
    auto& graph = checked(g, dt_cuda_graph_s::State::kWarmup, "begin capturing");
    at::detail::getCUDAHooks().deviceSynchronize(graph.device);  // warm-up work done
    graph.graph->capture_begin();
    graph.state = dt_cuda_graph_s::State::kCapturing;
    return 0;
#else
    unsupported();
#endif
  });
}

int32_t dt_cuda_graph_capture_end(dt_cuda_graph g) {
  return guard_s([&]() -> int32_t {
#ifdef DIT4J_WITH_CUDA_GRAPHS
    auto& graph = checked(g, dt_cuda_graph_s::State::kCapturing, "end the capture of");
    graph.state = dt_cuda_graph_s::State::kCaptured;  // even if ending fails: the graph is not replayable
    try {
      graph.graph->capture_end();
    } catch (...) {
      graph.graph.reset();
      end_on_side_stream(graph);
      throw;
    }
    end_on_side_stream(graph);
    return 0;
#else
    unsupported();
#endif
  });
}

int32_t dt_cuda_graph_replay(dt_cuda_graph g) {
  return guard_s([&]() -> int32_t {
#ifdef DIT4J_WITH_CUDA_GRAPHS
    auto& graph = checked(g, dt_cuda_graph_s::State::kCaptured, "replay");
    if (!graph.graph) arg_error("cannot replay a CUDA graph whose capture failed");
    graph.graph->replay();
    return 0;
#else
    unsupported();
#endif
  });
}

void dt_cuda_graph_free(dt_cuda_graph g) {
  if (g == nullptr) return;
#ifdef DIT4J_WITH_CUDA_GRAPHS
  // A capture abandoned half-way (an error in the captured calls) is ended and dropped first.
  if (g->state == dt_cuda_graph_s::State::kCapturing) {
    try {
      g->graph->capture_end();
    } catch (...) {
    }
  }
  try {
    g->graph.reset();
    end_on_side_stream(*g);
  } catch (...) {
  }
#endif
  delete g;
}

}  // extern "C"
