// Process groups over libtorch's c10d: a TCPStore rendezvous, then Gloo (CPU tensors) or NCCL
// (CUDA tensors, where this libtorch has it) collectives with asynchronous work handles. Every
// failure of a peer, the network or a deadline becomes DT_ERR_DISTRIBUTED or DT_ERR_TIMEOUT.
#include "internal.h"

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#ifdef DIT4J_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DIT4J_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <c10/util/Logging.h>

#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

struct dt_process_group_s {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  int32_t rank;
  int32_t size;
  std::chrono::milliseconds timeout;
  bool native_avg;  // NCCL averages itself; Gloo sums and the shim divides
};

// A started collective, the tensors it uses (kept alive while it runs) and, for an average
// over a backend that only sums, the tensor to divide by the world size once it has finished.
struct dt_work_s {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> tensors;
  at::Tensor average;
  int64_t divisor;
  std::chrono::milliseconds timeout;
};

using namespace dit4j;

namespace {

bool mentions_timeout(const char* msg) {
  return std::strstr(msg, "imed out") != nullptr || std::strstr(msg, "imeout") != nullptr ||
         std::strstr(msg, "deadline") != nullptr;
}

// Like guard, but failures other than bad arguments are distributed failures: a timeout when the
// message says so (c10d and Gloo report deadlines as plain errors), else DT_ERR_DISTRIBUTED.
template <class R, class F>
R dist_guard(R fail, F&& f) noexcept {
  try {
    return f();
  } catch (const ArgumentError& e) {
    set_error(DT_ERR_ARGUMENT, e.what());
  } catch (const c10::Error& e) {
    const char* msg = e.what_without_backtrace();
    set_error(mentions_timeout(msg) ? DT_ERR_TIMEOUT : DT_ERR_DISTRIBUTED, msg);
  } catch (const std::exception& e) {
    set_error(mentions_timeout(e.what()) ? DT_ERR_TIMEOUT : DT_ERR_DISTRIBUTED, e.what());
  } catch (...) {
    set_error(DT_ERR_DISTRIBUTED, "unknown C++ exception in a c10d collective");
  }
  return fail;
}

dt_process_group_s& group(dt_process_group pg) {
  if (pg == nullptr) arg_error("argument 'pg' is NULL (a process group is required)");
  return *pg;
}

c10d::ReduceOp reduce_op(int32_t op, const dt_process_group_s& g) {
  switch (op) {
    case DT_REDUCE_OP_SUM: return c10d::ReduceOp::SUM;
    case DT_REDUCE_OP_AVG: return g.native_avg ? c10d::ReduceOp::AVG : c10d::ReduceOp::SUM;
    case DT_REDUCE_OP_MAX: return c10d::ReduceOp::MAX;
    case DT_REDUCE_OP_MIN: return c10d::ReduceOp::MIN;
    default: arg_error("unknown reduce op " + std::to_string(op) + " (0 sum, 1 average, 2 max, 3 min)");
  }
}

// A collective's tensor: contiguous, and on CUDA for NCCL (Gloo takes CPU and CUDA tensors).
const at::Tensor& operand(dt_tensor h, const char* name, const dt_process_group_s& g) {
  const at::Tensor& t = arg(h, name);
  if (!t.is_contiguous()) arg_error(std::string("'") + name + "' must be contiguous for a collective");
  if (g.native_avg && !t.is_cuda()) {
    arg_error(std::string("'") + name + "' is on " + t.device().str() + " but an NCCL process group needs CUDA tensors");
  }
  return t;
}

dt_work started(c10::intrusive_ptr<c10d::Work> work, std::vector<at::Tensor> tensors, const dt_process_group_s& g,
                at::Tensor average = {}) {
  return new dt_work_s{std::move(work), std::move(tensors), std::move(average), g.size, g.timeout};
}

#ifdef DIT4J_WITH_GLOO
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  // As torch.distributed: GLOO_SOCKET_IFNAME names the interface; a loopback master means a
  // single-machine job (bind loopback); otherwise the address this host's name resolves to.
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  }
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0 || master_addr == "::1") {
    return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

}  // namespace

