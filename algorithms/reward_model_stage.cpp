// Implementation of algorithms/reward_model_stage.h.
#include "algorithms/reward_model_stage.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "algorithms/bradley_terry.h"
#include "algorithms/preference_data.h"
#include "algorithms/reward_metrics.h"
#include "core/log.h"
#include "models/batching.h"
#include "models/reward_model.h"
#include "models/tokenizer.h"
#include "trainer/data_order.h"
#include "trainer/distributed.h"
#include "trainer/run_context.h"
#include "trainer/training_loop.h"

namespace anvil {

const config::Section<RewardModelOptions>& RewardModelOptions::section() {
    static const config::Section<RewardModelOptions> s = [] {
        config::Section<RewardModelOptions> s("reward_model", "Bradley–Terry reward model, single head or anchored ensemble.");
        s.field("model", &RewardModelOptions::model, "Backbone checkpoint directory (or @model).");
        s.field("seed", &RewardModelOptions::seed, "Seed of the head initialisation and the data order, added to run.seed.").min(0);
        s.field("heads", &RewardModelOptions::heads, "Ensemble members K (1 = a single reward head).").min(1).max(256);
        s.field("head_hidden", &RewardModelOptions::head_hidden, "Width of each head's hidden layers (RewardUQ: 128).").min(1);
        s.field("head_layers", &RewardModelOptions::head_layers, "Hidden layers per head; 0 = linear (RewardUQ ENS-MLP: 2).")
            .min(0)
            .max(8);
        s.field("bound_beta", &RewardModelOptions::bound_beta, "Bounds = mean ∓ bound_beta·std over the heads.").min(0);
        s.field("freeze_backbone", &RewardModelOptions::freeze_backbone,
                "Train the heads only, on features computed once (RewardUQ ENS-MLP); else the backbone trains too.");
        s.field("center_coefficient", &RewardModelOptions::center_coefficient,
                "Weight of the reward-centering term mean (r_c + r_r)² (RewardUQ: 0.01).")
            .min(0);
        s.field("anchor_weight", &RewardModelOptions::anchor_weight,
                "λ_0 of the penalty keeping each head near its initial weights (RewardUQ: 0.1; ActiveUF: 1.0).")
            .min(0);
        s.field("anchor_decay", &RewardModelOptions::anchor_decay,
                "How λ_t decays over the steps: none, exponential (λ_0·base^(scaler·t/T)) or linear (λ_0·(1 − t/T)).")
            .choices({"none", "exponential", "linear"});
        s.field("anchor_decay_base", &RewardModelOptions::anchor_decay_base, "base of the exponential decay.").min(0).max(1);
        s.field("anchor_decay_scaler", &RewardModelOptions::anchor_decay_scaler, "scaler of the exponential decay.").min(0);
        s.include(&RewardModelOptions::pairs, PreferenceDataOptions::section());
        s.include(&RewardModelOptions::training, TrainingOptions::section());
        return s;
    }();
    return s;
}

namespace {

using Batch = std::vector<const PreferenceExample*>;

Batch select(const std::vector<PreferenceExample>& examples, const std::vector<int64_t>& indices) {
    Batch out;
    for (int64_t i : indices) out.push_back(&examples[static_cast<size_t>(i)]);
    return out;
}

std::vector<int64_t> range(size_t begin, size_t end) {
    std::vector<int64_t> out;
    for (size_t i = begin; i < end; ++i) out.push_back(static_cast<int64_t>(i));
    return out;
}

// φ of the chosen and rejected responses of every pair, [N, d] each, computed without gradients.
struct PairFeatures {
    at::Tensor chosen, rejected;
};

PairFeatures all_features(const RewardModel& rm, const std::vector<PreferenceExample>& examples, int64_t pad, size_t batch) {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> chosen, rejected;
    for (size_t i = 0; i < examples.size(); i += batch) {
        CompletionBatch b = pair_completion_batch(select(examples, range(i, std::min(examples.size(), i + batch))), pad, rm.backbone().device());
        auto halves = rm.features(b.input_ids, b.attention_mask).chunk(2);
        chosen.push_back(halves[0]);
        rejected.push_back(halves[1]);
    }
    if (chosen.empty()) return {};
    return {at::cat(chosen), at::cat(rejected)};
}

}  // namespace

RewardPairMetrics evaluate_reward_model(const RewardModel& rm, const std::vector<PreferenceExample>& pairs, int64_t pad) {
    ANVIL_CHECK(!pairs.empty(), "evaluate_reward_model: no pairs");
    at::NoGradGuard no_grad;
    const bool was_training = rm.backbone().is_training();
    rm.backbone().eval();
    std::vector<at::Tensor> chosen, rejected;
    for (size_t i = 0; i < pairs.size(); i += 16) {
        CompletionBatch b = pair_completion_batch(select(pairs, range(i, std::min(pairs.size(), i + 16))), pad, rm.backbone().device());
        auto halves = rm.score(b.input_ids, b.attention_mask).chunk(2);
        chosen.push_back(halves[0]);
        rejected.push_back(halves[1]);
    }
    rm.backbone().train(was_training);
    return reward_pair_metrics(at::cat(chosen), at::cat(rejected));
}

void run_reward_model_stage(const RewardModelOptions& options, RunContext& ctx) {
    const RewardModelOptions& o = options;
    const uint64_t seed = static_cast<uint64_t>(o.seed + ctx.experiment().run.seed);
    DistributedWorld& world = ctx.world();
    const int rank = world.rank(), ranks = world.world_size();
    const std::string model_dir = ctx.resolve(o.model, "model");
    std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(model_dir);
    std::optional<ChatTemplate> chat;
    if (!o.pairs.chat_template.empty()) chat = ChatTemplate::select(o.pairs.chat_template, model_dir);
    const auto& special = tokenizer->special_ids();
    const int64_t pad = special.pad.value_or(special.eos.empty() ? 0 : special.eos.front());

    RewardHeadConfig head_config;
    head_config.heads = o.heads;
    head_config.hidden = o.head_hidden;
    head_config.layers = o.head_layers;
    head_config.beta = o.bound_beta;
    RewardModel rm = RewardModel::create(model_dir, head_config, seed);
    TransformerImpl& backbone = rm.backbone();
    RewardHeadsImpl& heads = rm.heads();

    PreferenceSplits splits = load_preference_splits(
        o.pairs, ctx.resolve(o.pairs.data, "data"), o.pairs.eval_data.empty() ? "" : ctx.resolve(o.pairs.eval_data, "eval_data"),
        *tokenizer, chat);
    const auto& train = splits.train.examples;
    const auto& held_out = splits.held_out.examples;
    ANVIL_CHECK(!train.empty(), "stage '", ctx.stage_name(), "': no training pairs");
    log::info("reward model (", o.heads, " head(s), ", o.head_layers, " hidden layer(s), backbone ",
              o.freeze_backbone ? "frozen" : "trained", ") on ", train.size(), " pairs (", splits.train.truncated,
              " truncated, ", splits.train.dropped, " dropped, ", splits.train.skipped, " skipped; ", held_out.size(),
              " held out), ", ranks, " rank(s)");

    PairFeatures train_features, eval_features;
    if (o.freeze_backbone) {
        backbone.eval();
        for (auto& p : backbone.parameters()) p.requires_grad_(false);
        const size_t batch = static_cast<size_t>(std::max<int64_t>(16, o.training.micro_batch_size));
        train_features = all_features(rm, train, pad, batch);
        eval_features = all_features(rm, held_out, pad, batch);
    } else {
        backbone.train();
    }
    // Per-head rewards [B, K] of the chosen and rejected responses of pairs[indices].
    auto head_rewards = [&](const std::vector<PreferenceExample>& examples, const PairFeatures& cached,
                            const std::vector<int64_t>& indices) {
        if (o.freeze_backbone) {
            at::Tensor idx = at::tensor(indices, at::kLong).to(cached.chosen.device());
            return std::make_pair(heads.forward(cached.chosen.index_select(0, idx)),
                                  heads.forward(cached.rejected.index_select(0, idx)));
        }
        CompletionBatch b = pair_completion_batch(select(examples, indices), pad, backbone.device());
        auto halves = heads.forward(rm.features(b.input_ids, b.attention_mask)).chunk(2);
        return std::make_pair(halves[0], halves[1]);
    };
    auto margins = [&](const std::vector<PreferenceExample>& examples, const std::vector<int64_t>& indices) {
        std::vector<double> m;
        for (int64_t i : indices) m.push_back(examples[static_cast<size_t>(i)].margin);
        return at::tensor(m, at::kFloat);
    };

    EpochShuffle order(static_cast<int64_t>(train.size()), seed);
    TrainingHooks hooks;
    hooks.micro_batch = [&](int64_t step, int64_t micro) {
        std::vector<int64_t> indices =
            order.micro_batch(step, micro, o.training.gradient_accumulation, rank, ranks, o.training.micro_batch_size);
        auto [chosen, rejected] = head_rewards(train, train_features, indices);
        at::Tensor loss = bradley_terry_loss(chosen, rejected, margins(train, indices).to(chosen.device()), o.center_coefficient);
        Metrics m;
        if (o.anchor_weight > 0) {
            const double lambda = anchor_weight(o.anchor_weight, o.anchor_decay, o.anchor_decay_base, o.anchor_decay_scaler,
                                                step, o.training.max_steps);
            at::Tensor penalty = anchor_penalty(heads.weights(), heads.anchors());
            loss = loss + lambda * penalty;
            m = {{"anchor_weight", lambda}, {"anchor_penalty", penalty.item<double>()}};
        }
        at::Tensor mean_c = chosen.mean(1), mean_r = rejected.mean(1);
        m.insert(m.begin(), {{"accuracy", (mean_c > mean_r).to(at::kFloat).mean().item<double>()},
                             {"margin", (mean_c - mean_r).mean().item<double>()}});
        int64_t tokens = 0;
        for (int64_t i : indices) {
            const auto& e = train[static_cast<size_t>(i)];
            tokens += static_cast<int64_t>(2 * e.prompt.size() + e.chosen.size() + e.rejected.size());
        }
        return MicroBatchLoss{loss, tokens, m};
    };
    if (!held_out.empty()) {
        hooks.evaluate = [&]() -> Metrics {
            at::NoGradGuard no_grad;
            const bool was_training = backbone.is_training();
            backbone.eval();
            std::vector<at::Tensor> chosen, rejected;
            double loss = 0;
            for (size_t i = 0; i < held_out.size(); i += 16) {
                std::vector<int64_t> indices = range(i, std::min(held_out.size(), i + 16));
                auto [c, r] = head_rewards(held_out, eval_features, indices);
                loss += bradley_terry_loss(c, r, margins(held_out, indices).to(c.device())).item<double>() *
                        static_cast<double>(indices.size());
                chosen.push_back(reward_bounds(c, o.bound_beta));
                rejected.push_back(reward_bounds(r, o.bound_beta));
            }
            backbone.train(was_training);
            Metrics m = {{"eval_loss", loss / static_cast<double>(held_out.size())}};
            Metrics quality = reward_pair_metrics(at::cat(chosen), at::cat(rejected)).metrics("eval_");
            m.insert(m.end(), quality.begin(), quality.end());
            return m;
        };
    }
    SaveOptions save;
    save.tokenizer_source = model_dir;
    save.generation = rm.checkpoint().generation;
    hooks.save_model = [&](const std::filesystem::path& dir) { rm.save(dir, save); };
    hooks.load_model = [&](const std::filesystem::path& dir) { rm.load_weights(dir); };

    std::vector<at::Tensor> params;
    for (auto& p : heads.parameters()) params.push_back(p);
    if (!o.freeze_backbone)
        for (auto& p : backbone.parameters()) params.push_back(p);
    TrainingLoop loop(ctx, o.training, params, &world);
    loop.run(hooks);
    const auto out = ctx.stage_dir() / "reward_model";
    if (rank == 0) rm.save(out, save);
    world.barrier();
    log::info("reward model saved to ", out.string());
    ctx.publish("reward_model", out.string());
}

}  // namespace anvil
