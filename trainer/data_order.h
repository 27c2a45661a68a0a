// The order in which a stage visits its examples: an endless stream made of one seeded permutation of the
// n examples per epoch, so item i of the stream is a pure function of (seed, i). Data-parallel stages index it
// by global position (step, micro-batch, rank; see micro_batch), which makes resumed and re-sharded runs see the same data.
#pragma once

#include <cstdint>
#include <vector>

namespace anvil {

class EpochShuffle {
public:
    EpochShuffle(int64_t size, uint64_t seed);
    // The example index at stream position `position` (>= 0): permutation[position / size][position % size].
    int64_t operator()(int64_t position);
    // The example indices of micro-batch `micro` of optimizer step `step` on `rank`: stream positions
    // ((step·gradient_accumulation + micro)·ranks + rank)·micro_batch_size + i, so the ranks of a
    // data-parallel job split each global batch.
    std::vector<int64_t> micro_batch(int64_t step, int64_t micro, int64_t gradient_accumulation, int rank, int ranks,
                                     int64_t micro_batch_size);

private:
    int64_t size_;
    uint64_t seed_;
    int64_t epoch_ = -1;
    std::vector<int64_t> permutation_;
};

}  // namespace anvil
