// The example order of a training stage: a fresh seeded permutation of the n training examples per epoch,
// read at the global position ((step·gradient_accumulation + micro)·ranks + rank)·micro_batch_size + i, so the
// data of step k on rank r is a function of (seed, k, r): resumed runs see the same data, and the ranks of a
// data-parallel job split each global batch. Shared by the SFT, DPO and reward-model stages.
#pragma once

#include <cstdint>
#include <vector>

namespace anvil {

class EpochOrder {
public:
    EpochOrder(int64_t examples, uint64_t seed);
    // Indices (into the training examples) of micro-batch `micro` of optimizer step `step` on `rank`.
    std::vector<int64_t> micro_batch(int64_t step, int64_t micro, int64_t gradient_accumulation, int rank, int ranks,
                                     int64_t micro_batch_size);

private:
    int64_t n_;
    uint64_t seed_;
    int64_t cached_epoch_ = -1;
    std::vector<int64_t> perm_;
};

}  // namespace anvil
