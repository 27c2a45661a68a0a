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

std::vector<int64_t> EpochShuffle::micro_batch(int64_t step, int64_t micro, int64_t gradient_accumulation, int rank, int ranks,
                                               int64_t micro_batch_size) {
    std::vector<int64_t> out;
    const int64_t first = ((step * gradient_accumulation + micro) * ranks + rank) * micro_batch_size;
    for (int64_t i = first; i < first + micro_batch_size; ++i) out.push_back((*this)(i));
    return out;
}

}  // namespace anvil
