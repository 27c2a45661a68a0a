// The order in which a stage visits its examples: an endless stream made of one seeded permutation of the
// n examples per epoch, so item i of the stream is a pure function of (seed, i). Data-parallel stages index it
// by global position (step, micro-batch, rank), which makes resumed and re-sharded runs see the same data.
#pragma once

#include <cstdint>
#include <vector>

namespace anvil {

class EpochShuffle {
public:
    EpochShuffle(int64_t size, uint64_t seed);
    // The example index at stream position `position` (>= 0): permutation[position / size][position % size].
    int64_t operator()(int64_t position);

private:
    int64_t size_;
    uint64_t seed_;
    int64_t epoch_ = -1;
    std::vector<int64_t> permutation_;
};

}  // namespace anvil
