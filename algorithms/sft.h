// Stage kind "sft": supervised fine-tuning on prompt/completion pairs with the loss on completion tokens only
// (the mean negative log-likelihood over the micro-batch's completion tokens), data parallel through the
// training loop (trainer/training_loop.h), with a held-out loss on eval_data or on the records whose content
// hash falls below eval_fraction. Records are JSONL with a prompt and a completion field (names configurable)
// or with chat `messages` (every turn but the last assistant turn is the prompt, rendered through the chat
// template). Examples are padded per micro-batch or packed into rows (models/batching.h).
// The data order is a seeded permutation per epoch, a function of the step, so resumed runs see the same data.
#pragma once

#include <string>

#include "core/config_schema.h"
#include "trainer/training_options.h"

namespace anvil {

class RunContext;

struct SftOptions {
    std::string model = "@model";
    std::string data = "@train_tasks";
    std::string eval_data = "";
    double eval_fraction = 0.0;
    int64_t eval_max_examples = 512;
    std::string prompt_field = "prompt";
    std::string completion_field = "completion";
    std::string messages_field = "messages";
    std::string prompt_template = "{prompt}";
    std::string chat_template = "";
    int64_t max_length = 512;
    std::string overlong = "truncate";
    bool skip_invalid = false;
    int64_t seed = 0;
    bool packing = false;
    int64_t goldfish_k = 0;
    int64_t goldfish_context = 13;
    TrainingOptions training;

    static const config::Section<SftOptions>& section();
};

void run_sft_stage(const SftOptions& options, RunContext& ctx);

}  // namespace anvil
