// Implementation of launch/model_commands.h: flag handling around models/text_generation.h and
// models/checkpoint.h.
#include "launch/model_commands.h"

#include <ATen/Parallel.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/jsonl.h"
#include "core/log.h"
#include "models/checkpoint.h"
#include "models/text_generation.h"

namespace anvil {

const cli::Command kGenerateCommand{
    "generate",
    "Generate completions for prompts with a checkpoint directory (HF layout).",
    {},
    {
        {"model", "DIR", "checkpoint directory (config.json, safetensors, tokenizer files)"},
        {"prompt", "TEXT", "a prompt", true},
        {"prompts", "FILE", "JSONL file whose records have a string field \"prompt\""},
        {"chat", "", "render each prompt as a user turn through the checkpoint's chat template"},
        {"chat-template", "NAME", "use this template instead of the checkpoint's (chatml, qwen3, llama3, plain)"},
        {"max-new-tokens", "N", "tokens to generate at most (default: generation_config.json, else 256)"},
        {"temperature", "T", "0 = greedy (default: generation_config.json)"},
        {"top-k", "K", "sample among the K most likely tokens (0 = off)"},
        {"top-p", "P", "nucleus sampling threshold (1 = off)"},
        {"min-p", "P", "drop tokens below P x the top probability (0 = off)"},
        {"num-samples", "N", "completions per prompt (default 1)"},
        {"stop", "TEXT", "stop a completion once it contains TEXT", true},
        {"seed", "N", "sampling seed (default 0)"},
        {"dtype", "TYPE", "float32 (default) or bfloat16"},
        {"threads", "N", "CPU threads (default: all cores)"},
        {"jsonl", "", "print one JSON object per completion instead of text"},
    },
    "Prompts are batched together; every EOS id of the tokenizer and generation_config.json stops a completion."};

const cli::Command kModelInitCommand{
    "model init",
    "Write a randomly initialised model (HF checkpoint directory) from a config.json, for tests and demos.",
    {},
    {
        {"config", "FILE", "HF config.json describing the architecture"},
        {"out", "DIR", "output directory"},
        {"tokenizer", "DIR", "copy this directory's tokenizer files into the checkpoint"},
        {"seed", "N", "initialisation seed (default 0)"},
        {"dtype", "TYPE", "float32 (default) or bfloat16"},
    },
    ""};

namespace {

at::ScalarType parse_dtype(const std::string& name) {
    if (name == "float32" || name == "fp32") return at::kFloat;
    if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
    throw UsageError(str("--dtype: '", name, "' is not float32 or bfloat16"));
}

}  // namespace

int generate_command(const cli::Args& args) {
    std::vector<std::string> prompts = args.all("prompt");
    if (args.has("prompts")) {
        for_each_jsonl(args.get("prompts"), false, [&](const nlohmann::json& record, size_t) {
            auto it = record.find("prompt");
            if (it == record.end() || !it->is_string()) throw Error("missing string field 'prompt'");
            prompts.push_back(it->get<std::string>());
        });
    }
    if (prompts.empty()) throw UsageError("anvil generate: give at least one --prompt or a --prompts file");
    if (args.has("threads")) at::set_num_threads(static_cast<int>(args.get_integer("threads", 1, 1)));
    std::string chat = args.has("chat-template") ? args.get("chat-template") : args.has("chat") ? "auto" : "";
    TextGenerator generator = TextGenerator::load(args.required("model"), parse_dtype(args.get("dtype", "float32")), chat);
    RolloutOptions options = generator.default_options();
    options.max_new_tokens = args.get_integer("max-new-tokens", options.max_new_tokens, 1);
    options.sampling.temperature = args.get_number("temperature", options.sampling.temperature);
    options.sampling.top_k = args.get_integer("top-k", options.sampling.top_k, 0);
    options.sampling.top_p = args.get_number("top-p", options.sampling.top_p);
    options.sampling.min_p = args.get_number("min-p", options.sampling.min_p);
    options.sampling.validate();
    options.seed = static_cast<uint64_t>(args.get_integer("seed", 0, 0));
    options.stop_strings = args.all("stop");
    const int64_t samples = args.get_integer("num-samples", 1, 1);
    std::vector<std::string> batch;
    for (const auto& p : prompts)
        for (int64_t s = 0; s < samples; ++s) batch.push_back(p);
    auto completions = generator.generate(batch, options);
    for (size_t i = 0; i < completions.size(); ++i) {
        const auto& c = completions[i];
        double logprob = 0;
        for (float l : c.completion.logprobs) logprob += l;
        if (args.has("jsonl")) {
            nlohmann::ordered_json j = {{"prompt", batch[i]}, {"sample", static_cast<int64_t>(i) % samples},
                                        {"completion", c.text}, {"tokens", c.completion.tokens.size()},
                                        {"finish_reason", finish_reason_name(c.completion.finish_reason)},
                                        {"logprob", logprob}};
            std::cout << j.dump() << "\n";
        } else {
            std::cout << "=== prompt " << i / static_cast<size_t>(samples) + 1 << ", sample " << i % static_cast<size_t>(samples) + 1
                      << " (" << c.completion.tokens.size() << " tokens, " << finish_reason_name(c.completion.finish_reason)
                      << ", log-prob " << logprob << ")\n"
                      << batch[i] << c.text << "\n";
        }
    }
    return 0;
}

int model_init_command(const cli::Args& args) {
    ModelConfig config = load_model_config(args.required("config"));
    at::ScalarType dtype = parse_dtype(args.get("dtype", "float32"));
    Transformer model = init_random_model(config, static_cast<uint64_t>(args.get_integer("seed", 0, 0)),
                                          at::TensorOptions().dtype(dtype));
    SaveOptions save;
    if (args.has("tokenizer")) save.tokenizer_source = args.get("tokenizer");
    save_checkpoint(*model, args.required("out"), save);
    int64_t parameters = 0;
    for (const auto& p : model->parameters()) parameters += p.numel();
    log::info("wrote a random ", config.model_type, " model with ", parameters, " parameters to ", args.get("out"));
    return 0;
}

}  // namespace anvil