extern "C" {

int32_t dt_dist_backend_available(int32_t backend) {
  switch (backend) {
#ifdef DIT4J_WITH_GLOO
    case DT_DIST_GLOO: return 1;
#endif
#ifdef DIT4J_WITH_NCCL
    case DT_DIST_NCCL: return 1;
#endif
    default: return 0;
  }
}

// Rank 0's listening socket, bound to the master address's interface only: c10d's TCPStore binds
// to every interface, so a single-node job on 127.0.0.1 would be reachable from the network.
// TCPStore takes the socket over (TCPStoreOptions::masterListenFd).
static int listen_on(const char* addr, int32_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  int rc = getaddrinfo(addr, service.c_str(), &hints, &found);
  if (rc != 0) throw std::runtime_error(std::string("cannot resolve the master address ") + addr + ": " + gai_strerror(rc));
  std::string reason = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 2048) == 0) {
      freeaddrinfo(found);
      return fd;
    }
    reason = std::strerror(errno);
    close(fd);
  }
  freeaddrinfo(found);
  throw std::runtime_error(std::string("cannot listen on ") + addr + ":" + service + ": " + reason);
}

dt_process_group dt_process_group_new(int32_t backend, const char* master_addr, int32_t master_port, int32_t rank,
                                      int32_t world_size, int64_t timeout_ms, int32_t device_index) {
  return dist_guard<dt_process_group>(nullptr, [&]() -> dt_process_group {
    if (master_addr == nullptr || *master_addr == '\0') arg_error("the master address is empty");
    if (master_port < 1 || master_port > 65535) arg_error("the master port must lie in [1, 65535], got " + std::to_string(master_port));
    if (world_size < 1) arg_error("the world size must be >= 1, got " + std::to_string(world_size));
    if (rank < 0 || rank >= world_size) {
      arg_error("rank " + std::to_string(rank) + " is outside a world of " + std::to_string(world_size));
    }
    if (timeout_ms < 1) arg_error("the timeout must be >= 1 ms, got " + std::to_string(timeout_ms));
    const std::chrono::milliseconds timeout(timeout_ms);
    // c10d logs each failed connection attempt with a C++ stack trace; TORCH_CPP_LOG_LEVEL (which the
    // dit4j command line sets to FATAL unless --verbose) is read only by initLogging, which an
    // embedding must call itself.
    c10::initLogging();

    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(master_port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = static_cast<size_t>(world_size);
    store_options.waitWorkers = true;  // the server returns once every rank has connected, or times out
    store_options.timeout = timeout;
    if (rank == 0 && std::getenv("DIT4J_DIST_BIND_ALL") == nullptr) store_options.masterListenFd = listen_on(master_addr, master_port);
    auto store = c10::make_intrusive<c10d::TCPStore>(master_addr, store_options);

    auto g = std::make_unique<dt_process_group_s>();
    g->store = store;
    g->rank = rank;
    g->size = world_size;
    g->timeout = timeout;
    switch (backend) {
      case DT_DIST_GLOO: {
#ifdef DIT4J_WITH_GLOO
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->devices.push_back(gloo_device(master_addr));
        g->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
        g->native_avg = false;
        break;
#else
        arg_error("this dit4j shim was built without Gloo (libtorch's gloo headers were not found at build time)");
#endif
      }
      case DT_DIST_NCCL: {
#ifdef DIT4J_WITH_NCCL
        if (device_index < 0) arg_error("NCCL needs a CUDA device index (LOCAL_RANK), got " + std::to_string(device_index));
        auto options = c10d::ProcessGroupNCCL::Options::create();
        options->timeout = timeout;
        auto nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
        nccl->setBoundDeviceId(at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device_index)));
        g->backend = nccl;
        g->native_avg = true;
        break;
#else
        arg_error("this dit4j shim was built without NCCL (it needs a CUDA libtorch with NCCL): use Gloo");
#endif
      }
      default:
        arg_error("unknown distributed backend " + std::to_string(backend) + " (0 Gloo, 1 NCCL)");
    }
    return g.release();
  });
}

void dt_process_group_free(dt_process_group pg) {
  dist_guard<int32_t>(0, [&] {
    delete pg;  // the backend's destructor waits for its queued work, each bounded by the timeout
    return 0;
  });
}

int32_t dt_process_group_rank(dt_process_group pg) {
  return guard_s([&] { return group(pg).rank; });
}

int32_t dt_process_group_size(dt_process_group pg) {
  return guard_s([&] { return group(pg).size; });
}

