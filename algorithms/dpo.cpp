// Implementation of algorithms/dpo.h.
#include "algorithms/dpo.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cstdio>

#include "algorithms/dpo_loss.h"
#include "algorithms/preference_data.h"
#include "core/log.h"
#include "models/batching.h"
#include "models/checkpoint.h"
#include "models/safetensors.h"
#include "models/text_generation.h"
#include "trainer/data_order.h"
#include "trainer/distributed.h"
#include "trainer/run_context.h"
#include "trainer/training_loop.h"

namespace anvil {

const config::Section<DpoOptions>& DpoOptions::section() {
    static const config::Section<DpoOptions> s = [] {
        config::Section<DpoOptions> s("dpo", "Direct Preference Optimization and its variants.");
        s.field("model", &DpoOptions::model, "Checkpoint directory to train (or @model).");
        s.field("reference_mode", &DpoOptions::reference_mode,
                "Reference log-probs: \"cached\" = computed once before training (or read from the data's "
                "ref_chosen_logps / ref_rejected_logps) and saved in the stage directory; \"model\" = a frozen reference "
                "model run on every batch; \"none\" = reference-free.")
            .choices({"cached", "model", "none"});
        s.field("reference_model", &DpoOptions::reference_model, "Reference checkpoint; \"\" = the starting model.");
        s.field("seed", &DpoOptions::seed, "Shuffling seed, added to run.seed.").min(0);
        s.field("loss_type", &DpoOptions::loss_type,
                "sigmoid (DPO; cDPO with label_smoothing), robust (rDPO), ipo (length-averaged log-probs), hinge (SLiC).")
            .choices(dpo_loss_types());
        s.field("beta", &DpoOptions::beta, "β: the strength of the implicit KL to the reference (TRL default 0.1).").min(1e-9);
        s.field("label_smoothing", &DpoOptions::label_smoothing,
                "ε: the assumed share of flipped labels (cDPO with sigmoid, rDPO with robust).")
            .min(0)
            .max(0.499);
        s.field("rpo_alpha", &DpoOptions::rpo_alpha,
                "RPO (Pang et al. 2024): add rpo_alpha × the chosen responses' token-mean NLL to the loss; 0 = off.")
            .min(0);
        s.field("length_normalize", &DpoOptions::length_normalize,
                "Use the mean log-prob over completion tokens instead of the sum (always on for ipo).");
        s.include(&DpoOptions::pairs, PreferenceDataOptions::section());
        s.include(&DpoOptions::training, TrainingOptions::section());
        s.check([](const DpoOptions& o, const config::Reporter& report) {
            if (o.reference_mode == "none" && !o.reference_model.empty())
                report("reference_model", "is unused with reference_mode = \"none\"");
        });
        return s;
    }();
    return s;
}

namespace {

using Batch = std::vector<const PreferenceExample*>;

struct PairLogps {
    at::Tensor chosen, rejected;  // [B]
    at::Tensor chosen_nll;        // scalar: token-mean NLL of the chosen responses (RPO)
    int64_t tokens = 0;           // real tokens in the forward pass
};

// ℓ(y_w) and ℓ(y_l) of each pair under `model`: chosen and rejected responses in one batch of 2B rows.
PairLogps pair_logprobs(TransformerImpl& model, const Batch& pairs, int64_t pad, bool length_normalize) {
    CompletionBatch b = pair_completion_batch(pairs, pad, model.device());
    ForwardArgs args;
    args.attention_mask = b.attention_mask;
    at::Tensor logp = model.token_logprobs(model.forward(b.input_ids, args), b.targets);
    at::Tensor mask = b.targets >= 0;
    auto halves = sequence_logprobs(logp, mask, length_normalize).chunk(2);
    const int64_t rows = static_cast<int64_t>(pairs.size());
    return {halves[0], halves[1], chosen_nll(logp.narrow(0, 0, rows), mask.narrow(0, 0, rows)),
            b.attention_mask.sum().item<int64_t>()};
}

Batch slice(const std::vector<PreferenceExample>& examples, size_t begin, size_t end) {
    Batch out;
    for (size_t i = begin; i < std::min(end, examples.size()); ++i) out.push_back(&examples[i]);
    return out;
}

// Reference log-probs of a whole dataset, [N] each.
struct ReferenceLogps {
    at::Tensor chosen, rejected;
};

ReferenceLogps compute_reference(TransformerImpl& reference, const std::vector<PreferenceExample>& examples, int64_t pad,
                                 bool length_normalize, int64_t batch) {
    at::NoGradGuard no_grad;
    const bool was_training = reference.is_training();
    reference.eval();
    std::vector<at::Tensor> chosen, rejected;
    for (size_t i = 0; i < examples.size(); i += static_cast<size_t>(batch)) {
        PairLogps l = pair_logprobs(reference, slice(examples, i, i + static_cast<size_t>(batch)), pad, length_normalize);
        chosen.push_back(l.chosen.to(at::kCPU));
        rejected.push_back(l.rejected.to(at::kCPU));
    }
    reference.train(was_training);
    if (chosen.empty()) return {at::zeros({0}), at::zeros({0})};
    return {at::cat(chosen), at::cat(rejected)};
}

// The data's own ref_chosen_logps / ref_rejected_logps (sums), length-normalised when asked.
ReferenceLogps given_reference(const std::vector<PreferenceExample>& examples, bool length_normalize) {
    std::vector<float> chosen, rejected;
    for (const auto& e : examples) {
        chosen.push_back(static_cast<float>(*e.ref_chosen_logps / (length_normalize ? static_cast<double>(e.chosen.size()) : 1.0)));
        rejected.push_back(
            static_cast<float>(*e.ref_rejected_logps / (length_normalize ? static_cast<double>(e.rejected.size()) : 1.0)));
    }
    return {at::tensor(chosen), at::tensor(rejected)};
}

// FNV-1a over everything the cached reference log-probs depend on, so a stale cache is never reused.
std::string fingerprint(const std::vector<const std::vector<PreferenceExample>*>& sets, bool length_normalize,
                        const std::string& reference) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&](uint64_t v) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 1099511628211ull;
        }
    };
    for (char c : reference) mix(static_cast<unsigned char>(c));
    mix(length_normalize);
    for (const auto* set : sets) {
        mix(set->size());
        for (const auto& e : *set)
            for (const auto* ids : {&e.prompt, &e.chosen, &e.rejected}) {
                mix(ids->size());
                for (int64_t id : *ids) mix(static_cast<uint64_t>(id));
            }
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace

void run_dpo_stage(const DpoOptions& options, RunContext& ctx) {
    const DpoOptions& o = options;
    const uint64_t seed = static_cast<uint64_t>(o.seed + ctx.experiment().run.seed);
    DistributedWorld& world = ctx.world();
    const int rank = world.rank(), ranks = world.world_size();
    const std::string model_dir = ctx.resolve(o.model, "model");
    const std::string reference_dir = o.reference_model.empty() ? model_dir : ctx.resolve(o.reference_model, "reference_model");
    TextGenerator text = TextGenerator::load(model_dir, at::kFloat, o.pairs.chat_template);
    TransformerImpl& policy = text.model();
    const auto& special = text.tokenizer().special_ids();
    const int64_t pad = special.pad.value_or(special.eos.empty() ? 0 : special.eos.front());
    const bool normalize = o.length_normalize || o.loss_type == "ipo";

    PreferenceSplits splits = load_preference_splits(
        o.pairs, ctx.resolve(o.pairs.data, "data"), o.pairs.eval_data.empty() ? "" : ctx.resolve(o.pairs.eval_data, "eval_data"),
        text.tokenizer(), text.chat_template());
    const PreferenceDataset& train = splits.train;
    const PreferenceDataset& held_out = splits.held_out;
    ANVIL_CHECK(!train.examples.empty(), "stage '", ctx.stage_name(), "': no training pairs");
    log::info("DPO (", o.loss_type, ", beta ", o.beta, ", reference ", o.reference_mode, ") on ", train.examples.size(),
              " pairs (", train.truncated, " truncated, ", train.dropped, " dropped, ", train.skipped, " skipped; ",
              held_out.examples.size(), " held out), ", ranks, " rank(s), global batch ",
              o.training.micro_batch_size * o.training.gradient_accumulation * ranks);

    // Reference log-probs: cached for every pair up front, or a frozen model run per batch.
    ReferenceLogps train_ref, eval_ref;
    Transformer reference_model{nullptr};
    if (o.reference_mode == "model") {
        reference_model = load_checkpoint(reference_dir, at::kFloat).model;
        reference_model->eval();
        for (auto& p : reference_model->parameters()) p.requires_grad_(false);
    } else if (o.reference_mode == "cached" && train.has_reference_logps() &&
               (held_out.examples.empty() || held_out.has_reference_logps())) {
        log::info("reference log-probs from the data's ref_chosen_logps / ref_rejected_logps");
        train_ref = given_reference(train.examples, normalize);
        eval_ref = given_reference(held_out.examples, normalize);
    } else if (o.reference_mode == "cached") {
        const auto cache = ctx.stage_dir() / "reference_logps.safetensors";
        const std::string key = fingerprint({&train.examples, &held_out.examples}, normalize, reference_dir);
        auto cached = [&]() {
            if (!std::filesystem::exists(cache)) return false;
            safetensors::Reader reader(cache);
            auto it = reader.metadata().find("fingerprint");
            return it != reader.metadata().end() && it->second == key;
        };
        if (rank == 0 && !cached()) {
            log::info("computing reference log-probs of ", train.examples.size() + held_out.examples.size(), " pairs once");
            Transformer separate{nullptr};
            if (reference_dir != model_dir) separate = load_checkpoint(reference_dir, at::kFloat).model;
            TransformerImpl& ref = separate ? *separate : policy;  // the policy still holds its starting weights
            const int64_t batch = 4 * o.training.micro_batch_size;  // no gradients: larger batches fit
            ReferenceLogps t = compute_reference(ref, train.examples, pad, normalize, batch);
            ReferenceLogps e = compute_reference(ref, held_out.examples, pad, normalize, batch);
            safetensors::write(cache, {{"train_chosen", t.chosen}, {"train_rejected", t.rejected}, {"eval_chosen", e.chosen},
                                       {"eval_rejected", e.rejected}},
                               {{"format", "pt"}, {"fingerprint", key}, {"reference", reference_dir}});
        }
        world.barrier();
        safetensors::Reader reader(cache);
        train_ref = {reader.tensor("train_chosen"), reader.tensor("train_rejected")};
        eval_ref = {reader.tensor("eval_chosen"), reader.tensor("eval_rejected")};
    }
    policy.train();

    // ℓref of the pairs at `indices` of a dataset (zeros when reference-free).
    auto reference_for = [&](const Batch& pairs, const std::vector<int64_t>& indices, const ReferenceLogps& cached) {
        if (reference_model) {
            at::NoGradGuard no_grad;
            PairLogps l = pair_logprobs(*reference_model, pairs, pad, normalize);
            return ReferenceLogps{l.chosen, l.rejected};
        }
        if (o.reference_mode == "none") {
            at::Tensor zeros = at::zeros({static_cast<int64_t>(pairs.size())}, at::kFloat).to(policy.device());
            return ReferenceLogps{zeros, zeros};
        }
        at::Tensor idx = at::tensor(indices, at::kLong);
        return ReferenceLogps{cached.chosen.index_select(0, idx).to(policy.device()),
                              cached.rejected.index_select(0, idx).to(policy.device())};
    };
    DpoLossOptions loss_options;
    loss_options.loss_type = o.loss_type;
    loss_options.beta = o.beta;
    loss_options.label_smoothing = o.label_smoothing;

    EpochShuffle order(static_cast<int64_t>(train.examples.size()), seed);
    TrainingHooks hooks;
    hooks.micro_batch = [&](int64_t step, int64_t micro) {
        std::vector<int64_t> indices =
            order.micro_batch(step, micro, o.training.gradient_accumulation, rank, ranks, o.training.micro_batch_size);
        Batch pairs;
        for (int64_t i : indices) pairs.push_back(&train.examples[static_cast<size_t>(i)]);
        PairLogps l = pair_logprobs(policy, pairs, pad, normalize);
        ReferenceLogps ref = reference_for(pairs, indices, train_ref);
        DpoLoss d = dpo_loss(l.chosen, l.rejected, ref.chosen, ref.rejected, loss_options);
        Metrics m = {{"rewards_chosen", d.chosen_rewards.mean().item<double>()},
                     {"rewards_rejected", d.rejected_rewards.mean().item<double>()},
                     {"reward_accuracy", (d.chosen_rewards > d.rejected_rewards).to(at::kFloat).mean().item<double>()},
                     {"reward_margin", (d.chosen_rewards - d.rejected_rewards).mean().item<double>()},
                     {"logps_chosen", l.chosen.mean().item<double>()},
                     {"logps_rejected", l.rejected.mean().item<double>()}};
        at::Tensor loss = d.losses.mean();
        if (o.rpo_alpha > 0) {
            loss = loss + o.rpo_alpha * l.chosen_nll;
            m.emplace_back("chosen_nll", l.chosen_nll.item<double>());
        }
        return MicroBatchLoss{loss, l.tokens, m};
    };
    if (!held_out.examples.empty()) {
        hooks.evaluate = [&]() -> Metrics {
            at::NoGradGuard no_grad;
            policy.eval();
            double loss = 0, accuracy = 0, margin = 0, logp_accuracy = 0;
            const size_t batch = 16;
            for (size_t i = 0; i < held_out.examples.size(); i += batch) {
                Batch pairs = slice(held_out.examples, i, i + batch);
                std::vector<int64_t> indices(pairs.size());
                for (size_t j = 0; j < pairs.size(); ++j) indices[j] = static_cast<int64_t>(i + j);
                PairLogps l = pair_logprobs(policy, pairs, pad, normalize);
                ReferenceLogps ref = reference_for(pairs, indices, eval_ref);
                DpoLoss d = dpo_loss(l.chosen, l.rejected, ref.chosen, ref.rejected, loss_options);
                loss += d.losses.sum().item<double>();
                accuracy += (d.chosen_rewards > d.rejected_rewards).sum().item<double>();
                margin += (d.chosen_rewards - d.rejected_rewards).sum().item<double>();
                logp_accuracy += (l.chosen > l.rejected).sum().item<double>();
            }
            policy.train();
            const double n = static_cast<double>(held_out.examples.size());
            return {{"eval_loss", loss / n},
                    {"eval_reward_accuracy", accuracy / n},
                    {"eval_reward_margin", margin / n},
                    {"eval_logp_accuracy", logp_accuracy / n}};
        };
    }
    SaveOptions save;
    save.tokenizer_source = model_dir;
    save.generation = text.checkpoint().generation;
    hooks.save_model = [&](const std::filesystem::path& dir) { save_checkpoint(policy, dir, save); };
    hooks.load_model = [&](const std::filesystem::path& dir) { load_weights(policy, dir); };

    std::vector<at::Tensor> params;
    for (auto& p : policy.parameters()) params.push_back(p);
    TrainingLoop loop(ctx, o.training, params, &world);
    loop.run(hooks);
    const auto out = ctx.stage_dir() / "model";
    if (rank == 0) save_checkpoint(policy, out, save);
    world.barrier();
    log::info("DPO model saved to ", out.string());
    ctx.publish("model", out.string());
}

}  // namespace anvil
