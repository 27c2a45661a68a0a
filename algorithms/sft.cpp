// Implementation of algorithms/sft.h.
#include "algorithms/sft.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>

#include "algorithms/goldfish.h"
#include "core/hash.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "models/batching.h"
#include "models/checkpoint.h"
#include "models/text_generation.h"
#include "trainer/data_order.h"
#include "trainer/distributed.h"
#include "trainer/run_context.h"
#include "trainer/training_loop.h"

namespace anvil {

const config::Section<SftOptions>& SftOptions::section() {
    static const config::Section<SftOptions> s = [] {
        config::Section<SftOptions> s("sft", "Supervised fine-tuning.");
        s.field("model", &SftOptions::model, "Checkpoint directory to fine-tune (or @model).");
        s.field("data", &SftOptions::data, "Training JSONL (or an @artifact).");
        s.field("eval_data", &SftOptions::eval_data, "Held-out JSONL for the evaluation loss; \"\" = split off eval_fraction.");
        s.field("eval_fraction", &SftOptions::eval_fraction,
                "Share of the training records held out when eval_data is \"\": a record is held out when a hash of its "
                "content falls below this, so the split stays put when records are added, removed or reordered.")
            .min(0)
            .max(0.5);
        s.field("eval_max_examples", &SftOptions::eval_max_examples, "Held-out examples used for the evaluation loss.").min(1);
        s.field("prompt_field", &SftOptions::prompt_field, "Field holding the prompt text.");
        s.field("completion_field", &SftOptions::completion_field, "Field holding the target completion text.");
        s.field("messages_field", &SftOptions::messages_field,
                "Field holding chat messages ({role, content}); used instead of prompt/completion when present.");
        s.field("prompt_template", &SftOptions::prompt_template, "How a prompt is shown; {prompt} is replaced.");
        s.field("chat_template", &SftOptions::chat_template,
                "\"\" = raw text, \"auto\" = the checkpoint's template, or chatml, qwen3, llama3, plain.");
        s.field("max_length", &SftOptions::max_length, "Longest example in tokens (prompt + completion).").min(8);
        s.field("overlong", &SftOptions::overlong, "What to do with longer examples.").choices({"truncate", "drop"});
        s.field("skip_invalid", &SftOptions::skip_invalid, "Skip and count malformed records instead of failing.");
        s.field("seed", &SftOptions::seed, "Shuffling seed, added to run.seed.").min(0);
        s.field("packing", &SftOptions::packing,
                "Pack each micro-batch's examples into rows of max_length tokens (attention stays within each example) "
                "instead of padding every example to the longest.");
        s.field("goldfish_k", &SftOptions::goldfish_k,
                "Goldfish loss (Hans et al. 2024): drop about 1 in k target tokens, chosen by a hash of their context; "
                "0 = off.")
            .min(0);
        s.field("goldfish_context", &SftOptions::goldfish_context, "Tokens of context hashed by the Goldfish rule.").min(1);
        s.include(&SftOptions::training, TrainingOptions::section());
        s.check([](const SftOptions& o, const config::Reporter& report) {
            if (o.prompt_template.find("{prompt}") == std::string::npos) report("prompt_template", "must contain {prompt}");
            if (o.goldfish_k == 1) report("goldfish_k", "must be 0 (off) or at least 2");
        });
        return s;
    }();
    return s;
}

namespace {

struct Example {
    std::vector<int64_t> prompt, completion;
    uint64_t content_hash = 0;  // of the JSON record (keys sorted), for the held-out split
};

struct Dataset {
    std::vector<Example> examples;
    size_t truncated = 0, dropped = 0;
};

Dataset load_examples(const std::string& path, const SftOptions& o, const TextGenerator& text) {
    Dataset d;
    const Tokenizer& tok = text.tokenizer();
    const auto& eos = tok.special_ids().eos;
    for_each_jsonl(path, o.skip_invalid, [&](const nlohmann::json& r, size_t) {
        std::string completion;
        Example e;
        if (r.contains(o.messages_field)) {
            const auto& messages = r.at(o.messages_field);
            if (!messages.is_array() || messages.empty() || messages.back().value("role", "") != "assistant")
                throw Error(str("'", o.messages_field, "' must be a list of messages ending with an assistant turn"));
            std::vector<ChatMessage> history;
            for (size_t i = 0; i + 1 < messages.size(); ++i)
                history.push_back({messages[i].at("role").get<std::string>(), messages[i].at("content").get<std::string>(), std::nullopt});
            ANVIL_CHECK(text.chat_template(), "chat messages need chat_template (\"auto\" or a name)");
            e.prompt = text.encode_conversation(history);  // rendered once, with every earlier turn
            completion = messages.back().at("content").get<std::string>();
        } else {
            auto p = r.find(o.prompt_field), c = r.find(o.completion_field);
            if (p == r.end() || !p->is_string()) throw Error(str("missing string field '", o.prompt_field, "'"));
            if (c == r.end() || !c->is_string()) throw Error(str("missing string field '", o.completion_field, "'"));
            std::string prompt = o.prompt_template;
            prompt.replace(prompt.find("{prompt}"), 8, p->get<std::string>());
            e.prompt = std::move(text.encode_prompts({prompt}).front());
            completion = c->get<std::string>();
        }
        e.content_hash = fnv1a(r.dump());
        for (int32_t id : tok.encode(completion, false)) e.completion.push_back(id);
        if (!eos.empty()) e.completion.push_back(eos.front());
        const int64_t length = static_cast<int64_t>(e.prompt.size() + e.completion.size());
        if (length > o.max_length) {
            if (o.overlong == "drop" || static_cast<int64_t>(e.prompt.size()) >= o.max_length) {
                ++d.dropped;
                return;
            }
            e.completion.resize(static_cast<size_t>(o.max_length) - e.prompt.size());
            ++d.truncated;
        }
        d.examples.push_back(std::move(e));
    });
    return d;
}

// Mean negative log-likelihood over the completion tokens of `examples` (minus Goldfish-dropped ones when
// goldfish_k > 0), padded one example per row, or packed into rows of pack_tokens when that is > 0 (the same
// loss up to float rounding: packed examples cannot attend to each other).
std::pair<at::Tensor, int64_t> completion_nll(TransformerImpl& model, const std::vector<const Example*>& examples, int64_t pad,
                                              int64_t pack_tokens = 0, int64_t goldfish_k = 0, int64_t goldfish_context = 0) {
    std::vector<std::vector<int64_t>> prompts, completions;
    for (const Example* e : examples) {
        prompts.push_back(e->prompt);
        completions.push_back(e->completion);
    }
    at::Tensor input_ids, base_targets;
    ForwardArgs args;
    if (pack_tokens > 0) {
        PackedCompletionBatch b = make_packed_completion_batch(prompts, completions, pack_tokens, pad, model.device());
        input_ids = b.input_ids;
        base_targets = b.targets;
        args.attention_mask = b.attention_mask;
        args.document_ids = b.document_ids;
    } else {
        CompletionBatch b = make_completion_batch(prompts, completions, pad, model.device());
        input_ids = b.input_ids;
        base_targets = b.targets;
        args.attention_mask = b.attention_mask;
    }
    at::Tensor hidden = model.forward(input_ids, args);
    at::Tensor targets = goldfish_k > 0 ? goldfish_targets(input_ids, base_targets, goldfish_k, goldfish_context) : base_targets;
    at::Tensor logp = model.token_logprobs(hidden, targets);
    const int64_t tokens = (targets >= 0).sum().item<int64_t>();
    return {-logp.sum() / std::max<int64_t>(1, tokens), tokens};
}

}  // namespace

void run_sft_stage(const SftOptions& options, RunContext& ctx) {
    SftOptions o = options;
    const uint64_t seed = static_cast<uint64_t>(o.seed + ctx.experiment().run.seed);
    DistributedWorld& world = ctx.world();
    const int rank = world.rank(), ranks = world.world_size();
    const std::string model_dir = ctx.resolve(o.model, "model");
    TextGenerator text = TextGenerator::load(model_dir, at::kFloat, o.chat_template);
    TransformerImpl& model = text.model();
    model.to(world.device());
    model.train();
    const int64_t pad = text.tokenizer().special_ids().pad.value_or(text.tokenizer().special_ids().eos.empty() ? 0 : text.tokenizer().special_ids().eos.front());

    Dataset train = load_examples(ctx.resolve(o.data, "data"), o, text);
    Dataset held_out;
    if (!o.eval_data.empty()) {
        held_out = load_examples(ctx.resolve(o.eval_data, "eval_data"), o, text);
    } else if (o.eval_fraction > 0) {
        // The top 53 bits of the content hash as a uniform number in [0, 1), compared with the fraction.
        auto held = [&](const Example& e) { return static_cast<double>(e.content_hash >> 11) * 0x1p-53 < o.eval_fraction; };
        std::vector<Example> kept;
        for (auto& e : train.examples) (held(e) ? held_out.examples : kept).push_back(std::move(e));
        train.examples = std::move(kept);
    }
    if (held_out.examples.size() > static_cast<size_t>(o.eval_max_examples)) held_out.examples.resize(static_cast<size_t>(o.eval_max_examples));
    ANVIL_CHECK(!train.examples.empty(), "stage '", ctx.stage_name(), "': no training examples");
    log::info("SFT on ", train.examples.size(), " examples (", train.truncated, " truncated, ", train.dropped, " dropped; ",
              held_out.examples.size(), " held out), ", ranks, " rank(s), global batch ",
              o.training.micro_batch_size * o.training.gradient_accumulation * ranks);

    // Example order: a permutation per epoch drawn from (seed, epoch), so step k always sees the same data.
    EpochShuffle order(static_cast<int64_t>(train.examples.size()), seed);
    auto next_examples = [&](int64_t step, int64_t micro) {
        std::vector<const Example*> batch;
        for (int64_t i : order.micro_batch(step, micro, o.training.gradient_accumulation, rank, ranks, o.training.micro_batch_size))
            batch.push_back(&train.examples[static_cast<size_t>(i)]);
        return batch;
    };

    TrainingHooks hooks;
    hooks.micro_batch = [&](int64_t step, int64_t micro) {
        auto [loss, tokens] = completion_nll(model, next_examples(step, micro), pad, o.packing ? o.max_length : 0, o.goldfish_k,
                                             o.goldfish_context);
        return MicroBatchLoss{loss, tokens, {}};
    };
    if (!held_out.examples.empty()) {
        hooks.evaluate = [&]() -> Metrics {
            at::NoGradGuard no_grad;
            model.eval();
            double nll = 0;
            int64_t tokens = 0;
            for (size_t i = 0; i < held_out.examples.size(); i += 32) {
                std::vector<const Example*> batch;
                for (size_t j = i; j < std::min(held_out.examples.size(), i + 32); ++j) batch.push_back(&held_out.examples[j]);
                auto [loss, t] = completion_nll(model, batch, pad);
                nll += loss.item<double>() * static_cast<double>(t);
                tokens += t;
            }
            model.train();
            return {{"eval_loss", nll / static_cast<double>(std::max<int64_t>(1, tokens))}};
        };
    }
    SaveOptions save;
    save.tokenizer_source = model_dir;
    save.generation = text.checkpoint().generation;
    hooks.save_model = [&](const std::filesystem::path& dir) { save_checkpoint(model, dir, save); };
    hooks.load_model = [&](const std::filesystem::path& dir) { load_weights(model, dir); };

    std::vector<at::Tensor> params;
    for (auto& p : model.parameters()) params.push_back(p);
    TrainingLoop loop(ctx, o.training, params, &world);
    loop.run(hooks);
    const auto out = ctx.stage_dir() / "model";
    if (rank == 0) save_checkpoint(model, out, save);
    world.barrier();
    log::info("fine-tuned model saved to ", out.string());
    ctx.publish("model", out.string());
}

}  // namespace anvil
