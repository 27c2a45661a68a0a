// Reference parity: Anvil's logits on the tiny Llama / Qwen2 / Qwen3 checkpoints built by transformers
// (tests/fixtures/make_model_fixtures.py) match transformers' logits within 1e-4 in fp32, for a left-padded
// batch, and greedy generation gives transformers' tokens. Also writes Anvil-saved copies to
// $ANVIL_EXPORT_DIR for the script's --check-anvil mode.
#include <gtest/gtest.h>

#include <cstdlib>

#include "models/checkpoint.h"
#include "models/rollout.h"
#include "models/safetensors.h"
#include "tests/models/model_test_util.h"
#include "tests/models/test_dir.h"

namespace anvil {
namespace {

struct Expected {
    at::Tensor input_ids, attention_mask, position_ids, logits, greedy_tokens;
};

Expected expected_for(const std::string& name) {
    safetensors::Reader r(testing_util::fixture_dir(name) / "expected.safetensors");
    return {r.tensor("input_ids"), r.tensor("attention_mask"), r.tensor("position_ids"), r.tensor("logits"),
            r.tensor("greedy_tokens")};
}

// Max |a - b| over the real (unpadded) tokens.
double max_diff_on_real(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask) {
    at::Tensor real = mask.to(at::kBool);
    return (a.index({real}) - b.index({real})).abs().max().item<double>();
}

class ModelParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelParity, LogitsMatchTransformers) {
    Checkpoint ckpt = load_checkpoint(testing_util::fixture_dir(GetParam()));
    Expected e = expected_for(GetParam());
    at::NoGradGuard no_grad;
    ForwardArgs args;
    args.attention_mask = e.attention_mask;
    args.position_ids = e.position_ids;
    at::Tensor logits = ckpt.model->logits(ckpt.model->forward(e.input_ids, args));
    EXPECT_LT(max_diff_on_real(logits, e.logits, e.attention_mask), 1e-4);

    args.position_ids = at::Tensor();  // derived from the mask: the same positions
    logits = ckpt.model->logits(ckpt.model->forward(e.input_ids, args));
    EXPECT_LT(max_diff_on_real(logits, e.logits, e.attention_mask), 1e-4);
}

TEST_P(ModelParity, GreedyGenerationMatchesTransformers) {
    Checkpoint ckpt = load_checkpoint(testing_util::fixture_dir(GetParam()));
    Expected e = expected_for(GetParam());
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t b = 0; b < e.input_ids.size(0); ++b) {
        at::Tensor row = e.input_ids[b].index({e.attention_mask[b].to(at::kBool)}).contiguous();
        prompts.emplace_back(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
    }
    RolloutOptions o;
    o.max_new_tokens = e.greedy_tokens.size(1);
    o.sampling.temperature = 0.0;
    auto out = generate(*ckpt.model, prompts, o);
    for (size_t b = 0; b < out.size(); ++b) {
        at::Tensor expect = e.greedy_tokens[static_cast<int64_t>(b)].contiguous();
        EXPECT_EQ(out[b].tokens,
                  std::vector<int64_t>(expect.data_ptr<int64_t>(), expect.data_ptr<int64_t>() + expect.numel()))
            << "row " << b;
    }
}

TEST_P(ModelParity, SaveAndReloadIsExact) {
    Checkpoint ckpt = load_checkpoint(testing_util::fixture_dir(GetParam()));
    testing_util::TempDir dir("parity_" + GetParam());
    SaveOptions opts;
    opts.max_shard_bytes = 150'000;
    opts.generation = ckpt.generation;
    save_checkpoint(*ckpt.model, dir.path, opts);
    Checkpoint again = load_checkpoint(dir.path);
    EXPECT_EQ(again.config.head_dim, ckpt.config.head_dim);
    EXPECT_EQ(again.config.eos_token_ids, ckpt.config.eos_token_ids);
    EXPECT_EQ(again.config.rope_scaling.type, ckpt.config.rope_scaling.type);
    EXPECT_EQ(again.config.dtype, "float32");
    auto a = ckpt.model->hf_parameters(), b = again.model->hf_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_TRUE(at::equal(a[i].second, b[i].second)) << a[i].first;
    }
    if (const char* out = std::getenv("ANVIL_EXPORT_DIR"))
        save_checkpoint(*ckpt.model, std::filesystem::path(out) / GetParam(), opts);
}

INSTANTIATE_TEST_SUITE_P(Models, ModelParity, ::testing::Values("llama", "qwen2", "qwen3"));

}  // namespace
}  // namespace anvil
