// Stage kind "tokenizer": trains a SentencePiece tokenizer on text fields of JSONL files (e.g. the tasks an
// earlier stage generated) and writes it as a checkpoint-style tokenizer directory (tokenizer.model +
// tokenizer_config.json with bos/eos/pad), published as @tokenizer. For demo and test models; real runs use
// the tokenizer of their pretrained checkpoint.
#pragma once

#include <string>
#include <vector>

#include "core/config_schema.h"

namespace anvil {

class RunContext;

struct TokenizerStageOptions {
    std::vector<std::string> inputs = {"@train_tasks"};
    std::vector<std::string> fields = {"prompt", "solution"};
    int64_t vocab_size = 512;
    std::string model_type = "bpe";
    std::vector<std::string> special_tokens;

    static const config::Section<TokenizerStageOptions>& section();
};

void run_tokenizer_stage(const TokenizerStageOptions& options, RunContext& ctx);

}  // namespace anvil
