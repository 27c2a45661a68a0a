// Unit tests for algorithms/dpo_loss.h, algorithms/bradley_terry.h and algorithms/reward_metrics.h against the
// golden numbers of tests/fixtures/make_preference_fixtures.py (TRL's DPOTrainer / RewardTrainer code where it
// applies, the spec formulas elsewhere).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "algorithms/bradley_terry.h"
#include "algorithms/dpo_loss.h"
#include "algorithms/reward_metrics.h"
#include "core/error.h"
#include "core/files.h"

namespace anvil {
namespace {

nlohmann::json fixture(const std::string& name) {
    return nlohmann::json::parse(read_file(std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/preference/" + name));
}

at::Tensor tensor(const nlohmann::json& j) {
    if (j.is_array() && !j.empty() && j[0].is_array()) {
        std::vector<at::Tensor> rows;
        for (const auto& row : j) rows.push_back(tensor(row));
        return at::stack(rows);
    }
    return at::tensor(j.get<std::vector<double>>(), at::kDouble);
}

struct DpoInputs {
    at::Tensor policy_chosen, policy_rejected, ref_chosen, ref_rejected;
};

DpoInputs dpo_inputs(const nlohmann::json& f, bool length_normalize) {
    at::Tensor token = tensor(f["per_token_logps"]), mask = tensor(f["mask"]);
    at::Tensor seq = sequence_logprobs(token, mask, length_normalize);
    at::Tensor ref = at::cat({tensor(f["ref_chosen"]), tensor(f["ref_rejected"])});
    if (length_normalize) ref = ref / mask.sum(1);
    auto half = [](const at::Tensor& t) { return t.chunk(2); };
    return {half(seq)[0], half(seq)[1], half(ref)[0], half(ref)[1]};
}

}  // namespace

TEST(DpoLoss, MatchesTrlForEveryVariant) {
    const auto f = fixture("dpo_losses.json");
    for (const auto& c : f["cases"]) {
        DpoLossOptions o;
        o.loss_type = c["loss_type"];
        o.beta = c["beta"];
        o.label_smoothing = c["label_smoothing"];
        DpoInputs in = dpo_inputs(f, c["length_normalize"]);
        DpoLoss l = dpo_loss(in.policy_chosen, in.policy_rejected, in.ref_chosen, in.ref_rejected, o);
        const std::string what = c["source"].get<std::string>() + " beta " + std::to_string(o.beta);
        at::Tensor loss = l.losses.mean();
        if (c.contains("rpo_alpha")) {
            at::Tensor token = tensor(f["per_token_logps"]), mask = tensor(f["mask"]);
            loss = loss + c["rpo_alpha"].get<double>() * chosen_nll(token.chunk(2)[0], mask.chunk(2)[0]);
        }
        EXPECT_NEAR(loss.item<double>(), c["loss"].get<double>(), 1e-12) << what;
        if (c.contains("rewards_chosen") && !c["length_normalize"].get<bool>()) {
            EXPECT_NEAR(l.chosen_rewards.mean().item<double>(), c["rewards_chosen"].get<double>(), 1e-12) << what;
            EXPECT_NEAR(l.rejected_rewards.mean().item<double>(), c["rewards_rejected"].get<double>(), 1e-12) << what;
            EXPECT_NEAR((l.chosen_rewards > l.rejected_rewards).to(at::kDouble).mean().item<double>(),
                        c["reward_accuracy"].get<double>(), 1e-7) << what;  // TRL averages in fp32
            EXPECT_NEAR((l.chosen_rewards - l.rejected_rewards).mean().item<double>(), c["reward_margin"].get<double>(), 1e-12)
                << what;
        }
    }
}

TEST(DpoLoss, PolicyEqualToReferenceGivesLn2) {
    const auto f = fixture("dpo_losses.json");
    DpoInputs in = dpo_inputs(f, false);
    DpoLoss l = dpo_loss(in.policy_chosen, in.policy_rejected, in.policy_chosen, in.policy_rejected, {});
    EXPECT_NEAR(l.losses.mean().item<double>(), std::log(2.0), 1e-15);
    EXPECT_NEAR(f["policy_equals_reference_loss"].get<double>(), std::log(2.0), 1e-15);
    EXPECT_TRUE(at::equal(l.chosen_rewards, at::zeros_like(l.chosen_rewards)));
}

TEST(DpoLoss, GradientFlowsToThePolicyOnlyAndBadOptionsFail) {
    at::Tensor pc = at::tensor({-3.0, -2.0}).requires_grad_(), pr = at::tensor({-4.0, -1.0}).requires_grad_();
    at::Tensor rc = at::tensor({-3.5, -2.5}).requires_grad_(), rr = at::tensor({-3.0, -1.5});
    DpoLoss l = dpo_loss(pc, pr, rc, rr, {});
    l.losses.sum().backward();
    EXPECT_TRUE(pc.grad().defined() && pr.grad().defined());
    EXPECT_LT(pc.grad()[0].item<double>(), 0);  // raising the chosen log-prob lowers the loss
    EXPECT_FALSE(rc.grad().defined());
    DpoLossOptions bad;
    bad.loss_type = "kto";
    EXPECT_THROW(dpo_loss(pc, pr, rc, rr, bad), Error);
    bad = {};
    bad.label_smoothing = 0.5;
    EXPECT_THROW(dpo_loss(pc, pr, rc, rr, bad), Error);
    EXPECT_THROW(dpo_loss(pc, pr.narrow(0, 0, 1), rc, rr, {}), Error);
}

TEST(BradleyTerry, MatchesTrlRewardTrainerAndTheEnsembleFormula) {
    const auto f = fixture("bradley_terry.json");
    at::Tensor c = tensor(f["chosen"]), r = tensor(f["rejected"]), m = tensor(f["margin"]);
    for (const auto& s : f["single"]) {
        const double center = s["center"].is_null() ? 0.0 : s["center"].get<double>();
        at::Tensor loss = bradley_terry_loss(c, r, s["margin"].get<bool>() ? m : at::Tensor(), center);
        EXPECT_NEAR(loss.item<double>(), s["loss"].get<double>(), 1e-12) << s.dump();
    }
    const auto& e = f["ensemble"];
    EXPECT_NEAR(bradley_terry_loss(tensor(e["chosen"]), tensor(e["rejected"]), m, e["center"]).item<double>(),
                e["loss"].get<double>(), 1e-12);
    const auto& a = f["anchor"];
    std::vector<at::Tensor> params, anchors;
    for (size_t i = 0; i < a["shapes"].size(); ++i) {
        auto shape = a["shapes"][i].get<std::vector<int64_t>>();
        params.push_back(tensor(a["params"][i]).reshape(shape).requires_grad_());
        anchors.push_back(tensor(a["anchors"][i]).reshape(shape));
    }
    at::Tensor penalty = anchor_penalty(params, anchors);
    EXPECT_NEAR(penalty.item<double>(), a["penalty"].get<double>(), 1e-12);
    penalty.backward();
    EXPECT_TRUE(params[0].grad().defined());
    for (const auto& w : f["anchor_weight"])
        EXPECT_NEAR(anchor_weight(w["lambda0"], w["schedule"], w["base"], w["scaler"], w["done"], w["total"]),
                    w["value"].get<double>(), 1e-12)
            << w.dump();
    EXPECT_THROW(anchor_weight(1, "cosine", 0.9, 1, 0, 1), Error);
    EXPECT_THROW(bradley_terry_loss(c, r.narrow(0, 0, 2)), Error);
}

TEST(RewardMetrics, MatchRewardUqFormulas) {
    const auto f = fixture("reward_metrics.json");
    RewardPairMetrics m = reward_pair_metrics(tensor(f["chosen"]), tensor(f["rejected"]), f["bins"]);
    EXPECT_EQ(m.pairs, 64);
    EXPECT_NEAR(m.accuracy, f["accuracy"].get<double>(), 1e-12);
    EXPECT_NEAR(m.confident_true, f["confident_true"].get<double>(), 1e-12);
    EXPECT_NEAR(m.confident_false, f["confident_false"].get<double>(), 1e-12);
    EXPECT_NEAR(m.ece, f["ece"].get<double>(), 1e-12);
    EXPECT_NEAR(m.mce, f["mce"].get<double>(), 1e-12);
    EXPECT_NEAR(m.brier, f["brier"].get<double>(), 1e-12);
    ASSERT_EQ(m.ranking.size(), 4u);
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(m.ranking[i].second, f["ranking"][i][1].get<double>(), 1e-12) << i;
    EXPECT_NE(m.table("rm").find("ranking_b0.2"), std::string::npos);
    // A perfect, confident ranker: accuracy 1, confident-true 1, R_1 = 1.
    at::Tensor hi = at::tensor({5.0, 4.0, 6.0}).repeat({3, 1}), lo = at::tensor({-5.0, -6.0, -4.0}).repeat({3, 1});
    RewardPairMetrics perfect = reward_pair_metrics(hi, lo);
    EXPECT_EQ(perfect.accuracy, 1.0);
    EXPECT_EQ(perfect.confident_true, 1.0);
    EXPECT_EQ(perfect.ranking.back().second, 1.0);
}

}  // namespace anvil
