// Unit tests for algorithms/goldfish.h: about 1 in k tokens dropped, decisions depending only on the local
// context (a repeated passage drops the same tokens wherever it appears), prompt positions untouched.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "algorithms/goldfish.h"
#include "core/error.h"

namespace anvil {

namespace {
at::Tensor next_token_targets(const at::Tensor& ids) {
    at::Tensor t = at::full_like(ids, -100);
    t.narrow(1, 0, ids.size(1) - 1).copy_(ids.narrow(1, 1, ids.size(1) - 1));
    return t;
}
}  // namespace

TEST(Goldfish, DropsAboutOneInKAndKeepsTheRest) {
    at::manual_seed(0);
    at::Tensor ids = at::randint(0, 1000, {8, 2000}, at::kLong);
    at::Tensor targets = next_token_targets(ids);
    at::Tensor out = goldfish_targets(ids, targets, 4, 13);
    const double kept = (out >= 0).sum().item<double>(), eligible = (targets >= 0).sum().item<double>();
    EXPECT_NEAR(1.0 - kept / eligible, 0.25, 0.02);
    at::Tensor unchanged = out >= 0;
    EXPECT_TRUE(at::equal(out.masked_select(unchanged), targets.masked_select(unchanged)));
    EXPECT_TRUE(at::equal(goldfish_targets(ids, targets, 4, 13), out));  // deterministic
}

TEST(Goldfish, SamePassageDropsTheSameTokensAnywhere) {
    at::manual_seed(1);
    at::Tensor passage = at::randint(0, 500, {300}, at::kLong);
    at::Tensor row0 = at::cat({at::randint(0, 500, {40}, at::kLong), passage});
    at::Tensor row1 = at::cat({at::randint(0, 500, {7}, at::kLong), passage, at::randint(0, 500, {33}, at::kLong)});
    at::Tensor ids = at::stack({row0, row1});
    at::Tensor out = goldfish_targets(ids, next_token_targets(ids), 3, 8);
    // Targets inside the passage whose 8-token context lies in the passage: positions 40+7.. in row 0, 7+7.. in row 1.
    for (int64_t i = 7; i < 299; ++i)
        EXPECT_EQ(out[0][40 + i].item<int64_t>() < 0, out[1][7 + i].item<int64_t>() < 0) << "passage offset " << i;
}

TEST(Goldfish, PromptPositionsStayMaskedAndBadArgumentsFail) {
    at::Tensor ids = at::arange(20, at::kLong).unsqueeze(0);
    at::Tensor targets = next_token_targets(ids);
    targets.narrow(1, 0, 10).fill_(-100);
    at::Tensor out = goldfish_targets(ids, targets, 2, 4);
    EXPECT_TRUE((out.narrow(1, 0, 10) == -100).all().item<bool>());
    EXPECT_THROW(goldfish_targets(ids, targets, 1, 4), Error);
    EXPECT_THROW(goldfish_targets(ids, targets, 2, 0), Error);
}

}  // namespace anvil
