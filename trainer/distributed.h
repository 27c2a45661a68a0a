// The distributed world of one process, built from torchrun's environment contract (specs/conventions.md §1):
// RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_RESTART_COUNT and
// TORCHELASTIC_USE_AGENT_STORE. Rank 0 hosts the c10d TCPStore unless torchrun's agent hosts it; keys are
// prefixed per restart attempt. Each rank computes on one device (trainer/device.h): the backend is Gloo on
// the CPU and NCCL on CUDA, where CPU tensors passed to a collective travel through the device. With no such
// environment (or WORLD_SIZE=1) the world is a single process and every collective is a no-op.
// Gradient bucketing and optimizer sharding build on these collectives elsewhere (trainer/grad_sync.h).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace anvil {

struct WorldInfo {
    int rank = 0, local_rank = 0, world_size = 1, local_world_size = 1;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    int restart_count = 0;
    bool use_agent_store = false;

    // Reads torchrun's variables; missing ones mean a single process. Inconsistent values are UsageErrors.
    static WorldInfo from_environment();
};

class DistributedWorld {
public:
    // Connects to the other ranks (blocking until all arrive or `timeout`). A CUDA `device` selects NCCL.
    static std::unique_ptr<DistributedWorld> connect(const WorldInfo& info, c10::Device device,
                                                     std::chrono::milliseconds timeout = std::chrono::minutes(10));
    ~DistributedWorld();

    int rank() const { return info_.rank; }
    int world_size() const { return info_.world_size; }
    const WorldInfo& info() const { return info_; }
    bool is_main() const { return info_.rank == 0; }
    // The device this rank computes on (cpu, or cuda:<index>).
    c10::Device device() const { return device_; }

    // In-place sum across ranks of each tensor (all ranks must pass tensors of the same shapes).
    void all_reduce_sum(std::vector<at::Tensor>& tensors);
    // In-place: every rank ends with `root`'s values.
    void broadcast(std::vector<at::Tensor>& tensors, int root);
    void barrier();

private:
    struct Connection;  // the c10d store and backend; absent for a single process
    DistributedWorld(WorldInfo info, c10::Device device);
    WorldInfo info_;
    c10::Device device_;
    std::unique_ptr<Connection> connection_;
};

}  // namespace anvil
