// The start that the integration tests' experiments share: quiet logging, 400 generated arithmetic tasks
// (40 held out), a SentencePiece tokenizer on them and a 2-layer, width-32 Qwen3-style model. A test writes
// its own [run] table, then this, then the stages it exercises (TOML lets [[stage]] entries follow).
#pragma once

#include <string>

namespace anvil::testing_support {

// `task_options`: extra lines for the arithmetic_tasks stage (e.g. "max_operand = 20\n").
inline std::string tiny_experiment(const std::string& task_options = "") {
    return R"([logging]
tensorboard = false
progress = "off"
[[stage]]
kind = "arithmetic_tasks"
train_count = 400
test_count = 40
max_terms = 2
)" + task_options +
           R"([[stage]]
kind = "tokenizer"
vocab_size = 320
[[stage]]
kind = "model_init"
hidden_size = 32
intermediate_size = 64
num_hidden_layers = 2
num_attention_heads = 2
num_key_value_heads = 1
)";
}

}  // namespace anvil::testing_support
