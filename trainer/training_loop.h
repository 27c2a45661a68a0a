// The optimisation loop every trainable stage drives: for each optimizer step, gradient_accumulation
// micro-batches (loss from the stage under the configured autocast, backward here), gradient averaging across
// ranks, clipping, AdamW at the scheduled learning rate; non-finite steps skipped and counted; metrics (loss,
// lr, grad norm, tokens/s, step time, peak memory) to metrics.jsonl / TensorBoard and a progress display;
// periodic evaluation; atomic resumable checkpoints (model as an HF directory, optimizer state per rank, step
// and RNG) under <stage>/checkpoints/, from which a restarted stage continues bitwise-identically. The data
// order must be a function of (step, micro-batch, rank), so a resumed step sees the same data. No algorithm
// maths here.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <functional>
#include <vector>

#include "trainer/metrics.h"
#include "trainer/training_options.h"

namespace anvil {

class AdamW;
class DistributedWorld;
class RunContext;

struct MicroBatchLoss {
    at::Tensor loss;         // scalar; the loop backpropagates loss / gradient_accumulation
    int64_t tokens = 0;      // tokens processed, for throughput
    Metrics metrics;         // averaged over the step's micro-batches and ranks
};

struct TrainingHooks {
    std::function<MicroBatchLoss(int64_t step, int64_t micro)> micro_batch;
    std::function<Metrics()> evaluate;                            // optional; called on every rank
    std::function<void(const std::filesystem::path&)> save_model;  // rank 0: write an HF directory
    std::function<void(const std::filesystem::path&)> load_model;  // every rank: load one back
};

class TrainingLoop {
public:
    TrainingLoop(RunContext& ctx, const TrainingOptions& options, std::vector<at::Tensor> parameters,
                 DistributedWorld* world);
    // Runs to options.max_steps, resuming from the stage's latest checkpoint when there is one.
    void run(const TrainingHooks& hooks);

private:
    void save_checkpoint(int64_t step, const TrainingHooks& hooks);
    int64_t resume(const TrainingHooks& hooks);
    Metrics average_across_ranks(const Metrics& metrics);
    c10::Device device() const;  // the rank's device (trainer/device.h)

    RunContext& ctx_;
    TrainingOptions options_;
    AdamW* optimizer_ = nullptr;  // the optimizer of the running loop
    std::vector<at::Tensor> parameters_;
    DistributedWorld* world_;
};

}  // namespace anvil
