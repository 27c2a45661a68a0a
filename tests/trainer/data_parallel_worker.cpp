// A small data-parallel training program used by distributed_test.cpp: trains a two-layer MLP for a few
// AdamW steps on a fixed global batch, each rank on its contiguous share, and rank 0 writes the final
// parameters (raw float64) to the given file. Run alone, it is the single-process reference.
//   data_parallel_worker OUT_FILE SHARD_STATE(0|1) [FAIL_AT_STEP]
// With FAIL_AT_STEP, rank 1 kills itself (SIGKILL) at that step on the first attempt only.
#include <ATen/ATen.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "trainer/distributed.h"
#include "trainer/lr_schedule.h"
#include "trainer/optimizer.h"

int main(int argc, char** argv) {
    using namespace anvil;
    if (argc < 3) return 2;
    const int fail_at = argc > 3 ? std::atoi(argv[3]) : -1;
    auto info = WorldInfo::from_environment();
    auto world = DistributedWorld::connect(info, at::kCPU);
    at::manual_seed(0);
    std::vector<at::Tensor> params = {at::randn({16, 8}, at::kFloat) * 0.3, at::zeros({16}, at::kFloat),
                                      at::randn({4, 16}, at::kFloat) * 0.3};
    for (auto& p : params) p.set_requires_grad(true);
    at::manual_seed(1);
    const int64_t global_batch = 8;
    at::Tensor x = at::randn({global_batch, 8}), y = at::randn({global_batch, 4});
    const int64_t local = global_batch / world->world_size();
    x = x.narrow(0, world->rank() * local, local);
    y = y.narrow(0, world->rank() * local, local);
    AdamWOptions o;
    o.weight_decay = 0.01;
    o.shard_state = std::atoi(argv[2]) == 1;
    o.bucket_bytes = 256;  // several buckets even for this small model
    AdamW opt(params, o, world.get());
    LrSchedule schedule{"cosine", 0.05, 2, 6, 0.0};
    for (int step = 0; step < 6; ++step) {
        if (step == fail_at && world->rank() == 1 && info.restart_count == 0) raise(SIGKILL);
        at::Tensor h = at::tanh(at::linear(x, params[0], params[1]));
        at::Tensor loss = (at::linear(h, params[2]) - y).pow(2).mean();
        loss.backward();
        opt.average_gradients();
        opt.clip_grad_norm(1.0);
        opt.step(learning_rate(schedule, step));
    }
    if (world->rank() == 0) {
        std::ofstream out(argv[1], std::ios::binary);
        for (const auto& p : params) {
            at::Tensor d = p.detach().to(at::kDouble).contiguous();
            out.write(reinterpret_cast<const char*>(d.data_ptr<double>()), static_cast<std::streamsize>(d.numel() * 8));
        }
    }
    world->barrier();
    std::printf("rank %d done\n", world->rank());
    return 0;
}
