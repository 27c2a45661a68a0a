// Implementation of algorithms/model_init_stage.h.
#include "algorithms/model_init_stage.h"

#include <filesystem>

#include "core/log.h"
#include "models/checkpoint.h"
#include "models/tokenizer.h"
#include "trainer/run_context.h"

namespace anvil {

const config::Section<ModelInitOptions>& ModelInitOptions::section() {
    static const config::Section<ModelInitOptions> s = [] {
        config::Section<ModelInitOptions> s("model_init", "A random model.");
        s.field("tokenizer", &ModelInitOptions::tokenizer, "Tokenizer directory (or @tokenizer) fixing the vocabulary.");
        s.field("model_type", &ModelInitOptions::model_type, "Architecture family.")
            .choices({"llama", "qwen2", "qwen3", "mistral"});
        s.field("hidden_size", &ModelInitOptions::hidden_size, "Width of the residual stream.").min(8);
        s.field("intermediate_size", &ModelInitOptions::intermediate_size, "Width of the MLP.").min(8);
        s.field("num_hidden_layers", &ModelInitOptions::num_hidden_layers, "Decoder layers.").min(1);
        s.field("num_attention_heads", &ModelInitOptions::num_attention_heads, "Query heads.").min(1);
        s.field("num_key_value_heads", &ModelInitOptions::num_key_value_heads, "Key/value heads (GQA); divides the query heads.").min(1);
        s.field("head_dim", &ModelInitOptions::head_dim, "Per-head width; 0 = hidden_size / num_attention_heads.").min(0);
        s.field("max_position_embeddings", &ModelInitOptions::max_position_embeddings, "Longest sequence.").min(16);
        s.field("rope_theta", &ModelInitOptions::rope_theta, "RoPE base.").min(1);
        s.field("tie_word_embeddings", &ModelInitOptions::tie_word_embeddings, "Share the input embedding and the LM head.");
        s.field("initializer_range", &ModelInitOptions::initializer_range, "Std of the normal initialisation.").min(0);
        s.field("seed", &ModelInitOptions::seed, "Initialisation seed, added to run.seed.").min(0);
        s.check([](const ModelInitOptions& o, const config::Reporter& report) {
            if (o.num_attention_heads % o.num_key_value_heads != 0)
                report("num_key_value_heads", "must divide num_attention_heads");
            if (o.head_dim == 0 && o.hidden_size % o.num_attention_heads != 0)
                report("hidden_size", "must be a multiple of num_attention_heads when head_dim = 0");
        });
        return s;
    }();
    return s;
}

void run_model_init_stage(const ModelInitOptions& o, RunContext& ctx) {
    const std::filesystem::path tokenizer_dir = ctx.resolve(o.tokenizer, "tokenizer");
    auto tok = load_tokenizer(tokenizer_dir);
    ModelConfig config;
    config.model_type = o.model_type;
    config.vocab_size = static_cast<int64_t>(tok->vocab_size());
    config.hidden_size = o.hidden_size;
    config.intermediate_size = o.intermediate_size;
    config.num_hidden_layers = o.num_hidden_layers;
    config.num_attention_heads = o.num_attention_heads;
    config.num_key_value_heads = o.num_key_value_heads;
    config.head_dim = o.head_dim > 0 ? o.head_dim : o.hidden_size / o.num_attention_heads;
    config.max_position_embeddings = o.max_position_embeddings;
    config.rope_theta = o.rope_theta;
    config.tie_word_embeddings = o.tie_word_embeddings;
    config.initializer_range = o.initializer_range;
    config.qkv_bias = o.model_type == "qwen2";
    config.qk_norm = o.model_type == "qwen3";
    const auto& special = tok->special_ids();
    config.bos_token_id = special.bos;
    config.pad_token_id = special.pad;
    config.eos_token_ids.assign(special.eos.begin(), special.eos.end());
    config.validate("stage '" + ctx.stage_name() + "'");
    Transformer model = init_random_model(config, static_cast<uint64_t>(o.seed + ctx.experiment().run.seed));
    int64_t parameters = 0;
    for (const auto& p : model->parameters()) parameters += p.numel();
    const auto dir = ctx.stage_dir() / "model";
    SaveOptions save;
    save.tokenizer_source = tokenizer_dir;
    save_checkpoint(*model, dir, save);
    log::info("initialised a ", o.model_type, " model with ", parameters, " parameters (", o.num_hidden_layers, " layers, width ",
              o.hidden_size, ", vocabulary ", config.vocab_size, ") in ", dir.string());
    ctx.publish("model", dir.string());
}

}  // namespace anvil
