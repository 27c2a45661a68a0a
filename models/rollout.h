// The rollout engine: batched autoregressive generation for prompts of different lengths, left-padded into
// one batch over a preallocated KV cache, with per-sequence stopping (every EOS id, stop strings, stop token
// sequences, max new tokens) and seeded sampling (models/sampling.h). Finished sequences are fed masked padding
// until at most half the batch still runs; then the batch (and the cache) is compacted to the running ones.
//
// Log-probs: for every generated token it records log pi(token | prefix) under the model's *unmodified*
// distribution, log_softmax(logits) at temperature 1 with no top-k / top-p / min-p filtering, in fp32 —
// the quantity a training forward computes with Transformer::token_logprobs (the tested invariant: the two
// agree within 1e-5 in fp32). It is not the log-prob under the filtered sampling distribution; an
// importance-sampling correction for that, if wanted, is the algorithm's business.
// Not here: tokenization, chat templates, rewards.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/sampling.h"
#include "models/transformer.h"

namespace anvil {

enum class FinishReason { eos, stop, length };
// "eos" | "stop" | "length" (the names OpenAI-style APIs use: eos and stop both read "stop" there).
const char* finish_reason_name(FinishReason reason);

struct RolloutOptions {
    int64_t max_new_tokens = 256;
    SamplingParams sampling;
    uint64_t seed = 0;
    // One seed per prompt: when set, prompt i's draws are counter_uniform(sequence_seeds[i], token index)
    // (models/sampling.h) instead of draws from the batch's generator, so a completion depends only on its
    // own seed and prompt, not on the batch it shares (what data-parallel RL needs to match one rank).
    std::vector<uint64_t> sequence_seeds;
    // Generation stops after any of these (the EOS token is kept in the completion).
    std::vector<int64_t> eos_token_ids;
    // Fed for padding and for sequences that have finished (always masked out); any id in the vocabulary.
    int64_t pad_token_id = 0;
    // Stop once a completion's text contains one of these. Needs `detokenize` (completion ids -> text); the
    // whole completion is detokenized after every token, so keep this for short completions or few strings.
    std::vector<std::string> stop_strings;
    std::function<std::string(const std::vector<int64_t>&)> detokenize;
    // Stop once a completion's ids end with one of these sequences (cheap; no detokenizer needed).
    std::vector<std::vector<int64_t>> stop_token_sequences;
};

struct Completion {
    std::vector<int64_t> tokens;  // generated ids, including the token that stopped it
    std::vector<float> logprobs;  // one per token: log pi(token) at temperature 1, unfiltered (see above)
    FinishReason finish_reason = FinishReason::length;
};

// Generates a completion for every prompt (each non-empty, ids in the vocabulary) in one batch on the
// model's device. Same model, prompts, options and seed => the same completions.
std::vector<Completion> generate(TransformerImpl& model, const std::vector<std::vector<int64_t>>& prompts,
                                 const RolloutOptions& options);

}  // namespace anvil
