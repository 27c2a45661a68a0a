// Unit tests for models/reward_model.h: the [reward, lower, upper] bounds (mean ∓ β·unbiased std), the
// last-real-token feature under right and left padding, head initialisation (distinct heads, anchors = initial
// weights, Xavier range), and the save / load round trip of backbone, heads and anchors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "models/reward_model.h"

namespace anvil {
namespace fs = std::filesystem;

TEST(RewardModel, BoundsAreMeanPlusMinusBetaUnbiasedStd) {
    at::Tensor h = at::tensor({1.0f, 2.0f, 3.0f, 6.0f, 6.0f, 6.0f}).view({2, 3});
    at::Tensor b = reward_bounds(h, 2.0);
    ASSERT_EQ(b.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_FLOAT_EQ(b[0][0].item<float>(), 2.0f);
    EXPECT_FLOAT_EQ(b[0][1].item<float>(), 0.0f);  // std of {1, 2, 3} with K − 1 = 1
    EXPECT_FLOAT_EQ(b[0][2].item<float>(), 4.0f);
    EXPECT_FLOAT_EQ(b[1][1].item<float>(), 6.0f);
    at::Tensor single = reward_bounds(at::tensor({0.5f, -1.0f}).view({2, 1}), 2.0);
    EXPECT_TRUE(at::equal(single.select(1, 1), single.select(1, 0)));  // one head: no spread
}

TEST(RewardModel, FeatureIsTheLastRealToken) {
    at::Tensor hidden = at::arange(2 * 4 * 3, at::kFloat).view({2, 4, 3});
    at::Tensor right = at::tensor({1, 1, 0, 0, 1, 1, 1, 1}, at::kLong).view({2, 4});
    at::Tensor f = last_token_features(hidden, right);
    EXPECT_TRUE(at::equal(f[0], hidden[0][1]));
    EXPECT_TRUE(at::equal(f[1], hidden[1][3]));
    at::Tensor left = at::tensor({0, 0, 1, 1, 0, 1, 1, 1}, at::kLong).view({2, 4});
    EXPECT_TRUE(at::equal(last_token_features(hidden, left)[0], hidden[0][3]));
}

TEST(RewardModel, HeadsStartDistinctAnchoredAndXavierBounded) {
    RewardHeadConfig c;
    c.heads = 4;
    c.layers = 2;
    c.hidden = 8;
    RewardHeadsImpl heads(16, c, 5);
    ASSERT_EQ(heads.weights().size(), 5u);  // w0, b0, w1, b1, out
    EXPECT_EQ(heads.weights()[0].sizes(), (std::vector<int64_t>{4, 16, 8}));
    EXPECT_EQ(heads.weights()[4].sizes(), (std::vector<int64_t>{4, 8, 1}));
    for (size_t i = 0; i < heads.weights().size(); ++i) EXPECT_TRUE(at::equal(heads.weights()[i], heads.anchors()[i]));
    EXPECT_FALSE(at::equal(heads.weights()[0][0], heads.weights()[0][1]));
    EXPECT_LE(heads.weights()[0].abs().max().item<double>(), std::sqrt(6.0 / 24.0));
    EXPECT_TRUE(at::equal(heads.weights()[1], at::zeros({4, 8})));
    at::Tensor out = heads.forward(at::randn({3, 16}));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{3, 4}));
    EXPECT_TRUE(at::equal(RewardHeadsImpl(16, c, 5).weights()[0], heads.weights()[0]));  // seeded
    EXPECT_EQ(heads.parameters().size(), 5u);  // anchors are buffers, never trained
    EXPECT_THROW(heads.forward(at::randn({3, 15})), Error);
}

TEST(RewardModel, SavesAndLoadsBackboneHeadsAndAnchors) {
    const fs::path dir = fs::temp_directory_path() / ("anvil_rm_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    RewardHeadConfig c;
    c.heads = 3;
    c.layers = 1;
    c.hidden = 4;
    c.beta = 1.5;
    RewardModel rm = RewardModel::create(fs::path(ANVIL_SOURCE_DIR) / "tests/fixtures/models/qwen3", c, 9);
    {
        at::NoGradGuard no_grad;
        rm.heads().weights()[0].add_(0.25);  // trained weights now differ from the anchors
    }
    at::Tensor ids = at::tensor({5, 6, 7, 8, 9, 10}, at::kLong).view({2, 3});
    at::Tensor mask = at::tensor({1, 1, 1, 1, 1, 0}, at::kLong).view({2, 3});
    rm.backbone().eval();
    at::Tensor before = rm.score(ids, mask);
    EXPECT_EQ(before.sizes(), (std::vector<int64_t>{2, 3}));
    rm.save(dir, {});
    EXPECT_TRUE(fs::exists(dir / "config.json") && fs::exists(dir / "reward_head.safetensors") && fs::exists(dir / "reward_head.json"));
    RewardModel back = RewardModel::load(dir);
    back.backbone().eval();
    EXPECT_EQ(back.heads().config().heads, 3);
    EXPECT_EQ(back.heads().config().beta, 1.5);
    EXPECT_TRUE(at::equal(back.score(ids, mask), before));
    EXPECT_FALSE(at::equal(back.heads().weights()[0], back.heads().anchors()[0]));
    EXPECT_TRUE(at::equal(back.heads().anchors()[0], rm.heads().anchors()[0]));
    // A saved reward model is also a backbone checkpoint: new heads go on its trained features
    // (configs/dpo_arithmetic.toml puts the ensemble on rm_single's backbone this way).
    RewardModel on_backbone = RewardModel::create(dir, RewardHeadConfig{}, 1);
    on_backbone.backbone().eval();
    EXPECT_TRUE(at::equal(on_backbone.features(ids, mask), rm.features(ids, mask)));
    fs::remove_all(dir);
}

}  // namespace anvil
