// Generation throughput of models/rollout.h: batched sampling with the KV cache, timed after a warm-up.
// Prints one line `anvil_generate tokens_per_s=... seconds=... tokens=...` (read by
// bench/generate_vs_hf.py, which runs transformers' generate on the same checkpoint and prints the ratio).
//
//   ./build/bin/bench_generate [--model DIR] [--batch 32] [--prompt 64] [--new 128] [--threads 2]
//                              [--device cpu|cuda] [--dtype float32|bfloat16] [--seed 0]
// Without --model it uses a random ~19M-parameter Qwen3-style model (bench/generate_vs_hf.py's config).
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/malloc_tuning.h"
#include "models/checkpoint.h"
#include "models/rollout.h"

namespace {

anvil::ModelConfig bench_config() {
    anvil::ModelConfig c;
    c.model_type = "qwen3";
    c.vocab_size = 32000;
    c.hidden_size = 256;
    c.intermediate_size = 768;
    c.num_hidden_layers = 14;
    c.num_attention_heads = 4;
    c.num_key_value_heads = 2;
    c.head_dim = 64;
    c.qk_norm = true;
    c.tie_word_embeddings = true;
    c.rope_theta = 1e6;
    return c;
}

int run(int argc, char** argv) {
    std::string model_dir, device = "cpu", dtype = "float32";
    int64_t batch = 32, prompt = 64, fresh = 128, threads = 2, seed = 0;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) throw anvil::UsageError("missing value after " + a);
        std::string v = argv[++i];
        if (a == "--model")
            model_dir = v;
        else if (a == "--batch")
            batch = std::stoll(v);
        else if (a == "--prompt")
            prompt = std::stoll(v);
        else if (a == "--new")
            fresh = std::stoll(v);
        else if (a == "--threads")
            threads = std::stoll(v);
        else if (a == "--device")
            device = v;
        else if (a == "--dtype")
            dtype = v;
        else if (a == "--seed")
            seed = std::stoll(v);
        else
            throw anvil::UsageError("unknown flag " + a);
    }
    at::set_num_threads(static_cast<int>(threads));
    at::TensorOptions options =
        at::TensorOptions().dtype(dtype == "bfloat16" ? at::kBFloat16 : at::kFloat).device(at::Device(device));
    anvil::Transformer model = model_dir.empty() ? anvil::init_random_model(bench_config(), 1, options)
                                                 : anvil::load_checkpoint(model_dir, options).model;
    int64_t params = 0;
    for (auto& [n, p] : model->hf_parameters()) params += p.numel();

    at::Generator gen = anvil::make_generator(at::kCPU, seed);
    at::Tensor ids = at::randint(0, model->config().vocab_size, {batch, prompt}, gen, at::kLong);
    std::vector<std::vector<int64_t>> prompts;
    for (int64_t b = 0; b < batch; ++b)
        prompts.emplace_back(ids[b].data_ptr<int64_t>(), ids[b].data_ptr<int64_t>() + prompt);

    anvil::RolloutOptions o;
    o.max_new_tokens = 8;
    o.seed = static_cast<uint64_t>(seed);
    o.sampling.temperature = 1.0;
    anvil::generate(*model, prompts, o);  // warm-up
    o.max_new_tokens = fresh;
    auto start = std::chrono::steady_clock::now();
    auto out = anvil::generate(*model, prompts, o);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int64_t tokens = 0;
    for (const auto& c : out) tokens += static_cast<int64_t>(c.tokens.size());
    std::printf(
        "anvil_generate tokens_per_s=%.1f seconds=%.3f tokens=%lld params=%lld batch=%lld prompt=%lld "
        "threads=%lld device=%s dtype=%s\n",
        tokens / seconds, seconds, static_cast<long long>(tokens), static_cast<long long>(params),
        static_cast<long long>(batch), static_cast<long long>(prompt), static_cast<long long>(threads), device.c_str(),
        dtype.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    anvil::keep_freed_memory_for_reuse();
    try {
        return run(argc, argv);
    } catch (const anvil::UsageError& e) {
        std::fprintf(stderr, "bench_generate: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_generate: %s\n", e.what());
        return 1;
    }
}
