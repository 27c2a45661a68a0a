// Training throughput of one optimizer step as Anvil's trainer runs it: forward, chunked next-token
// log-probs (models/logprobs.h), backward, gradient averaging across ranks, clipping, AdamW. Prints one
// line `anvil_train tokens_per_s=... seconds_per_step=... ranks=...` with global tokens/s (read by
// bench/train_vs_pytorch.py, which also times a plain PyTorch eager loop on the same checkpoint).
//
//   ./build/bin/bench_train --model DIR [--batch 8] [--seq 128] [--steps 6] [--threads 2]
// Under anvilrun each rank takes batch / ranks rows, so the global batch stays the same.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "core/malloc_tuning.h"
#include "launch/cli_args.h"
#include "models/checkpoint.h"
#include "trainer/distributed.h"
#include "trainer/optimizer.h"

namespace anvil {
namespace {

const cli::Command kCommand{"",
                            "Time training steps on a checkpoint.",
                            {},
                            {{"model", "DIR", "checkpoint directory"},
                             {"batch", "N", "global batch (rows)"},
                             {"seq", "T", "tokens per row"},
                             {"steps", "N", "timed steps (after one warm-up step)"},
                             {"threads", "N", "intra-op threads per rank"}},
                            ""};

int run(int argc, char** argv) {
    cli::Args args = cli::parse(kCommand, argc, argv, 1);
    auto world = DistributedWorld::connect(WorldInfo::from_environment(), at::kCPU);
    at::set_num_threads(static_cast<int>(args.get_integer("threads", 2, 1)));
    const int64_t batch = args.get_integer("batch", 8, 1), seq = args.get_integer("seq", 128, 2);
    const int64_t steps = args.get_integer("steps", 6, 1);
    ANVIL_CHECK(batch % world->world_size() == 0, "--batch must be divisible by the number of ranks");
    Checkpoint ckpt = load_checkpoint(args.required("model"));
    TransformerImpl& model = *ckpt.model.ptr();
    model.train();
    std::vector<at::Tensor> params;
    for (auto& p : model.parameters()) params.push_back(p);
    AdamW optimizer(params, {}, world.get());
    const int64_t local = batch / world->world_size();
    at::manual_seed(1234 + world->rank());
    at::Tensor ids = at::randint(0, ckpt.config.vocab_size, {local, seq}, at::kLong);
    at::Tensor targets = at::full({local, seq}, -100, at::kLong);
    targets.narrow(1, 0, seq - 1).copy_(ids.narrow(1, 1, seq - 1));
    auto step = [&] {
        at::Tensor hidden = model.forward(ids);
        at::Tensor loss = -model.token_logprobs(hidden, targets).sum() / static_cast<double>(local * (seq - 1));
        loss.backward();
        optimizer.average_gradients();
        optimizer.clip_grad_norm(1.0);
        optimizer.step(1e-4);
    };
    step();  // warm-up
    world->barrier();
    const auto start = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    world->barrier();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (world->is_main())
        std::printf("anvil_train tokens_per_s=%.1f seconds_per_step=%.4f ranks=%d\n",
                    static_cast<double>(batch * seq * steps) / seconds, seconds / static_cast<double>(steps),
                    world->world_size());
    return 0;
}

}  // namespace
}  // namespace anvil

int main(int argc, char** argv) {
    anvil::keep_freed_memory_for_reuse();
    try {
        return anvil::run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_train: %s\n", e.what());
        return 1;
    }
}
