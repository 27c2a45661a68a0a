// Implementation of algorithms/goldfish.h.
#include "algorithms/goldfish.h"

#include <ATen/ATen.h>

#include "core/error.h"
#include "core/hash.h"

namespace anvil {

at::Tensor goldfish_targets(const at::Tensor& input_ids, const at::Tensor& targets, int64_t k, int64_t context) {
    ANVIL_CHECK(k >= 2 && context >= 1, "goldfish needs k >= 2 and context >= 1 (got k=", k, ", context=", context, ")");
    ANVIL_CHECK(input_ids.sizes() == targets.sizes() && input_ids.dim() == 2, "goldfish: input_ids and targets must be [B, L]");
    at::Tensor ids = input_ids.to(at::kCPU, at::kLong).contiguous();
    at::Tensor out = targets.to(at::kCPU, at::kLong).clone().contiguous();
    const int64_t rows = ids.size(0), length = ids.size(1);
    const int64_t* id = ids.data_ptr<int64_t>();
    int64_t* target = out.data_ptr<int64_t>();
    for (int64_t b = 0; b < rows; ++b) {
        for (int64_t t = 0; t < length; ++t) {
            if (target[b * length + t] < 0) continue;
            uint64_t hash = kFnv1aBasis;  // FNV-1a over the token ids' 8 bytes, least significant first
            for (int64_t j = std::max<int64_t>(0, t + 1 - context); j <= t; ++j) {
                const uint64_t token = static_cast<uint64_t>(id[b * length + j]);
                char bytes[8];
                for (int byte = 0; byte < 8; ++byte) bytes[byte] = static_cast<char>((token >> (8 * byte)) & 0xFF);
                hash = fnv1a(std::string_view(bytes, 8), hash);
            }
            if (hash % static_cast<uint64_t>(k) == 0) target[b * length + t] = -100;
        }
    }
    return out.to(targets.device());
}

}  // namespace anvil
