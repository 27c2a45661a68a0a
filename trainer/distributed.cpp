// Implementation of trainer/distributed.h on c10d (TCPStore, PrefixStore, ProcessGroupGloo / ProcessGroupNCCL).
#include "trainer/distributed.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

#include "core/error.h"
#include "core/log.h"

namespace anvil {
namespace {

int env_int(const char* name, int fallback) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    long x = std::strtol(v, &end, 10);
    if (*end != '\0' || x < 0) throw UsageError(str("environment variable ", name, "='", v, "' is not a non-negative integer"));
    return static_cast<int>(x);
}

}  // namespace

struct DistributedWorld::Connection {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::Backend> backend;
};

DistributedWorld::DistributedWorld(WorldInfo info, c10::Device device) : info_(std::move(info)), device_(device) {}

WorldInfo WorldInfo::from_environment() {
    WorldInfo w;
    w.world_size = env_int("WORLD_SIZE", 1);
    w.rank = env_int("RANK", 0);
    w.local_rank = env_int("LOCAL_RANK", 0);
    w.local_world_size = env_int("LOCAL_WORLD_SIZE", w.world_size);
    if (const char* a = std::getenv("MASTER_ADDR")) w.master_addr = a;
    w.master_port = env_int("MASTER_PORT", 29500);
    w.restart_count = env_int("TORCHELASTIC_RESTART_COUNT", 0);
    const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    w.use_agent_store = agent && (std::string(agent) == "True" || std::string(agent) == "true" || std::string(agent) == "1");
    if (w.world_size < 1) throw UsageError("WORLD_SIZE must be at least 1");
    if (w.rank >= w.world_size) throw UsageError(str("RANK ", w.rank, " is not below WORLD_SIZE ", w.world_size));
    if (w.local_rank >= w.local_world_size)
        throw UsageError(str("LOCAL_RANK ", w.local_rank, " is not below LOCAL_WORLD_SIZE ", w.local_world_size));
    if (w.world_size > 1 && w.master_port > 65535) throw UsageError(str("MASTER_PORT ", w.master_port, " is not a port"));
    return w;
}

std::unique_ptr<DistributedWorld> DistributedWorld::connect(const WorldInfo& info, c10::Device device,
                                                            std::chrono::milliseconds timeout) {
    std::unique_ptr<DistributedWorld> world(new DistributedWorld(info, device));
    const bool cuda = device.is_cuda();
    const char* prefixed = std::getenv("ANVIL_LAUNCHER_PREFIXES_OUTPUT");
    if (!(prefixed && std::string(prefixed) == "1")) log::set_rank(info.rank, info.world_size);
    if (info.world_size == 1) return world;

    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(info.master_port);
    options.isServer = info.rank == 0 && !info.use_agent_store;
    options.numWorkers = info.world_size;
    options.waitWorkers = false;
    options.timeout = timeout;
    c10::intrusive_ptr<c10d::Store> tcp;
    try {
        tcp = c10::make_intrusive<c10d::TCPStore>(info.master_addr, options);
    } catch (const std::exception& e) {
        throw Error(str("rank ", info.rank, ": cannot reach the c10d store at ", info.master_addr, ":", info.master_port,
                        " (", e.what(), "); check MASTER_ADDR/MASTER_PORT and that rank 0 is running"));
    }
    // Keys of each restart attempt are separate, as torchrun's agent store expects (conventions.md §1.4).
    auto connection = std::make_unique<Connection>();
    connection->store = c10::make_intrusive<c10d::PrefixStore>(str("/worker/attempt_", info.restart_count), tcp);
    if (cuda) {
#ifdef USE_C10D_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = timeout;
        connection->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(connection->store, info.rank, info.world_size, opts);
#else
        throw Error("this build of Anvil has no NCCL support");
#endif
    } else {
        auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
        opts->devices.push_back(info.master_addr == "127.0.0.1" || info.master_addr == "localhost"
                                    ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                    : c10d::ProcessGroupGloo::createDefaultDevice());
        connection->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(connection->store, info.rank, info.world_size, opts);
    }
    world->connection_ = std::move(connection);
    log::debug("rank ", info.rank, " of ", info.world_size, " connected (", cuda ? "NCCL" : "Gloo", ")");
    return world;
}

DistributedWorld::~DistributedWorld() = default;

namespace {

// Runs `collective` on `tensors`; NCCL takes only device tensors, so CPU ones travel through the device.
template <class Collective>
void on_device(std::vector<at::Tensor>& tensors, c10::Device device, Collective collective) {
    if (!device.is_cuda()) return collective(tensors);
    std::vector<at::Tensor> staged;
    for (const auto& t : tensors) staged.push_back(t.is_cuda() ? t : t.to(device));
    collective(staged);
    for (size_t i = 0; i < tensors.size(); ++i)
        if (!tensors[i].is_cuda()) tensors[i].copy_(staged[i]);
}

}  // namespace

void DistributedWorld::all_reduce_sum(std::vector<at::Tensor>& tensors) {
    if (!connection_ || tensors.empty()) return;
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    on_device(tensors, device_, [&](std::vector<at::Tensor>& t) { connection_->backend->allreduce(t, opts)->wait(); });
}

void DistributedWorld::broadcast(std::vector<at::Tensor>& tensors, int root) {
    if (!connection_ || tensors.empty()) return;
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    on_device(tensors, device_, [&](std::vector<at::Tensor>& t) { connection_->backend->broadcast(t, opts)->wait(); });
}

void DistributedWorld::barrier() {
    if (!connection_) return;
    c10d::BarrierOptions opts;
    if (device_.is_cuda()) opts.device_ids = {device_.index()};  // NCCL: no guessing which GPU is ours
    connection_->backend->barrier(opts)->wait();
}

}  // namespace anvil
