// Implementation of algorithms/grpo.h.
#include "algorithms/grpo.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "algorithms/evaluation.h"
#include "algorithms/grpo_advantages.h"
#include "algorithms/policy_loss.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/log.h"
#include "models/batching.h"
#include "models/checkpoint.h"
#include "models/logprobs.h"
#include "models/text_generation.h"
#include "trainer/data_order.h"
#include "trainer/device.h"
#include "trainer/distributed.h"
#include "trainer/run_context.h"
#include "trainer/training_loop.h"

namespace anvil {

TrainingOptions GrpoOptions::default_training() {
    TrainingOptions t;
    t.lr = 1e-6;
    t.lr_schedule = "constant";
    t.weight_decay = 0.01;
    return t;
}

const config::Section<GrpoOptions>& GrpoOptions::section() {
    static const config::Section<GrpoOptions> s = [] {
        config::Section<GrpoOptions> s("grpo", "RL with verifiable rewards: GRPO / DAPO / Dr.GRPO.");
        s.field("model", &GrpoOptions::model, "Policy checkpoint to start from (or @model).");
        s.field("reference_model", &GrpoOptions::reference_model,
                "Frozen reference for the KL term; \"\" = the starting policy. Loaded only when kl_coef > 0 or log_kl.");
        s.table("tasks", &GrpoOptions::tasks, "Training tasks: [stage.tasks] with path (or @train_tasks), format, field names.",
                env::task_source_section());
        s.custom<env::EnvironmentSpec>("environment", &GrpoOptions::environment,
                                       "Reward environment: [stage.environment] with name (math, code, external, ...) "
                                       "and its options; single-turn.",
                                       "table", env::read_environment_value, env::render_environment_spec);
        s.field("prompt_template", &GrpoOptions::prompt_template, "How a task is shown to the model; {prompt} is replaced.");
        s.field("chat_template", &GrpoOptions::chat_template,
                "\"\" = raw text, \"auto\" = the checkpoint's chat template, or chatml, qwen3, llama3, plain.");
        s.field("prompts_per_step", &GrpoOptions::prompts_per_step,
                "Prompts per rollout batch, over all ranks (a multiple of mini_batches × ranks).")
            .min(1);
        s.field("group_size", &GrpoOptions::group_size, "Completions sampled per prompt (G).").min(1);
        s.field("max_new_tokens", &GrpoOptions::max_new_tokens, "Longest completion (also L_max of seq-mean-token-sum-norm).").min(1);
        s.field("temperature", &GrpoOptions::temperature,
                "Rollout sampling temperature. π_old is always the model at temperature 1, so keep 1 for exact ratios.")
            .min(0.01);
        s.field("top_p", &GrpoOptions::top_p, "Rollout nucleus threshold (1 = off).").min(0).max(1);
        s.field("top_k", &GrpoOptions::top_k, "Rollout top-k (0 = off).").min(0);
        s.field("stop", &GrpoOptions::stop, "Stop a completion once it contains one of these strings.");
        s.field("rollout_batch_size", &GrpoOptions::rollout_batch_size, "Completions generated together on a rank.").min(1);
        s.field("advantage", &GrpoOptions::advantage,
                "grpo: (r − mean)/(std + eps) per group; dr_grpo: r − mean (no std); passk: ttc-rl.md §3.1 "
                "pass@k-combined (binary rewards).")
            .choices({"grpo", "dr_grpo", "passk"});
        s.field("advantage_eps", &GrpoOptions::advantage_eps, "eps of the std normalisation.").min(0);
        s.field("passk_k", &GrpoOptions::passk_k, "k of the pass@k advantage (at most group_size).").min(1);
        s.field("clip_low", &GrpoOptions::clip_low, "ε_low: ratios below 1 − ε_low are clipped.").min(0).max(1);
        s.field("clip_high", &GrpoOptions::clip_high, "ε_high: ratios above 1 + ε_high are clipped (DAPO clip-higher: 0.28).").min(0);
        s.field("dual_clip", &GrpoOptions::dual_clip, "Dual-clip constant c (> 1, e.g. 3) bounding the loss of A < 0 tokens; 0 = off.")
            .min(0);
        s.field("loss_aggregation", &GrpoOptions::loss_aggregation, "How token losses are averaged over the optimizer step.")
            .choices({"token-mean", "seq-mean-token-mean", "seq-mean-token-sum-norm"});
        s.field("kl_coef", &GrpoOptions::kl_coef, "β of the KL(π_θ ‖ π_ref) term in the loss; 0 = no reference model.").min(0);
        s.field("kl_estimator", &GrpoOptions::kl_estimator, "KL estimator (Schulman 2020).").choices({"k1", "k2", "k3"});
        s.field("log_kl", &GrpoOptions::log_kl,
                "Load the reference to log the KL to it (metric kl) even when kl_coef = 0 (one more forward per rollout).");
        s.field("dynamic_sampling", &GrpoOptions::dynamic_sampling,
                "Leave groups whose rewards are all equal out of the loss and its normalisers (DAPO).");
        s.field("mask_truncated", &GrpoOptions::mask_truncated,
                "Leave completions cut at max_new_tokens out of the loss (DAPO overlong filtering).");
        s.field("mini_batches", &GrpoOptions::mini_batches, "Optimizer steps per pass over a rollout batch.").min(1);
        s.field("ppo_epochs", &GrpoOptions::ppo_epochs, "Passes over each rollout batch.").min(1);
        s.field("correct_threshold", &GrpoOptions::correct_threshold,
                "A completion counts as solved (for the solve-rate metric and evaluation) when its reward reaches this.");
        s.table("eval_tasks", &GrpoOptions::eval_tasks,
                "Held-out tasks for greedy accuracy at step 0, every eval_every steps and at the end; unset = none.",
                env::task_source_section());
        s.field("eval_max_tasks", &GrpoOptions::eval_max_tasks, "Held-out tasks used (the first ones).").min(1);
        s.field("log_completions_every", &GrpoOptions::log_completions_every,
                "Write rank 0's completions of every n-th rollout batch to <stage>/completions/ (0 = never).")
            .min(0);
        s.field("seed", &GrpoOptions::seed, "Prompt order and sampling seed, added to run.seed.").min(0);
        s.include(&GrpoOptions::training, TrainingOptions::section());
        s.check([](const GrpoOptions& o, const config::Reporter& report) {
            if (o.prompt_template.find("{prompt}") == std::string::npos) report("prompt_template", "must contain {prompt}");
            if (o.advantage == "passk" && o.passk_k > o.group_size) report("passk_k", "must be at most group_size");
            if (o.dual_clip != 0.0 && o.dual_clip <= 1.0) report("dual_clip", "must be 0 (off) or greater than 1");
            if (o.training.gradient_accumulation != 1)
                report("gradient_accumulation",
                       "is derived for GRPO (sequences per mini-batch / micro_batch_size); leave it unset");
            const int64_t per_rollout = o.steps_per_rollout();
            if (o.training.max_steps % per_rollout != 0)
                report("max_steps", str("must be a multiple of ppo_epochs × mini_batches = ", per_rollout,
                                         " (optimizer steps per rollout batch)"));
            if (o.training.checkpoint_every % per_rollout != 0)
                report("checkpoint_every",
                       str("must be a multiple of ppo_epochs × mini_batches = ", per_rollout, " (checkpoints fall between rollouts)"));
            if (o.training.eval_every % per_rollout != 0)
                report("eval_every", str("must be a multiple of ppo_epochs × mini_batches = ", per_rollout));
        });
        return s;
    }();
    return s;
}

namespace {

// One sampled completion and what the update needs of it.
struct Sample {
    size_t task = 0;
    std::vector<int64_t> prompt, completion;
    std::vector<float> old_logprobs, ref_logprobs;
    std::string text;
    double reward = 0, advantage = 0;
    bool truncated = false;
    bool in_loss = true;
};

struct Rollout {
    int64_t index = -1;
    std::vector<Sample> samples;        // this rank's: its prompts' groups, in order
    std::vector<LossNormalizer> norms;  // per mini-batch, summed over ranks
    Metrics metrics;                    // global rollout statistics
};


class GrpoRun {
public:
    GrpoRun(const GrpoOptions& options, RunContext& ctx)
        : o_(options),
          ctx_(ctx),
          world_(ctx.world()),
          seed_(static_cast<uint64_t>(options.seed + ctx.experiment().run.seed)),
          model_dir_(ctx.resolve(options.model, "model")),
          text_(TextGenerator::load(model_dir_, at::kFloat, options.chat_template)),
          loss_options_(make_loss_options(options)) {
        const env::TaskSourceOptions tasks = resolved(o_.tasks, "tasks.path");
        tasks_ = env::load_tasks(tasks);
        ANVIL_CHECK(!tasks_.empty(), tasks.path, ": no training tasks");
        factory_ = env::make_environment(o_.environment);
        reward_ = factory_->reward();
        if (!reward_)
            throw UsageError(str("stage '", ctx.stage_name(), "': environment '", o_.environment.common.name,
                                 "' is multi-turn; the grpo stage trains on single-turn environments"));
        if (!o_.eval_tasks.path.empty()) {
            eval_tasks_ = env::load_tasks(resolved(o_.eval_tasks, "eval_tasks.path"));
            if (eval_tasks_.size() > static_cast<size_t>(o_.eval_max_tasks)) eval_tasks_.resize(static_cast<size_t>(o_.eval_max_tasks));
        }
        text_.model().to(world_.device());
        if (o_.kl_coef > 0 || o_.log_kl) {
            const std::string ref_dir = o_.reference_model.empty() ? model_dir_ : ctx.resolve(o_.reference_model, "reference_model");
            reference_ = load_checkpoint(ref_dir, at::kFloat).model;
            reference_->to(world_.device());
            reference_->eval();
            for (auto& p : reference_->parameters()) p.requires_grad_(false);
        }
        const auto& ids = text_.tokenizer().special_ids();
        pad_ = ids.pad.value_or(ids.eos.empty() ? 0 : ids.eos.front());
        shape_batches();
    }

