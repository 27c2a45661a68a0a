// Batched KV-cache generation with per-sequence stopping; see rollout.h.
#include "models/rollout.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>

#include "core/error.h"

namespace anvil {
namespace {

bool ends_with(const std::vector<int64_t>& tokens, const std::vector<int64_t>& suffix) {
    return !suffix.empty() && suffix.size() <= tokens.size() &&
           std::equal(suffix.rbegin(), suffix.rend(), tokens.rbegin());
}

// Whether `c` (just extended by one token) must stop, and why.
std::optional<FinishReason> stop_reason(const Completion& c, const RolloutOptions& o) {
    const int64_t last = c.tokens.back();
    if (std::find(o.eos_token_ids.begin(), o.eos_token_ids.end(), last) != o.eos_token_ids.end())
        return FinishReason::eos;
    for (const auto& seq : o.stop_token_sequences)
        if (ends_with(c.tokens, seq)) return FinishReason::stop;
    if (!o.stop_strings.empty()) {
        std::string text = o.detokenize(c.tokens);
        for (const auto& s : o.stop_strings)
            if (text.find(s) != std::string::npos) return FinishReason::stop;
    }
    if (static_cast<int64_t>(c.tokens.size()) >= o.max_new_tokens) return FinishReason::length;
    return std::nullopt;
}

}  // namespace

const char* finish_reason_name(FinishReason reason) {
    switch (reason) {
        case FinishReason::eos:
            return "eos";
        case FinishReason::stop:
            return "stop";
        case FinishReason::length:
            return "length";
    }
    return "unknown";
}

std::vector<Completion> generate(TransformerImpl& model, const std::vector<std::vector<int64_t>>& prompts,
                                 const RolloutOptions& options) {
    options.sampling.validate();
    if (options.max_new_tokens <= 0)
        throw UsageError(str("max_new_tokens must be positive, got ", options.max_new_tokens));
    if (!options.stop_strings.empty() && !options.detokenize)
        throw UsageError("stop strings need a detokenize callback");
    const int64_t vocab = model.config().vocab_size;
    ANVIL_CHECK(options.pad_token_id >= 0 && options.pad_token_id < vocab, "generate: pad_token_id ",
                options.pad_token_id, " is outside the vocabulary");
    const int64_t batch = static_cast<int64_t>(prompts.size());
    ANVIL_CHECK(options.sequence_seeds.empty() || options.sequence_seeds.size() == prompts.size(), "generate: ",
                options.sequence_seeds.size(), " sequence seeds for ", prompts.size(), " prompts");
    if (batch == 0) return {};
    int64_t prompt_len = 0;
    for (size_t i = 0; i < prompts.size(); ++i) {
        ANVIL_CHECK(!prompts[i].empty(), "generate: prompt ", i, " is empty");
        prompt_len = std::max<int64_t>(prompt_len, static_cast<int64_t>(prompts[i].size()));
    }

    // Left-padded prompt batch, built on the CPU and moved once.
    at::Tensor ids = at::full({batch, prompt_len}, options.pad_token_id, at::kLong);
    at::Tensor mask = at::zeros({batch, prompt_len}, at::kLong);
    for (int64_t b = 0; b < batch; ++b) {
        const auto& p = prompts[b];
        const int64_t n = static_cast<int64_t>(p.size()), start = prompt_len - n;
        ids[b].narrow(0, start, n).copy_(at::tensor(at::IntArrayRef(p), at::kLong));
        mask[b].narrow(0, start, n).fill_(1);
    }
    const at::Device device = model.device();
    torch::NoGradGuard no_grad;
    KVCache cache = model.make_cache(batch, prompt_len + options.max_new_tokens);
    at::Generator gen = make_generator(device, options.seed);

    ForwardArgs args;
    args.cache = &cache;
    args.attention_mask = mask.to(device);
    at::Tensor last = model.forward(ids.to(device), args).select(1, prompt_len - 1);

    std::vector<Completion> out(batch);
    // rows[a] = the prompt that batch row a of the cache holds. Finished rows are fed masked padding until
    // at most half the rows still run; then the batch is compacted to the running rows.
    std::vector<int64_t> rows(batch);
    for (int64_t b = 0; b < batch; ++b) rows[b] = b;
    std::vector<bool> finished(batch, false);
    int64_t running = batch;
    for (int64_t step = 0; step < options.max_new_tokens && running > 0; ++step) {
        const int64_t active = static_cast<int64_t>(rows.size());
        at::Tensor logits = model.logits(last).to(at::kFloat);
        at::Tensor next;
        if (options.sequence_seeds.empty()) {
            next = sample_tokens(logits, options.sampling, gen);
        } else {
            std::vector<double> uniforms(static_cast<size_t>(active));
            for (int64_t a = 0; a < active; ++a)
                uniforms[static_cast<size_t>(a)] = counter_uniform(options.sequence_seeds[static_cast<size_t>(rows[a])], static_cast<uint64_t>(step));
            next = sample_tokens(logits, options.sampling, uniforms);
        }
        at::Tensor lp = at::log_softmax(logits, -1).gather(-1, next.unsqueeze(-1)).squeeze(-1);
        at::Tensor next_cpu = next.to(at::kCPU), lp_cpu = lp.to(at::kCPU);
        const int64_t* next_ptr = next_cpu.data_ptr<int64_t>();
        const float* lp_ptr = lp_cpu.data_ptr<float>();

        at::Tensor feed = at::full({active, 1}, options.pad_token_id, at::kLong);
        at::Tensor feed_mask = at::zeros({active, 1}, at::kLong);
        int64_t* feed_ptr = feed.data_ptr<int64_t>();
        int64_t* feed_mask_ptr = feed_mask.data_ptr<int64_t>();
        std::vector<int64_t> keep;  // active rows still running after this step
        for (int64_t a = 0; a < active; ++a) {
            Completion& c = out[rows[a]];
            if (finished[rows[a]]) continue;  // finished earlier, not yet compacted away
            c.tokens.push_back(next_ptr[a]);
            c.logprobs.push_back(lp_ptr[a]);
            if (auto reason = stop_reason(c, options)) {
                c.finish_reason = *reason;
                finished[rows[a]] = true;
                --running;
            } else {
                feed_ptr[a] = next_ptr[a];
                feed_mask_ptr[a] = 1;
                keep.push_back(a);
            }
        }
        if (running == 0) break;
        if (2 * running <= active) {
            at::Tensor idx = at::tensor(at::IntArrayRef(keep), at::kLong);
            at::Tensor idx_dev = idx.to(device);
            for (size_t l = 0; l < cache.keys.size(); ++l) {
                cache.keys[l] = cache.keys[l].index_select(0, idx_dev);
                cache.values[l] = cache.values[l].index_select(0, idx_dev);
            }
            cache.key_mask = cache.key_mask.index_select(0, idx_dev);
            cache.next_position = cache.next_position.index_select(0, idx_dev);
            feed = feed.index_select(0, idx);
            feed_mask = feed_mask.index_select(0, idx);
            std::vector<int64_t> kept_rows;
            for (int64_t a : keep) kept_rows.push_back(rows[a]);
            rows = std::move(kept_rows);
        }
        args.attention_mask = feed_mask.to(device);
        last = model.forward(feed.to(device), args).select(1, 0);
    }
    return out;
}

}  // namespace anvil
