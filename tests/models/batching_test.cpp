// Unit tests for models/batching.h's packed batches: first-fit rows within the token budget, document ids,
// completion-only targets, and the same completion log-probs as the padded batch (packed examples never
// attend to each other and restart their positions).
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include "core/error.h"
#include "models/batching.h"
#include "models/checkpoint.h"
#include "tests/models/model_test_util.h"

namespace anvil {

TEST(PackedBatch, MatchesPaddedLogprobs) {
    at::NoGradGuard no_grad;
    Transformer model = init_random_model(testing_util::tiny_config(), 3);
    at::manual_seed(5);
    std::vector<std::vector<int64_t>> prompts, completions;
    for (int i = 0; i < 7; ++i) {
        auto p = at::randint(3, 97, {2 + i % 4}, at::kLong), c = at::randint(3, 97, {1 + (i * 3) % 5}, at::kLong);
        prompts.emplace_back(p.data_ptr<int64_t>(), p.data_ptr<int64_t>() + p.numel());
        completions.emplace_back(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
    }
    CompletionBatch padded = make_completion_batch(prompts, completions, 0);
    ForwardArgs pa;
    pa.attention_mask = padded.attention_mask;
    at::Tensor padded_lp = model->token_logprobs(model->forward(padded.input_ids, pa), padded.targets);

    PackedCompletionBatch packed = make_packed_completion_batch(prompts, completions, 16, 0);
    EXPECT_LT(packed.input_ids.size(0), 7);  // several examples share a row
    EXPECT_LE(packed.input_ids.size(1), 16);
    ForwardArgs ka;
    ka.attention_mask = packed.attention_mask;
    ka.document_ids = packed.document_ids;
    at::Tensor packed_lp = model->token_logprobs(model->forward(packed.input_ids, ka), packed.targets);

    EXPECT_EQ((packed.targets >= 0).sum().item<int64_t>(), (padded.targets >= 0).sum().item<int64_t>());
    // The multiset of completion log-probs is the same: compare them sorted.
    at::Tensor a = std::get<0>(padded_lp.masked_select(padded.targets >= 0).sort());
    at::Tensor b = std::get<0>(packed_lp.masked_select(packed.targets >= 0).sort());
    EXPECT_TRUE(at::allclose(a, b, 1e-5, 1e-5)) << (a - b).abs().max().item<float>();
    EXPECT_TRUE((packed.document_ids.masked_select(packed.attention_mask == 0) == -1).all().item<bool>());
}

TEST(PackedBatch, RejectsExamplesLongerThanARow) {
    EXPECT_THROW(make_packed_completion_batch({{1, 2, 3}}, {{4, 5}}, 4, 0), Error);
    EXPECT_THROW(make_packed_completion_batch({{}}, {{4}}, 4, 0), Error);
}

}  // namespace anvil