    void run() {
        TransformerImpl& model = text_.model();
        model.train();
        TrainingHooks hooks;
        hooks.micro_batch = [&](int64_t step, int64_t micro) { return micro_batch(step, micro); };
        if (!eval_tasks_.empty()) hooks.evaluate = [&] { return evaluate(); };
        SaveOptions save;
        save.tokenizer_source = model_dir_;
        save.generation = text_.checkpoint().generation;
        hooks.save_model = [&](const std::filesystem::path& dir) { save_checkpoint(model, dir, save); };
        hooks.load_model = [&](const std::filesystem::path& dir) { load_weights(model, dir); };
        std::vector<at::Tensor> params;
        for (auto& p : model.parameters()) params.push_back(p);
        TrainingLoop loop(ctx_, training_, params, &world_);
        loop.run(hooks);
        const auto out = ctx_.stage_dir() / "model";
        if (world_.rank() == 0) save_checkpoint(model, out, save);
        world_.barrier();
        log::info("GRPO policy saved to ", out.string());
        ctx_.publish("model", out.string());
    }

private:
    static PolicyLossOptions make_loss_options(const GrpoOptions& o) {
        PolicyLossOptions l;
        l.clip_low = o.clip_low;
        l.clip_high = o.clip_high;
        l.dual_clip = o.dual_clip;
        l.aggregation = loss_aggregation_from_name(o.loss_aggregation);
        l.max_completion_length = o.max_new_tokens;
        l.kl_coef = o.kl_coef;
        l.kl_estimator = kl_estimator_from_name(o.kl_estimator);
        return l;
    }

