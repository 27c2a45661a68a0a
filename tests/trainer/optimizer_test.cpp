// Unit tests for trainer/optimizer.h and trainer/lr_schedule.h against golden numbers from torch.optim.AdamW,
// torch.nn.utils.clip_grad_norm_ and transformers' schedules (tests/fixtures/make_optimizer_fixtures.py).
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "trainer/lr_schedule.h"
#include "trainer/optimizer.h"

namespace anvil {
namespace {

nlohmann::json fixture(const std::string& name) {
    return nlohmann::json::parse(read_file(std::string(ANVIL_SOURCE_DIR) + "/tests/fixtures/optimizer/" + name));
}

at::Tensor tensor(const nlohmann::json& values, const std::vector<int64_t>& shape) {
    auto v = values.get<std::vector<double>>();
    return at::tensor(v, at::kDouble).reshape(shape);
}

}  // namespace

TEST(LrSchedule, MatchesTransformersSchedules) {
    for (const auto& c : fixture("lr_schedules.json")) {
        LrSchedule s{c["kind"], c["peak_lr"], c["warmup_steps"], c["total_steps"], 0.0};
        auto expected = c["lrs"].get<std::vector<double>>();
        for (int64_t step = 0; step <= s.total_steps; ++step)
            EXPECT_NEAR(learning_rate(s, step), expected[step], 1e-15) << s.kind << " step " << step;
    }
    EXPECT_NEAR(learning_rate({"cosine", 1.0, 0, 10, 0.1}, 10), 0.1, 1e-12);
}

TEST(AdamW, MatchesTorchAdamWWithClipping) {
    auto f = fixture("adamw.json");
    std::vector<std::vector<int64_t>> shapes = f["shapes"];
    std::vector<at::Tensor> params;
    for (size_t i = 0; i < shapes.size(); ++i) params.push_back(tensor(f["init"][i], shapes[i]).set_requires_grad(true));
    AdamWOptions o;
    o.beta1 = f["betas"][0];
    o.beta2 = f["betas"][1];
    o.eps = f["eps"];
    o.weight_decay = f["weight_decay"];
    AdamW opt(params, o, nullptr);
    for (const auto& step : f["steps"]) {
        for (size_t i = 0; i < params.size(); ++i) params[i].mutable_grad() = tensor(step["grads"][i], shapes[i]);
        double norm = opt.clip_grad_norm(f["max_norm"]);
        EXPECT_NEAR(norm, step["norm_before_clip"].get<double>(), 1e-12);
        opt.step(step["lr"]);
        for (size_t i = 0; i < params.size(); ++i) {
            auto expected = tensor(step["params_after"][i], shapes[i]);
            EXPECT_TRUE(at::allclose(params[i], expected, 0, 1e-12)) << "param " << i;
            EXPECT_FALSE(params[i].grad().defined());
        }
    }
    EXPECT_EQ(opt.steps_taken(), 4);
    EXPECT_EQ(opt.state_tensors().size(), 4u);
}

TEST(AdamW, StateRoundTripsAndRejectsMismatches) {
    auto p = at::ones({2, 2}, at::kFloat).set_requires_grad(true);
    AdamW a({p}, {}, nullptr);
    p.mutable_grad() = at::full({2, 2}, 0.5);
    a.step(0.1);
    auto q = at::ones({2, 2}, at::kFloat).set_requires_grad(true);
    AdamW b({q}, {}, nullptr);
    b.load_state_tensors(a.state_tensors(), a.steps_taken());
    EXPECT_TRUE(at::equal(b.state_tensors()["exp_avg.0"], a.state_tensors()["exp_avg.0"]));
    EXPECT_THROW(b.load_state_tensors({{"exp_avg.0", at::zeros({3})}, {"exp_avg_sq.0", at::zeros({2, 2})}}, 1), Error);
    EXPECT_THROW(b.load_state_tensors({}, 1), Error);
}

}  // namespace anvil
