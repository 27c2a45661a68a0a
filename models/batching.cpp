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

PackedCompletionBatch make_packed_completion_batch(const std::vector<std::vector<int64_t>>& prompts,
                                                   const std::vector<std::vector<int64_t>>& completions,
                                                   int64_t row_tokens, int64_t pad_token_id, at::Device device) {
    ANVIL_CHECK(prompts.size() == completions.size(), "make_packed_completion_batch: ", prompts.size(), " prompts but ",
                completions.size(), " completions");
    // First fit, in order: each example goes to the first row with room for it.
    std::vector<std::vector<size_t>> rows;
    std::vector<int64_t> used;
    for (size_t i = 0; i < prompts.size(); ++i) {
        ANVIL_CHECK(!prompts[i].empty(), "make_packed_completion_batch: prompt ", i, " is empty");
        const int64_t n = static_cast<int64_t>(prompts[i].size() + completions[i].size());
        ANVIL_CHECK(n <= row_tokens, "make_packed_completion_batch: example ", i, " has ", n, " tokens, more than a row's ",
                    row_tokens);
        size_t r = 0;
        while (r < rows.size() && used[r] + n > row_tokens) ++r;
        if (r == rows.size()) {
            rows.emplace_back();
            used.push_back(0);
        }
        rows[r].push_back(i);
        used[r] += n;
    }
    const int64_t len = std::max<int64_t>(1, *std::max_element(used.begin(), used.end()));
    const int64_t count = static_cast<int64_t>(rows.size());
    at::Tensor ids = at::full({count, len}, pad_token_id, at::kLong);
    at::Tensor mask = at::zeros({count, len}, at::kLong);
    at::Tensor docs = at::full({count, len}, -1, at::kLong);
    at::Tensor targets = at::full({count, len}, -100, at::kLong);
    for (int64_t r = 0; r < count; ++r) {
        int64_t at_token = 0;
        for (size_t d = 0; d < rows[r].size(); ++d) {
            const size_t i = rows[r][d];
            const int64_t p = static_cast<int64_t>(prompts[i].size()), c = static_cast<int64_t>(completions[i].size());
            int64_t* row = ids[r].data_ptr<int64_t>() + at_token;
            std::copy(prompts[i].begin(), prompts[i].end(), row);
            std::copy(completions[i].begin(), completions[i].end(), row + p);
            mask[r].narrow(0, at_token, p + c).fill_(1);
            docs[r].narrow(0, at_token, p + c).fill_(static_cast<int64_t>(d));
            if (c > 0) targets[r].narrow(0, at_token + p - 1, c).copy_(ids[r].narrow(0, at_token + p, c));
            at_token += p + c;
        }
    }
    return {ids.to(device), mask.to(device), docs.to(device), targets.to(device)};
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

at::Tensor completion_values(const std::vector<std::vector<float>>& values, const CompletionBatch& batch) {
    ANVIL_CHECK(values.size() == batch.prompt_lengths.size(), "completion_values: ", values.size(), " rows for a batch of ",
                batch.prompt_lengths.size());
    at::Tensor out = at::zeros(batch.targets.sizes(), at::kFloat);
    for (size_t i = 0; i < values.size(); ++i) {
        ANVIL_CHECK(static_cast<int64_t>(values[i].size()) == batch.completion_lengths[i], "completion_values: row ", i,
                    " has ", values[i].size(), " values for ", batch.completion_lengths[i], " completion tokens");
        if (values[i].empty()) continue;
        out[static_cast<int64_t>(i)]
            .narrow(0, batch.prompt_lengths[i] - 1, batch.completion_lengths[i])
            .copy_(at::tensor(values[i], at::kFloat));
    }
    return out.to(batch.targets.device());
}

}  // namespace anvil