    env::TaskSourceOptions resolved(env::TaskSourceOptions t, const std::string& key) const {
        t.path = ctx_.resolve(t.path, key);
        return t;
    }

    // Splits the rollout batch over ranks, mini-batches and micro-batches; errors name the keys to change.
    // Each mini-batch holds the same prompts whatever the number of ranks (so R ranks take the optimizer steps
    // of one): mini-batch b is global prompts [b·P/M, (b+1)·P/M), split evenly over the ranks; groups stay whole.
    void shape_batches() {
        const int64_t ranks = world_.world_size();
        if (o_.prompts_per_step % (o_.mini_batches * ranks) != 0)
            throw UsageError(str("stage '", ctx_.stage_name(), "': prompts_per_step = ", o_.prompts_per_step,
                                 " must be a multiple of mini_batches × ranks = ", o_.mini_batches, " × ", ranks));
        local_prompts_ = o_.prompts_per_step / ranks;
        per_mini_batch_ = local_prompts_ * o_.group_size / o_.mini_batches;
        if (per_mini_batch_ % o_.training.micro_batch_size != 0)
            throw UsageError(str("stage '", ctx_.stage_name(), "': a rank's mini-batch of ", per_mini_batch_,
                                 " completions does not split into micro_batch_size = ", o_.training.micro_batch_size));
        training_ = o_.training;
        training_.gradient_accumulation = per_mini_batch_ / o_.training.micro_batch_size;
        log::info("GRPO on ", tasks_.size(), " tasks: ", o_.prompts_per_step, " prompts × ", o_.group_size,
                  " completions per rollout, ", o_.steps_per_rollout(), " optimizer step(s) each, ", ranks, " rank(s), ",
                  training_.gradient_accumulation, " micro-batch(es) of ", o_.training.micro_batch_size, " per step");
    }

