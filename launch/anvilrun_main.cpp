// `anvilrun`: a torchrun-compatible launcher for native programs (launch/launcher.h). Accepts torchrun's
// static-rendezvous flags with dashes or underscores; `--no-python` is accepted and implied.
//   anvilrun --nproc-per-node 2 ./build/bin/anvil run cfg.toml
//   anvilrun --nnodes 2 --node-rank 0 --master-addr HEAD --master-port 29500 --nproc-per-node 8 anvil run cfg.toml
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "launch/cli_args.h"
#include "launch/launcher.h"

namespace anvil {
namespace {

const cli::Command kCommand{
    "",
    "Start PROGRAM once per local rank with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, "
    "MASTER_PORT, ...),\nprefix and tee their output, and restart all of them when one fails.",
    {"PROGRAM [ARGS...]"},
    {
        {"nproc-per-node", "N", "workers on this node: a number, cpu (one per core), gpu or auto (GPUs, else cores)"},
        {"nnodes", "N", "number of nodes (static rendezvous: start anvilrun on each node)"},
        {"node-rank", "R", "this node's index in [0, nnodes)"},
        {"master-addr", "HOST", "address of the node that hosts rank 0 (default 127.0.0.1)"},
        {"master-port", "PORT", "port of rank 0's c10d store (default 29500)"},
        {"standalone", "", "single node on 127.0.0.1 with a free port"},
        {"max-restarts", "K", "restart all workers up to K times after a failure (default 0)"},
        {"log-dir", "DIR", "also write each worker's output to DIR/attempt_<n>/rank_<r>.log"},
        {"run-id", "ID", "value of TORCHELASTIC_RUN_ID (default none)"},
        {"no-python", "", "accepted for torchrun compatibility; anvilrun always runs PROGRAM directly"},
    },
    "Exit code: 0 when every worker succeeds, else the failing worker's exit code (128 + signal when killed).\n"
    "Dynamic rendezvous (--rdzv-backend c10d) is torchrun's: use torchrun --no-python for that.",
    /*trailing_command=*/true};

int count_gpus() {
    int n = 0;
    while (std::filesystem::exists(str("/dev/nvidia", n))) ++n;
    return n;
}

int nproc_per_node(const cli::Args& args) {
    std::string v = args.get("nproc-per-node", "1");
    int cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    if (v == "cpu") return cores;
    if (v == "gpu") {
        if (count_gpus() == 0) throw UsageError("--nproc-per-node gpu: no GPU found");
        return count_gpus();
    }
    if (v == "auto") return count_gpus() > 0 ? count_gpus() : cores;
    return static_cast<int>(args.get_integer("nproc-per-node", 1, 1));
}

int run(int argc, char** argv) {
    cli::Args args = cli::parse(kCommand, argc, argv, 1);
    if (args.help) {
        std::cout << cli::help_text("anvilrun", kCommand);
        return 0;
    }
    LaunchOptions o;
    o.nproc_per_node = nproc_per_node(args);
    std::string nnodes = args.get("nnodes", "1");
    if (nnodes.find(':') != std::string::npos)
        throw UsageError("--nnodes MIN:MAX needs elastic rendezvous; anvilrun supports a fixed number of nodes");
    o.nnodes = static_cast<int>(args.get_integer("nnodes", 1, 1));
    o.node_rank = static_cast<int>(args.get_integer("node-rank", 0, 0));
    if (o.node_rank >= o.nnodes) throw UsageError(str("--node-rank ", o.node_rank, " must be below --nnodes ", o.nnodes));
    o.master_addr = args.get("master-addr", o.master_addr);
    o.master_port = static_cast<int>(args.get_integer("master-port", o.master_port, 1));
    o.standalone = args.has("standalone");
    if (o.standalone && o.nnodes > 1) throw UsageError("--standalone is for a single node");
    o.max_restarts = static_cast<int>(args.get_integer("max-restarts", 0, 0));
    o.log_dir = args.get("log-dir");
    o.run_id = args.get("run-id", "none");
    o.command = args.positionals;
    return launch(o);
}

}  // namespace
}  // namespace anvil

int main(int argc, char** argv) {
    try {
        return anvil::run(argc, argv);
    } catch (const anvil::UsageError& e) {
        std::fprintf(stderr, "anvilrun: error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "anvilrun: %s\n", e.what());
        return 1;
    }
}
