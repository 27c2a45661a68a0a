// Right-padded prompt + completion batches with completion-only targets; see batching.h.
#include "models/batching.h"

#include <algorithm>

#include "core/error.h"

namespace anvil {

CompletionBatch make_completion_batch(const std::vector<std::vector<int64_t>>& prompts,
                                      const std::vector<std::vector<int64_t>>& completions, int64_t pad_token_id,
                                      at::Device device) {
    ANVIL_CHECK(prompts.size() == completions.size(), "make_completion_batch: ", prompts.size(), " prompts but ",
                completions.size(), " completions");
    const int64_t rows = static_cast<int64_t>(prompts.size());
    CompletionBatch out;
    int64_t len = 1;
    for (int64_t i = 0; i < rows; ++i) {
        ANVIL_CHECK(!prompts[i].empty(), "make_completion_batch: prompt ", i, " is empty");
        out.prompt_lengths.push_back(static_cast<int64_t>(prompts[i].size()));
        out.completion_lengths.push_back(static_cast<int64_t>(completions[i].size()));
        len = std::max(len, out.prompt_lengths.back() + out.completion_lengths.back());
    }
    at::Tensor ids = at::full({rows, len}, pad_token_id, at::kLong);
    at::Tensor mask = at::zeros({rows, len}, at::kLong);
    at::Tensor targets = at::full({rows, len}, -100, at::kLong);
    for (int64_t i = 0; i < rows; ++i) {
        const int64_t p = out.prompt_lengths[i], c = out.completion_lengths[i];
        int64_t* row = ids[i].data_ptr<int64_t>();
        std::copy(prompts[i].begin(), prompts[i].end(), row);
        std::copy(completions[i].begin(), completions[i].end(), row + p);
        mask[i].narrow(0, 0, p + c).fill_(1);
        if (c > 0) targets[i].narrow(0, p - 1, c).copy_(ids[i].narrow(0, p, c));
    }
    out.input_ids = ids.to(device);
    out.attention_mask = mask.to(device);
    out.targets = targets.to(device);
    return out;
}

std::vector<std::vector<float>> completion_logprobs(const at::Tensor& token_logprobs, const CompletionBatch& batch) {
    at::Tensor lp = token_logprobs.detach().to(at::kCPU).to(at::kFloat).contiguous();
    ANVIL_CHECK(lp.sizes() == batch.targets.sizes(), "completion_logprobs: shape ", lp.sizes(), " != batch ",
                batch.targets.sizes());
    std::vector<std::vector<float>> out;
    for (size_t i = 0; i < batch.prompt_lengths.size(); ++i) {
        const float* row = lp[static_cast<int64_t>(i)].data_ptr<float>() + batch.prompt_lengths[i] - 1;
        out.emplace_back(row, row + batch.completion_lengths[i]);
    }
    return out;
}

}  // namespace anvil