    // The global prompt slot (within the rollout batch) of this rank's local prompt `k`.
    int64_t prompt_slot(int64_t k) const {
        const int64_t per_mini = o_.prompts_per_step / o_.mini_batches;          // prompts of a mini-batch
        const int64_t per_rank = per_mini / world_.world_size();                  // ... on one rank
        return (k / per_rank) * per_mini + world_.rank() * per_rank + k % per_rank;
    }

    MicroBatchLoss micro_batch(int64_t step, int64_t micro) {
        const int64_t index = step / o_.steps_per_rollout();
        if (rollout_.index != index) make_rollout(index);
        const int64_t mini = (step % o_.steps_per_rollout()) % o_.mini_batches;
        const int64_t first = mini * per_mini_batch_ + micro * o_.training.micro_batch_size;
        std::vector<const Sample*> batch;
        for (int64_t i = first; i < first + o_.training.micro_batch_size; ++i)
            if (rollout_.samples[static_cast<size_t>(i)].in_loss) batch.push_back(&rollout_.samples[static_cast<size_t>(i)]);
        return loss(batch, rollout_.norms[static_cast<size_t>(mini)]);
    }

    // The policy loss of `batch`, scaled so that the loop's averaging over micro-batches and ranks yields the
    // loss (and token-weighted metrics) of the whole optimizer step.
    MicroBatchLoss loss(const std::vector<const Sample*>& batch, const LossNormalizer& norm) {
        TransformerImpl& model = text_.model();
        const double scale = static_cast<double>(training_.gradient_accumulation * world_.world_size());
        MicroBatchLoss out;
        out.metrics = rollout_.metrics;
        for (const char* name : {"clip_fraction_low", "clip_fraction_high", "dual_clip_fraction", "kl", "approx_kl_old", "entropy"})
            out.metrics.emplace_back(name, 0.0);
        if (batch.empty()) {  // every completion of this micro-batch left the loss (dynamic sampling, overlong)
            out.loss = model.lm_head_weight().sum() * 0.0;
            return out;
        }
        std::vector<std::vector<int64_t>> prompts, completions;
        std::vector<std::vector<float>> old_lp, ref_lp;
        std::vector<double> advantages;
        for (const Sample* s : batch) {
            prompts.push_back(s->prompt);
            completions.push_back(s->completion);
            old_lp.push_back(s->old_logprobs);
            if (reference_) ref_lp.push_back(s->ref_logprobs);
            advantages.push_back(s->advantage);
        }
        CompletionBatch b = make_completion_batch(prompts, completions, pad_, model.device());
        ForwardArgs args;
        args.attention_mask = b.attention_mask;
        at::Tensor hidden = model.forward(b.input_ids, args);
        at::Tensor logp = model.token_logprobs(hidden, b.targets);
        at::Tensor mask = (b.targets >= 0).to(at::kFloat);
        PolicyLoss l = policy_loss(logp, completion_values(old_lp, b), reference_ ? completion_values(ref_lp, b) : at::Tensor(),
                                   at::tensor(advantages, at::kDouble).to(at::kFloat).to(model.device()), mask,
                                   loss_options_, norm);
        const double entropy = (chunked_token_entropy(hidden.detach(), model.lm_head_weight().detach()) * mask).sum().item<double>();
        out.loss = l.loss * scale;
        out.tokens = b.attention_mask.sum().item<int64_t>();
        const double per_token = scale / std::max(norm.tokens, 1.0);
        const double values[] = {l.clipped_low, l.clipped_high, l.dual_clipped, l.kl, l.approx_kl_old, entropy};
        for (size_t i = 0; i < 6; ++i) out.metrics[rollout_.metrics.size() + i].second = values[i] * per_token;
        return out;
    }

