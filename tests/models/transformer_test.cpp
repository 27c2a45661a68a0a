// Unit tests for models/transformer.h and models/logprobs.h: padding (left / right) and packing give the
// same logits as separate unpadded forwards, incremental decoding with the KV cache equals a full forward,
// the chunked log-probs equal log_softmax in value and gradient, and bad inputs are anvil::Errors.
#include "models/transformer.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "models/checkpoint.h"
#include "models/logprobs.h"
#include "tests/models/model_test_util.h"

namespace anvil {
namespace {

using testing_util::tiny_config;

at::Tensor row_logits(Transformer& m, const at::Tensor& ids) {
    return m->logits(m->forward(ids.unsqueeze(0))).squeeze(0);
}

class TransformerTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { model = init_random_model(tiny_config(GetParam()), 7); }
    Transformer model{nullptr};
    at::NoGradGuard no_grad;
};

TEST_P(TransformerTest, LeftAndRightPaddingMatchUnpaddedRows) {
    at::Tensor a = at::randint(3, 97, {6}, at::kLong), b = at::randint(3, 97, {3}, at::kLong);
    at::Tensor la = row_logits(model, a), lb = row_logits(model, b);
    at::Tensor pad = at::zeros({3}, at::kLong);
    at::Tensor ones = at::ones({6}, at::kLong), zeros = at::zeros({3}, at::kLong),
               short_ones = at::ones({3}, at::kLong);
    for (bool left : {true, false}) {
        at::Tensor ids = at::stack({a, left ? at::cat({pad, b}) : at::cat({b, pad})});
        at::Tensor mask = at::stack({ones, left ? at::cat({zeros, short_ones}) : at::cat({short_ones, zeros})});
        ForwardArgs args;
        args.attention_mask = mask;
        at::Tensor logits = model->logits(model->forward(ids, args));
        EXPECT_TRUE(at::allclose(logits[0], la, 1e-5, 1e-5));
        at::Tensor got_b = left ? logits[1].narrow(0, 3, 3) : logits[1].narrow(0, 0, 3);
        EXPECT_TRUE(at::allclose(got_b, lb, 1e-5, 1e-5)) << (left ? "left" : "right");
        EXPECT_FALSE(logits.isnan().any().item<bool>());
    }
}

TEST_P(TransformerTest, PackedDocumentsMatchSeparateForwards) {
    at::Tensor a = at::randint(3, 97, {5}, at::kLong), b = at::randint(3, 97, {4}, at::kLong);
    ForwardArgs args;
    args.document_ids = at::tensor({0, 0, 0, 0, 0, 1, 1, 1, 1}, at::kLong).unsqueeze(0);
    at::Tensor packed = model->logits(model->forward(at::cat({a, b}).unsqueeze(0), args)).squeeze(0);
    EXPECT_TRUE(at::allclose(packed.narrow(0, 0, 5), row_logits(model, a), 1e-5, 1e-5));
    EXPECT_TRUE(at::allclose(packed.narrow(0, 5, 4), row_logits(model, b), 1e-5, 1e-5));
}

TEST_P(TransformerTest, KVCacheDecodingMatchesFullForward) {
    // Left-padded prompts of lengths 4 and 2, then a 3-token chunk and 2 single tokens.
    at::Tensor prompt = at::randint(3, 97, {2, 4}, at::kLong);
    at::Tensor prompt_mask = at::tensor({1, 1, 1, 1, 0, 0, 1, 1}, at::kLong).view({2, 4});
    at::Tensor more = at::randint(3, 97, {2, 5}, at::kLong);
    KVCache cache = model->make_cache(2, 12);
    ForwardArgs args;
    args.cache = &cache;
    args.attention_mask = prompt_mask;
    std::vector<at::Tensor> pieces = {model->logits(model->forward(prompt, args))};
    args.attention_mask = at::Tensor();
    pieces.push_back(model->logits(model->forward(more.narrow(1, 0, 3), args)));
    for (int64_t i = 3; i < 5; ++i) pieces.push_back(model->logits(model->forward(more.narrow(1, i, 1), args)));
    EXPECT_EQ(cache.length, 9);
    EXPECT_TRUE(at::equal(cache.next_position, at::tensor({9, 7}, at::kLong)));
    at::Tensor incremental = at::cat(pieces, 1);

    ForwardArgs full;
    full.attention_mask = at::cat({prompt_mask, at::ones({2, 5}, at::kLong)}, 1);
    at::Tensor reference = model->logits(model->forward(at::cat({prompt, more}, 1), full));
    at::Tensor real = full.attention_mask.to(at::kBool);
    EXPECT_TRUE(at::allclose(incremental.index({real}), reference.index({real}), 1e-5, 1e-5));
}

TEST_P(TransformerTest, NoGradForwardMatchesTheAutogradOne) {
    // Without autograd the CPU fp32 forward applies RoPE and RMSNorm's scale step in fused passes (the same
    // bits as the tensor expressions) and multiplies through oneDNN (models/packed_linear.h: the same up to
    // summation order, which depends on the CPU's kernels); with autograd, tensor expressions and at::linear.
    at::Tensor ids = at::randint(3, 97, {3, 7}, at::kLong);
    at::Tensor fast = model->forward(ids);
    at::AutoGradMode with_grad(true);
    at::Tensor reference = model->forward(ids);
    ASSERT_TRUE(reference.requires_grad());
    EXPECT_TRUE(at::allclose(fast, reference.detach(), 1e-5, 1e-6));
}

TEST_P(TransformerTest, Fp32TrainingGradientsMatchFp64) {
    // The backward of the whole model (attention, RoPE, norms, MLP, chunked LM-head log-probs) in fp32 against
    // the same model in fp64.
    at::AutoGradMode with_grad(true);
    at::Tensor ids = at::randint(3, 97, {3, 9}, at::kLong);
    at::Tensor targets = at::randint(3, 97, {3, 9}, at::kLong);
    Transformer wide = init_random_model(tiny_config(GetParam()), 7);
    wide->to(at::kDouble);
    for (Transformer* m : {&model, &wide}) (*m)->token_logprobs((*m)->forward(ids), targets).sum().backward();
    const auto fp32 = model->named_parameters(), fp64 = wide->named_parameters();
    for (const auto& item : fp32) {
        const at::Tensor g = item.value().grad(), ref = fp64[item.key()].grad().to(at::kFloat);
        ASSERT_TRUE(g.defined()) << item.key();
        EXPECT_LE((g - ref).abs().max().item<double>(), 1e-4 * ref.abs().max().item<double>() + 1e-6) << item.key();
    }
}

INSTANTIATE_TEST_SUITE_P(Families, TransformerTest, ::testing::Values("llama", "qwen2", "qwen3"));

TEST(Transformer, ParameterNamesAreHF) {
    Transformer q3 = init_random_model(tiny_config("qwen3"), 1);
    std::vector<std::string> names;
    for (auto& [n, t] : q3->hf_parameters()) names.push_back(n);
    auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    EXPECT_TRUE(has("model.embed_tokens.weight"));
    EXPECT_TRUE(has("model.layers.1.self_attn.q_norm.weight"));
    EXPECT_TRUE(has("model.layers.0.mlp.down_proj.weight"));
    EXPECT_TRUE(has("model.norm.weight"));
    EXPECT_TRUE(has("lm_head.weight"));
    EXPECT_FALSE(has("model.layers.0.self_attn.q_proj.bias"));
    Transformer q2 = init_random_model(tiny_config("qwen2"), 1);
    names.clear();
    for (auto& [n, t] : q2->hf_parameters()) names.push_back(n);
    EXPECT_TRUE(has("model.layers.0.self_attn.v_proj.bias"));
    EXPECT_FALSE(has("model.layers.0.self_attn.o_proj.bias"));
    EXPECT_FALSE(has("lm_head.weight"));  // tied
}

TEST(Transformer, LlamaAttentionBiasAndMistralSlidingWindow) {
    ModelConfig c = tiny_config("llama");
    c.attention_bias = true;
    std::vector<std::string> names;
    for (auto& [n, t] : init_random_model(c, 1)->hf_parameters()) names.push_back(n);
    EXPECT_NE(std::find(names.begin(), names.end(), "model.layers.0.self_attn.o_proj.bias"), names.end());
    c = tiny_config("mistral");
    c.sliding_window = 4;
    Transformer m = init_random_model(c, 1);
    at::NoGradGuard no_grad;
    EXPECT_EQ(m->forward(at::ones({1, 4}, at::kLong)).size(1), 4);
    EXPECT_THROW(m->forward(at::ones({1, 5}, at::kLong)), Error);
}

TEST(Transformer, PositionsRestartPerDocument) {
    at::Tensor docs = at::tensor({4, 4, 7, 7, 7, 1}, at::kLong).unsqueeze(0);
    EXPECT_TRUE(at::equal(positions_from_documents(docs), at::tensor({0, 1, 0, 1, 2, 0}, at::kLong).unsqueeze(0)));
}

TEST(Transformer, Llama3RopeScalingMatchesReferenceValues) {
    ModelConfig c = tiny_config("llama");
    c.head_dim = 8;
    c.rope_theta = 500000.0;
    c.rope_scaling.type = RopeScaling::Type::llama3;
    c.rope_scaling.factor = 8.0;
    c.rope_scaling.original_max_position_embeddings = 64;
    // transformers' _compute_llama3_parameters for these values.
    at::Tensor expect =
        at::tensor({1.0, 0.004700753837823868, 0.00017677668074611574, 6.647869668086059e-06}, at::kFloat);
    EXPECT_TRUE(at::allclose(rope_inv_freq(c), expect, 1e-5, 1e-8)) << rope_inv_freq(c);
}

TEST(Transformer, Bf16ForwardIsCloseToFp32) {
    Transformer fp32 = init_random_model(tiny_config("qwen3"), 3);
    Transformer bf16 = init_random_model(tiny_config("qwen3"), 3, at::kBFloat16);
    at::NoGradGuard no_grad;
    at::Tensor ids = at::randint(3, 97, {2, 7}, at::kLong);
    at::Tensor a = fp32->logits(fp32->forward(ids));
    at::Tensor b = bf16->logits(bf16->forward(ids));
    EXPECT_EQ(b.scalar_type(), at::kBFloat16);
    EXPECT_LT((a - b.to(at::kFloat)).abs().max().item<double>(), 0.05);
}

TEST(Transformer, BadInputsAreErrors) {
    Transformer m = init_random_model(tiny_config("qwen3"), 1);
    at::NoGradGuard no_grad;
    EXPECT_THROW(m->forward(at::full({1, 3}, 97, at::kLong)), Error);
    EXPECT_THROW(m->forward(at::zeros({3}, at::kLong)), Error);
    ForwardArgs args;
    args.attention_mask = at::ones({1, 4}, at::kLong);
    EXPECT_THROW(m->forward(at::zeros({1, 3}, at::kLong), args), Error);
    KVCache cache = m->make_cache(1, 4);
    ForwardArgs cached;
    cached.cache = &cache;
    EXPECT_THROW(m->forward(at::zeros({1, 5}, at::kLong), cached), Error);
    EXPECT_THROW(m->token_logprobs(m->forward(at::zeros({1, 3}, at::kLong)), at::full({1, 3}, 97, at::kLong)), Error);
}

TEST(TokenLogprobs, MatchLogSoftmaxInValueAndGradient) {
    at::manual_seed(0);
    at::Tensor w = at::randn({50, 16}).requires_grad_();
    at::Tensor h = at::randn({3, 5, 16}).requires_grad_();
    at::Tensor targets = at::randint(0, 50, {3, 5}, at::kLong);
    targets[1][2] = -100;
    at::Tensor weights = at::randn({3, 5});

    at::Tensor valid = targets.ge(0);
    at::Tensor ref = at::log_softmax(at::linear(h, w), -1).gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1) *
                     valid.to(at::kFloat);
    auto grads = [&](const at::Tensor& out) {
        h.mutable_grad() = at::Tensor();
        w.mutable_grad() = at::Tensor();
        (out * weights).sum().backward();
        return std::make_pair(h.grad().clone(), w.grad().clone());
    };
    auto [rh, rw] = grads(ref);
    // 4 rows per chunk: 4 chunks, the last partial, logits recomputed in backward; 0: all 15 rows in one
    // chunk, whose log-softmax backward reuses.
    for (int64_t chunk : {4, 0}) {
        at::Tensor got = chunked_token_logprobs(h, w, targets, chunk);
        EXPECT_TRUE(at::allclose(got, ref, 1e-5, 1e-6)) << "chunk " << chunk;
        EXPECT_EQ(got[1][2].item<float>(), 0.0f);
        auto [gh, gw] = grads(got);
        EXPECT_TRUE(at::allclose(gh, rh, 1e-5, 1e-6)) << "chunk " << chunk;
        EXPECT_TRUE(at::allclose(gw, rw, 1e-5, 1e-6)) << "chunk " << chunk;
    }
}

TEST(TokenLogprobs, FlowGradientsIntoTheModel) {
    Transformer m = init_random_model(tiny_config("qwen2"), 5);  // tied: the embedding gets both gradients
    at::Tensor ids = at::randint(3, 97, {2, 6}, at::kLong);
    at::Tensor lp = m->token_logprobs(m->forward(ids.narrow(1, 0, 5)), ids.narrow(1, 1, 5), 3);
    lp.sum().backward();
    for (auto& [name, p] : m->hf_parameters()) {
        ASSERT_TRUE(p.grad().defined()) << name;
        EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0) << name;
    }
}

}  // namespace
}  // namespace anvil
