// Implementation of trainer/data_order.h.
#include "trainer/data_order.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace anvil {

EpochShuffle::EpochShuffle(int64_t size, uint64_t seed) : size_(size), seed_(seed) {
    ANVIL_CHECK(size > 0, "EpochShuffle: no examples to order");
}

int64_t EpochShuffle::operator()(int64_t position) {
    const int64_t epoch = position / size_;
    if (epoch != epoch_) {
        auto gen = at::make_generator<at::CPUGeneratorImpl>(seed_ * 1000003ull + static_cast<uint64_t>(epoch));
        at::Tensor perm = at::randperm(size_, gen);
        permutation_.assign(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + size_);
        epoch_ = epoch;
    }
    return permutation_[static_cast<size_t>(position % size_)];
}

}  // namespace anvil