    void make_rollout(int64_t index) {
        const auto start = std::chrono::steady_clock::now();
        AutocastOff full_precision(world_.device());  // π_old: the log-probs the fp32 policy gives
        TransformerImpl& model = text_.model();
        const int rank = world_.rank();
        const int64_t g = o_.group_size;
        EpochShuffle order(static_cast<int64_t>(tasks_.size()), seed_);
        Rollout r;
        r.index = index;
        // Prompt slot q = index · prompts_per_step + prompt_slot(k) of the endless shuffled task stream.
        std::vector<std::string> prompt_texts;
        std::vector<uint64_t> seeds;
        // A sample's seed mixes the run seed with its global index (slot · G + c): the same on any rank.
        const uint64_t run_mix = splitmix64_mix(seed_ + kSplitMix64Gamma);
        for (int64_t k = 0; k < local_prompts_; ++k) {
            const int64_t slot = index * o_.prompts_per_step + prompt_slot(k);
            const size_t task = static_cast<size_t>(order(slot));
            for (int64_t c = 0; c < g; ++c) {
                Sample s;
                s.task = task;
                r.samples.push_back(std::move(s));
                prompt_texts.push_back(render_prompt(o_.prompt_template, tasks_[task]));
                seeds.push_back(splitmix64_mix(run_mix + static_cast<uint64_t>(slot * g + c) + kSplitMix64Gamma));
            }
        }
        const auto encoded = text_.encode_prompts(prompt_texts);
        RolloutOptions ro = text_.default_options();
        ro.max_new_tokens = o_.max_new_tokens;
        ro.stop_strings = o_.stop;
        ro.sampling = SamplingParams{};
        ro.sampling.temperature = o_.temperature;
        ro.sampling.top_p = o_.top_p;
        ro.sampling.top_k = o_.top_k;
        model.eval();
        for (size_t start = 0; start < r.samples.size(); start += static_cast<size_t>(o_.rollout_batch_size)) {
            const size_t end = std::min(r.samples.size(), start + static_cast<size_t>(o_.rollout_batch_size));
            ro.sequence_seeds.assign(seeds.begin() + static_cast<std::ptrdiff_t>(start), seeds.begin() + static_cast<std::ptrdiff_t>(end));
            auto completions = text_.generate({prompt_texts.begin() + static_cast<std::ptrdiff_t>(start),
                                               prompt_texts.begin() + static_cast<std::ptrdiff_t>(end)},
                                              ro);
            for (size_t i = start; i < end; ++i) {
                Sample& s = r.samples[i];
                TextCompletion& c = completions[i - start];
                s.prompt = encoded[i];
                s.completion = std::move(c.completion.tokens);
                s.old_logprobs = std::move(c.completion.logprobs);
                s.truncated = c.completion.finish_reason == FinishReason::length;
                s.text = std::move(c.text);
                s.reward = reward_(tasks_[s.task], s.text).score;
            }
        }
        model.train();
        const double generation = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (reference_) reference_logprobs(r.samples);
        score(r);
        r.metrics.emplace_back("rollout_seconds", generation);
        if (o_.log_completions_every > 0 && index % o_.log_completions_every == 0 && rank == 0) write_completions(r);
        rollout_ = std::move(r);
    }