dt_work dt_all_reduce(dt_process_group pg, dt_tensor t, int32_t op) {
  return dist_guard<dt_work>(nullptr, [&] {
    auto& g = group(pg);
    std::vector<at::Tensor> ts{operand(t, "t", g)};
    c10d::AllreduceOptions o;
    o.reduceOp = reduce_op(op, g);
    o.timeout = g.timeout;
    auto work = g.backend->allreduce(ts, o);
    bool divide = op == DT_REDUCE_OP_AVG && !g.native_avg && g.size > 1;
    return started(std::move(work), ts, g, divide ? ts[0] : at::Tensor());
  });
}

dt_work dt_broadcast(dt_process_group pg, dt_tensor t, int32_t root) {
  return dist_guard<dt_work>(nullptr, [&] {
    auto& g = group(pg);
    if (root < 0 || root >= g.size) arg_error("root rank " + std::to_string(root) + " is outside a world of " + std::to_string(g.size));
    std::vector<at::Tensor> ts{operand(t, "t", g)};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    o.timeout = g.timeout;
    return started(g.backend->broadcast(ts, o), ts, g);
  });
}

dt_work dt_all_gather(dt_process_group pg, dt_tensor out, dt_tensor in) {
  return dist_guard<dt_work>(nullptr, [&] {
    auto& g = group(pg);
    at::Tensor o = operand(out, "out", g), i = operand(in, "in", g);
    if (o.numel() != i.numel() * g.size || o.scalar_type() != i.scalar_type()) {
      arg_error("all-gather output of " + std::to_string(o.numel()) + " elements (" + std::string(c10::toString(o.scalar_type())) +
                ") must hold world_size (" + std::to_string(g.size) + ") x " + std::to_string(i.numel()) + " elements of the input's dtype (" +
                c10::toString(i.scalar_type()) + ")");
    }
    c10d::AllgatherOptions opts;
    opts.timeout = g.timeout;
    return started(g.backend->_allgather_base(o, i, opts), {o, i}, g);
  });
}

dt_work dt_reduce_scatter(dt_process_group pg, dt_tensor out, dt_tensor in, int32_t op) {
  return dist_guard<dt_work>(nullptr, [&] {
    auto& g = group(pg);
    at::Tensor o = operand(out, "out", g), i = operand(in, "in", g);
    if (i.numel() != o.numel() * g.size || o.scalar_type() != i.scalar_type()) {
      arg_error("reduce-scatter input of " + std::to_string(i.numel()) + " elements (" + std::string(c10::toString(i.scalar_type())) +
                ") must hold world_size (" + std::to_string(g.size) + ") x " + std::to_string(o.numel()) + " elements of the output's dtype (" +
                c10::toString(o.scalar_type()) + ")");
    }
    c10d::ReduceScatterOptions opts;
    opts.reduceOp = reduce_op(op, g);
    opts.timeout = g.timeout;
    bool divide = op == DT_REDUCE_OP_AVG && !g.native_avg && g.size > 1;
    return started(g.backend->_reduce_scatter_base(o, i, opts), {o, i}, g, divide ? o : at::Tensor());
  });
}

dt_work dt_barrier(dt_process_group pg) {
  return dist_guard<dt_work>(nullptr, [&] {
    auto& g = group(pg);
    c10d::BarrierOptions o;
    o.timeout = g.timeout;
    return started(g.backend->barrier(o), {}, g);
  });
}

int32_t dt_work_wait(dt_work w, int64_t timeout_ms) {
  return dist_guard<int32_t>(-1, [&] {
    if (w == nullptr) arg_error("argument 'w' is NULL (a work handle is required)");
    std::chrono::milliseconds timeout = timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : w->timeout;
    if (!w->work->wait(timeout)) throw std::runtime_error("the collective was aborted");
    if (w->average.defined()) {
      w->average.div_(w->divisor);
      w->average = at::Tensor();  // once, however often the caller waits
    }
    return 0;
  });
}

int32_t dt_work_is_completed(dt_work w) {
  return dist_guard<int32_t>(-1, [&] {
    if (w == nullptr) arg_error("argument 'w' is NULL (a work handle is required)");
    return w->work->isCompleted() ? 1 : 0;
  });
}

void dt_work_free(dt_work w) {
  delete w;
}

}  // extern "C"
