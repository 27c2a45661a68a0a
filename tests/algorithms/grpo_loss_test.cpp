// GRPO advantages and policy losses against golden numbers from TRL's GRPOTrainer._compute_loss, verl's
// dual-clip loss and the advantage formulas (tests/fixtures/make_grpo_fixtures.py), plus the split
// invariance the trainer relies on: a step cut into micro-batches with the step's normalisers gives the
// loss of the whole batch.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "algorithms/grpo_advantages.h"
#include "algorithms/policy_loss.h"
#include "core/error.h"
#include "core/files.h"

namespace anvil {
namespace {

const nlohmann::json& golden() {
    static const nlohmann::json g =
        nlohmann::json::parse(read_file(std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/grpo/golden.json"));
    return g;
}

at::Tensor tensor(const nlohmann::json& rows) {
    std::vector<double> flat;
    int64_t cols = 1;
    if (rows.at(0).is_array()) {
        cols = static_cast<int64_t>(rows.at(0).size());
        for (const auto& r : rows)
            for (const auto& v : r) flat.push_back(v.get<double>());
        return at::tensor(flat, at::kDouble).reshape({static_cast<int64_t>(rows.size()), cols});
    }
    for (const auto& v : rows) flat.push_back(v.get<double>());
    return at::tensor(flat, at::kDouble);
}

void expect_close(const at::Tensor& actual, const at::Tensor& expected, double tol) {
    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_LE((actual - expected).abs().max().item<double>(), tol) << actual << "\nexpected\n" << expected;
}

struct Inputs {
    at::Tensor logp, old, ref, adv, mask;
};

Inputs inputs() {
    const auto& g = golden();
    return {tensor(g["logp"]), tensor(g["old_logp"]), tensor(g["ref_logp"]), tensor(g["advantages"]), tensor(g["mask"])};
}

PolicyLossOptions options_for(const std::string& trl_loss_type, double beta) {
    PolicyLossOptions o;
    o.clip_low = golden()["eps_low"].get<double>();
    o.clip_high = golden()["eps_high"].get<double>();
    o.max_completion_length = golden()["max_completion_length"].get<int64_t>();
    o.kl_coef = beta;
    o.kl_estimator = KlEstimator::k3;
    if (trl_loss_type == "grpo") o.aggregation = LossAggregation::seq_mean_token_mean;
    if (trl_loss_type == "bnpo" || trl_loss_type == "dapo") o.aggregation = LossAggregation::token_mean;
    if (trl_loss_type == "dr_grpo") o.aggregation = LossAggregation::seq_mean_token_sum_norm;
    return o;
}

TEST(PolicyLoss, MatchesTrlForEveryAggregationWithAndWithoutKl) {
    for (const auto& [name, c] : golden()["losses"].items()) {
        if (!c.contains("loss_type")) continue;
        SCOPED_TRACE(name);
        Inputs in = inputs();
        at::Tensor logp = in.logp.clone().requires_grad_(true);
        const double beta = c["beta"].get<double>();
        PolicyLoss out = policy_loss(logp, in.old, beta > 0 ? in.ref : at::Tensor(), in.adv, in.mask,
                                     options_for(c["loss_type"].get<std::string>(), beta));
        out.loss.backward();
        EXPECT_NEAR(out.loss.item<double>(), c["loss"].get<double>(), 1e-12);
        expect_close(logp.grad(), tensor(c["grad"]), 1e-12);
        EXPECT_NEAR(out.clipped_low / out.tokens, c["clip_low"].get<double>(), 1e-12);
        EXPECT_NEAR(out.clipped_high / out.tokens, c["clip_high"].get<double>(), 1e-12);
        EXPECT_NEAR(out.kl / out.tokens, c["kl"].get<double>(), 1e-12);
    }
}

TEST(PolicyLoss, DualClipMatchesVerl) {
    const auto& c = golden()["losses"]["dual_clip"];
    Inputs in = inputs();
    at::Tensor logp = in.logp.clone().requires_grad_(true);
    PolicyLossOptions o = options_for("dapo", 0.0);
    o.dual_clip = 3.0;
    PolicyLoss out = policy_loss(logp, in.old, {}, in.adv, in.mask, o);
    out.loss.backward();
    EXPECT_NEAR(out.loss.item<double>(), c["loss"].get<double>(), 1e-12);
    expect_close(logp.grad(), tensor(c["grad"]), 1e-12);
    EXPECT_EQ(out.dual_clipped, c["dual_clipped"].get<double>());
    EXPECT_GT(out.dual_clipped, 0);  // the fixture exercises the bound
}

TEST(PolicyLoss, KlIsMeasuredWithoutEnteringTheLossWhenItsCoefficientIsZero) {
    Inputs in = inputs();
    const PolicyLossOptions o = options_for("dapo", 0.0);
    PolicyLoss with_ref = policy_loss(in.logp, in.old, in.ref, in.adv, in.mask, o);
    PolicyLoss without = policy_loss(in.logp, in.old, {}, in.adv, in.mask, o);
    EXPECT_EQ(with_ref.loss.item<double>(), without.loss.item<double>());
    EXPECT_NEAR(with_ref.kl / with_ref.tokens, golden()["losses"]["dapo_kl"]["kl"].get<double>(), 1e-12);
    EXPECT_EQ(without.kl, 0);
}

TEST(PolicyLoss, OnPolicyLossIsMinusTheMeanAdvantage) {
    Inputs in = inputs();
    PolicyLoss out = policy_loss(in.logp, in.logp, {}, in.adv, in.mask, options_for("dapo", 0.0));
    const double expected = -(in.adv.unsqueeze(1) * in.mask).sum().item<double>() / in.mask.sum().item<double>();
    EXPECT_NEAR(out.loss.item<double>(), expected, 1e-12);
    EXPECT_EQ(out.clipped_low + out.clipped_high, 0);
}

TEST(PolicyLoss, MicroBatchesWithStepNormalisersSumToTheWholeBatchLoss) {
    Inputs in = inputs();
    for (const char* type : {"grpo", "dapo", "dr_grpo"}) {
        SCOPED_TRACE(type);
        PolicyLossOptions o = options_for(type, 0.04);
        const double whole = policy_loss(in.logp, in.old, in.ref, in.adv, in.mask, o).loss.item<double>();
        LossNormalizer step{in.mask.sum().item<double>(), static_cast<double>(in.logp.size(0))};
        double parts = 0;
        for (int64_t start : {0, 1}) {
            auto rows = [&](const at::Tensor& t) { return start == 0 ? t.narrow(0, 0, 1) : t.narrow(0, 1, t.size(0) - 1); };
            parts += policy_loss(rows(in.logp), rows(in.old), rows(in.ref), rows(in.adv), rows(in.mask), o, step).loss.item<double>();
        }
        EXPECT_NEAR(parts, whole, 1e-12);
    }
}

TEST(PolicyLoss, RejectsUnknownNames) {
    EXPECT_THROW(loss_aggregation_from_name("token_mean"), UsageError);
    EXPECT_THROW(kl_estimator_from_name("k4"), UsageError);
    EXPECT_EQ(loss_aggregation_from_name("seq-mean-token-sum-norm"), LossAggregation::seq_mean_token_sum_norm);
}

TEST(KlPenalty, EstimatorsAreZeroAtTheReferenceAndK3IsNonNegative) {
    at::Tensor logp = at::tensor({-1.0, -2.0, -0.5}, at::kDouble), ref = at::tensor({-1.5, -1.0, -0.5}, at::kDouble);
    for (KlEstimator e : {KlEstimator::k1, KlEstimator::k2, KlEstimator::k3}) EXPECT_EQ(kl_penalty(logp, logp, e).abs().max().item<double>(), 0);
    EXPECT_GE(kl_penalty(logp, ref, KlEstimator::k3).min().item<double>(), 0);
    expect_close(kl_penalty(logp, ref, KlEstimator::k1), logp - ref, 0);
}

TEST(GroupAdvantages, MatchTheReferenceFormulas) {
    const auto& g = golden();
    at::Tensor rewards = tensor(g["rewards"]);
    expect_close(group_advantages(rewards, true, 1e-6), tensor(g["advantages_std"]), 1e-12);
    expect_close(group_advantages(rewards, false, 1e-6), tensor(g["advantages_no_std"]), 1e-12);
    expect_close(group_advantages(tensor(g["single_rewards"]), true, 1e-6), tensor(g["single_advantages_std"]), 1e-12);
}

TEST(GroupAdvantages, PassAtKMatchesTheSpecFormula) {
    const auto& g = golden();
    expect_close(passk_advantages(tensor(g["binary_rewards"]), g["passk_k"].get<int64_t>(), 1e-6), tensor(g["passk_advantages"]), 1e-12);
    EXPECT_THROW(passk_advantages(tensor(g["binary_rewards"]), 7, 1e-6), Error);
}

TEST(GroupAdvantages, ConstantGroupsAreTheOnesWithoutSignal) {
    at::Tensor c = constant_groups(tensor(golden()["rewards"]));
    EXPECT_TRUE(at::equal(c.to(at::kLong), at::tensor(std::vector<int64_t>{0, 1, 0, 1})));
}

}  // namespace
}  // namespace anvil
