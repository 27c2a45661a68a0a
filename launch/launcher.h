// The process supervisor behind `anvilrun`, a torchrun-compatible launcher for native binaries: it starts
// one worker process per local rank with torchrun's environment contract (specs/conventions.md §1.1),
// prefixes and tees each worker's output, forwards SIGINT/SIGTERM, tears the whole local group down when one
// worker fails, and restarts the group (TORCHELASTIC_RESTART_COUNT incremented) up to max_restarts times.
// Static rendezvous only: every node is started with the same --nnodes, --master-addr and --master-port
// and its own --node-rank. It links no LibTorch, so it starts instantly.
#pragma once

#include <string>
#include <vector>

namespace anvil {

struct LaunchOptions {
    int nproc_per_node = 1;
    int nnodes = 1;
    int node_rank = 0;
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    bool standalone = false;  // one node, a free port chosen on 127.0.0.1
    int max_restarts = 0;
    std::string log_dir;      // per-attempt, per-rank log files when set
    std::string run_id = "none";
    std::vector<std::string> command;  // program and its arguments
};

// The environment a worker gets (without the parent's variables), exposed for tests.
std::vector<std::pair<std::string, std::string>> worker_environment(const LaunchOptions& options, int local_rank,
                                                                     int restart_count);

// Runs the job to completion; returns the exit code for anvilrun: 0, or the failing worker's exit code
// (128 + signal number for a worker killed by a signal).
int launch(const LaunchOptions& options);

// A TCP port on 127.0.0.1 that was free a moment ago.
int find_free_port();

}  // namespace anvil