    void reference_logprobs(std::vector<Sample>& samples) {
        at::NoGradGuard no_grad;
        const size_t mb = static_cast<size_t>(o_.training.micro_batch_size);
        for (size_t start = 0; start < samples.size(); start += mb) {
            std::vector<std::vector<int64_t>> prompts, completions;
            for (size_t i = start; i < std::min(samples.size(), start + mb); ++i) {
                prompts.push_back(samples[i].prompt);
                completions.push_back(samples[i].completion);
            }
            CompletionBatch b = make_completion_batch(prompts, completions, pad_, reference_->device());
            ForwardArgs args;
            args.attention_mask = b.attention_mask;
            auto rows = completion_logprobs(reference_->token_logprobs(reference_->forward(b.input_ids, args), b.targets), b);
            for (size_t i = 0; i < rows.size(); ++i) samples[start + i].ref_logprobs = std::move(rows[i]);
        }
    }

    // Advantages per group, the loss filters, the step normalisers and the rollout metrics (over all ranks).
    void score(Rollout& r) {
        const int64_t g = o_.group_size, groups = local_prompts_;
        std::vector<double> flat;
        for (const Sample& s : r.samples) flat.push_back(s.reward);
        at::Tensor rewards = at::tensor(flat, at::kDouble).reshape({groups, g});
        at::Tensor adv = o_.advantage == "passk"     ? passk_advantages(rewards, o_.passk_k, o_.advantage_eps)
                         : o_.advantage == "dr_grpo" ? group_advantages(rewards, false, o_.advantage_eps)
                                                     : group_advantages(rewards, true, o_.advantage_eps);
        at::Tensor constant = constant_groups(rewards);
        adv = adv.contiguous();
        const double* a = adv.data_ptr<double>();
        double solved = 0, length = 0, truncated = 0, filtered_groups = 0, reward_sum = 0;
        for (int64_t i = 0; i < groups * g; ++i) {
            Sample& s = r.samples[static_cast<size_t>(i)];
            s.advantage = std::getenv("FLIP") ? -a[i] : a[i];
            const bool flat_group = constant[i / g].item<bool>();
            s.in_loss = !(o_.dynamic_sampling && flat_group) && !(o_.mask_truncated && s.truncated);
            reward_sum += s.reward;
            solved += s.reward >= o_.correct_threshold ? 1 : 0;
            length += static_cast<double>(s.completion.size());
            truncated += s.truncated ? 1 : 0;
            if (i % g == 0) filtered_groups += flat_group ? 1 : 0;
        }
        // Per mini-batch: in-loss tokens and sequences; then the rollout sums; all summed over ranks at once.
        std::vector<double> sums(2 * static_cast<size_t>(o_.mini_batches), 0.0);
        for (int64_t i = 0; i < groups * g; ++i) {
            const Sample& s = r.samples[static_cast<size_t>(i)];
            if (!s.in_loss) continue;
            sums[static_cast<size_t>(2 * (i / per_mini_batch_))] += static_cast<double>(s.completion.size());
            sums[static_cast<size_t>(2 * (i / per_mini_batch_) + 1)] += 1;
        }
        sums.insert(sums.end(), {reward_sum, solved, length, truncated, filtered_groups});
        std::vector<at::Tensor> t = {at::tensor(sums, at::kDouble)};
        world_.all_reduce_sum(t);
        const double* total = t[0].data_ptr<double>();
        for (int64_t m = 0; m < o_.mini_batches; ++m) r.norms.push_back({total[2 * m], total[2 * m + 1]});
        const double* stats = total + 2 * o_.mini_batches;
        const double n = static_cast<double>(o_.prompts_per_step * g);
        r.metrics = {{"reward", stats[0] / n},
                     {"solve_rate", stats[1] / n},
                     {"completion_tokens", stats[2] / n},
                     {"truncated_fraction", stats[3] / n},
                     {"constant_group_fraction", stats[4] / static_cast<double>(o_.prompts_per_step)}};
        log::debug("rollout ", r.index, ": reward ", stats[0] / n, ", solved ", stats[1] / n);
    }

