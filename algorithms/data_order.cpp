// Implementation of algorithms/data_order.h.
#include "algorithms/data_order.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "core/error.h"

namespace anvil {

EpochOrder::EpochOrder(int64_t examples, uint64_t seed) : n_(examples), seed_(seed) {
    ANVIL_CHECK(examples > 0, "EpochOrder: no examples");
}

std::vector<int64_t> EpochOrder::micro_batch(int64_t step, int64_t micro, int64_t gradient_accumulation, int rank, int ranks,
                                             int64_t micro_batch_size) {
    std::vector<int64_t> out;
    const int64_t first = ((step * gradient_accumulation + micro) * ranks + rank) * micro_batch_size;
    for (int64_t i = first; i < first + micro_batch_size; ++i) {
        const int64_t epoch = i / n_;
        if (epoch != cached_epoch_) {
            auto gen = at::make_generator<at::CPUGeneratorImpl>(seed_ * 1000003ull + static_cast<uint64_t>(epoch));
            at::Tensor perm = at::randperm(n_, gen);
            perm_.assign(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + n_);
            cached_epoch_ = epoch;
        }
        out.push_back(perm_[static_cast<size_t>(i % n_)]);
    }
    return out;
}

}  // namespace anvil
