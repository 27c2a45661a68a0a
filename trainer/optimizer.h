// AdamW over a list of parameters with optional ZeRO-1 sharding of its state across ranks, plus gradient
// averaging across ranks in flat buckets and global gradient-norm clipping. With sharding each rank keeps
// moments only for the parameters it owns (a balanced partition by size), updates those, and broadcasts
// them to the others, so every rank ends each step with identical parameters — the same ones a single
// rank computes over the global batch.
//
// Update rule (decoupled weight decay, Loshchilov & Hutter 2019; the formula of torch.optim.AdamW):
//   p ← p − lr·λ·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
//   p ← p − lr · (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε)
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace anvil {

class DistributedWorld;

struct AdamWOptions {
    double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
    bool shard_state = false;          // ZeRO-1
    int64_t bucket_bytes = 25 << 20;   // gradient all-reduce bucket size
};

class AdamW {
public:
    // `world` may be null for a single process. Parameters are identified by their position in `params`.
    AdamW(std::vector<at::Tensor> params, AdamWOptions options, DistributedWorld* world);

    // Averages gradients across ranks (sum of each rank's gradient / world size). Call after backward.
    void average_gradients();
    // Scales gradients so their global L2 norm is at most `max_norm` (0 = no clipping); returns the norm
    // before clipping (non-finite when some gradient is).
    double clip_grad_norm(double max_norm);
    // One AdamW step at learning rate `lr`, then zeroes the gradients.
    void step(double lr);
    void zero_grad();

    int64_t steps_taken() const { return step_; }
    // Which rank owns parameter i under sharding (all -1 without sharding).
    const std::vector<int>& owners() const { return owner_; }

    // The optimizer state this rank holds, as named tensors ("exp_avg.<i>", "exp_avg_sq.<i>") plus the step.
    std::map<std::string, at::Tensor> state_tensors() const;
    void load_state_tensors(const std::map<std::string, at::Tensor>& state, int64_t step);

private:
    bool owns(size_t i) const;
    std::vector<at::Tensor> params_;
    AdamWOptions options_;
    DistributedWorld* world_;
    std::vector<int> owner_;
    std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
    int64_t step_ = 0;
};

}  // namespace anvil