    void write_completions(const Rollout& r) const {
        std::string out;
        for (const Sample& s : r.samples) {
            nlohmann::ordered_json j = {{"task", tasks_[s.task].id},   {"completion", s.text},
                                        {"reward", s.reward},          {"advantage", s.advantage},
                                        {"tokens", s.completion.size()}, {"truncated", s.truncated},
                                        {"in_loss", s.in_loss}};
            out += j.dump() + "\n";
        }
        char name[64];
        std::snprintf(name, sizeof name, "rollout-%06lld.jsonl", static_cast<long long>(r.index));
        const auto dir = ctx_.stage_dir() / "completions";
        std::filesystem::create_directories(dir);
        write_file_atomic(dir / name, out);
    }

    // Greedy accuracy on the held-out tasks, each rank scoring every ranks-th task.
    Metrics evaluate() {
        AutocastOff full_precision(world_.device());  // as the eval stage scores
        TransformerImpl& model = text_.model();
        EvalOptions eo;
        eo.prompt_template = o_.prompt_template;
        eo.max_new_tokens = o_.max_new_tokens;
        eo.stop = o_.stop;
        eo.batch_size = o_.rollout_batch_size;
        eo.correct_threshold = o_.correct_threshold;
        std::vector<env::Task> shard;
        for (size_t i = static_cast<size_t>(world_.rank()); i < eval_tasks_.size(); i += static_cast<size_t>(world_.world_size()))
            shard.push_back(eval_tasks_[i]);
        model.eval();
        const double correct = shard.empty() ? 0.0 : evaluate_model(text_, shard, reward_, eo, nullptr).greedy_accuracy * static_cast<double>(shard.size());
        model.train();
        std::vector<at::Tensor> t = {at::tensor(std::vector<double>{correct}, at::kDouble)};
        world_.all_reduce_sum(t);
        return {{"eval_greedy_accuracy", t[0].item<double>() / static_cast<double>(eval_tasks_.size())}};
    }

    GrpoOptions o_;
    RunContext& ctx_;
    DistributedWorld& world_;
    uint64_t seed_;
    std::string model_dir_;
    TextGenerator text_;
    PolicyLossOptions loss_options_;
    std::vector<env::Task> tasks_, eval_tasks_;
    std::unique_ptr<env::EnvironmentFactory> factory_;
    env::RewardFn reward_;
    Transformer reference_{nullptr};
    int64_t pad_ = 0;
    int64_t local_prompts_ = 0, per_mini_batch_ = 0;
    TrainingOptions training_;
    Rollout rollout_;
};

}  // namespace

void run_grpo_stage(const GrpoOptions& options, RunContext& ctx) {
    GrpoRun run(options, ctx);
    run.run();
}

}  // namespace anvil
