// distributed.cpp — data-parallel collectives over libtorch's c10d with Gloo (CPU, TCP).
//
// A group joins through a TCPStore (rank 0 serves it at host:port, as torchrun's MASTER_ADDR /
// MASTER_PORT) and then all-reduces or broadcasts lists of tensors in place. Lists are packed
// into one flat buffer so a step costs one collective, whatever the number of parameters.
#include "include/ctorch.h"

#include <ATen/ATen.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

struct ct_tensor {
  at::Tensor t;
};

struct ct_group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::chrono::milliseconds timeout;
};

int ct_internal_guarded(const std::function<void()> &body);  // ctorch.cpp: C++ errors → ct_last_error()

namespace {

std::vector<at::Tensor> tensors(ct_tensor_t *list, int n) {
  if (n < 0 || (n > 0 && !list)) throw std::invalid_argument("ctorch: bad tensor list");
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (int i = 0; i < n; i++) {
    if (!list[i]) throw std::invalid_argument("ctorch: NULL tensor handle in a collective");
    out.push_back(list[i]->t);
  }
  return out;
}

// One flat buffer holding every tensor, in order (they share one dtype).
at::Tensor pack(const std::vector<at::Tensor> &ts) {
  std::vector<at::Tensor> flat;
  flat.reserve(ts.size());
  for (const auto &t : ts) {
    if (t.scalar_type() != ts[0].scalar_type()) throw std::invalid_argument("ctorch: a collective's tensors must share one dtype");
    flat.push_back(t.detach().reshape({-1}));
  }
  return at::cat(flat);
}

void unpack(const at::Tensor &flat, std::vector<at::Tensor> &ts) {
  at::NoGradGuard no_grad;
  int64_t offset = 0;
  for (auto &t : ts) {
    int64_t n = t.numel();
    t.copy_(flat.slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

void wait(ct_group_t g, const c10::intrusive_ptr<c10d::Work> &work) {
  if (!work->wait(g->timeout)) throw std::runtime_error("collective did not complete");
}

}  // namespace

extern "C" {

ct_group_t ct_group_join(const char *host, int port, int rank, int world, int64_t timeout_ms) {
  ct_group_t out = nullptr;
  ct_internal_guarded([&] {
    if (!host || port <= 0 || port > 65535 || world < 1 || rank < 0 || rank >= world || timeout_ms <= 0)
      throw std::invalid_argument("ctorch: bad process group settings");
    auto timeout = std::chrono::milliseconds(timeout_ms);
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(port);
    o.isServer = rank == 0;
    o.numWorkers = static_cast<std::size_t>(world);
    o.waitWorkers = true;
    o.timeout = timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME names the interface (as in PyTorch); otherwise a loopback master means one
    // machine, and any other master the address this machine's hostname resolves to.
    const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
    std::string h(host);
    if (ifname && *ifname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (h == "127.0.0.1" || h == "localhost" || h == "::1") {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(h));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
    out = new ct_group{store, pg, timeout};
  });
  return out;
}

int ct_group_allreduce_sum(ct_group_t g, ct_tensor_t *list, int n) {
  return ct_internal_guarded([&] {
    if (!g) throw std::invalid_argument("ctorch: NULL process group");
    auto ts = tensors(list, n);
    if (ts.empty()) return;
    std::vector<at::Tensor> buffer{pack(ts)};
    wait(g, g->pg->allreduce(buffer, c10d::AllreduceOptions{}));
    unpack(buffer[0], ts);
  });
}

int ct_group_broadcast(ct_group_t g, ct_tensor_t *list, int n, int root) {
  return ct_internal_guarded([&] {
    if (!g) throw std::invalid_argument("ctorch: NULL process group");
    auto ts = tensors(list, n);
    if (ts.empty()) return;
    std::vector<at::Tensor> buffer{pack(ts)};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    wait(g, g->pg->broadcast(buffer, o));
    unpack(buffer[0], ts);
  });
}

int ct_group_barrier(ct_group_t g) {
  return ct_internal_guarded([&] {
    if (!g) throw std::invalid_argument("ctorch: NULL process group");
    wait(g, g->pg->barrier(c10d::BarrierOptions{}));
  });
}

void ct_group_free(ct_group_t g) { delete g; }

}  // extern "C"
