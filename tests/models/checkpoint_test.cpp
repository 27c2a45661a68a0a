// Unit tests for models/checkpoint.h: sharded and single-file layouts, errors naming missing and mis-shaped
// tensors, tokenizer files copied, and seeded random init (deterministic, HF-like statistics).
#include "models/checkpoint.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "models/safetensors.h"
#include "tests/models/model_test_util.h"
#include "tests/models/test_dir.h"

namespace anvil {
namespace fs = std::filesystem;
using testing_util::TempDir;
using testing_util::tiny_config;

namespace {

void expect_load_error(const fs::path& dir, std::initializer_list<std::string> fragments) {
    try {
        load_checkpoint(dir);
        FAIL() << "no error";
    } catch (const Error& e) {
        std::string msg = e.what();
        for (const auto& f : fragments) EXPECT_NE(msg.find(f), std::string::npos) << f << " not in: " << msg;
    }
}

}  // namespace

TEST(Checkpoint, ShardsWithIndexAndSingleFile) {
    TempDir dir("ckpt_shards");
    Transformer m = init_random_model(tiny_config("qwen3"), 11);
    SaveOptions opts;
    opts.max_shard_bytes = 20'000;
    save_checkpoint(*m, dir.path, opts);
    auto index = nlohmann::json::parse(read_file(dir.path / "model.safetensors.index.json"));
    int64_t total = 0;
    for (auto& [n, p] : m->hf_parameters()) total += p.nbytes();
    EXPECT_EQ(index["metadata"]["total_size"], total);
    EXPECT_GT(index["weight_map"].size(), 0u);
    std::set<std::string> shards;
    for (auto& [name, file] : index["weight_map"].items()) shards.insert(file.get<std::string>());
    EXPECT_GT(shards.size(), 1u);
    for (const auto& s : shards) EXPECT_TRUE(fs::exists(dir.path / s)) << s;
    EXPECT_FALSE(fs::exists(dir.path / "model.safetensors"));

    // Re-saving unsharded removes the shards and the index.
    save_checkpoint(*m, dir.path);
    EXPECT_TRUE(fs::exists(dir.path / "model.safetensors"));
    EXPECT_FALSE(fs::exists(dir.path / "model.safetensors.index.json"));
    for (const auto& s : shards) EXPECT_FALSE(fs::exists(dir.path / s)) << s;
    Checkpoint back = load_checkpoint(dir.path, at::kBFloat16);
    EXPECT_EQ(back.model->dtype(), at::kBFloat16);
    EXPECT_EQ(back.generation.eos_token_ids, std::vector<int64_t>{2});
}

TEST(Checkpoint, MissingAndMisShapedTensorsAreNamed) {
    TempDir dir("ckpt_bad");
    Transformer m = init_random_model(tiny_config("llama"), 1);
    save_checkpoint(*m, dir.path);
    auto params = m->hf_parameters();
    std::vector<std::pair<std::string, at::Tensor>> kept;
    for (auto& [n, p] : params)
        if (n != "model.layers.1.mlp.up_proj.weight") kept.emplace_back(n, p);
    safetensors::write(dir.path / "model.safetensors", kept);
    expect_load_error(dir.path, {"model.layers.1.mlp.up_proj.weight", "missing"});

    for (auto& [n, p] : kept)
        if (n == "model.norm.weight") p = at::ones({5});
    kept.emplace_back("model.layers.1.mlp.up_proj.weight", at::zeros({48, 32}));
    safetensors::write(dir.path / "model.safetensors", kept);
    expect_load_error(dir.path, {"model.safetensors", "'model.norm.weight'", "[5]", "[32]"});

    fs::remove(dir.path / "model.safetensors");
    expect_load_error(dir.path, {dir.path.string(), "model.safetensors"});
}

TEST(Checkpoint, CopiesTokenizerFiles) {
    TempDir src("ckpt_tok_src"), dst("ckpt_tok_dst");
    write_file_atomic(src.path / "tokenizer.json", "{\"model\": {}}");
    write_file_atomic(src.path / "chat_template.jinja", "{{ messages }}");
    Transformer m = init_random_model(tiny_config("qwen2"), 1);
    SaveOptions opts;
    opts.tokenizer_source = src.path;
    save_checkpoint(*m, dst.path, opts);
    EXPECT_EQ(read_file(dst.path / "tokenizer.json"), "{\"model\": {}}");
    EXPECT_EQ(read_file(dst.path / "chat_template.jinja"), "{{ messages }}");
    EXPECT_FALSE(fs::exists(dst.path / "vocab.json"));
    EXPECT_TRUE(fs::exists(dst.path / "generation_config.json"));
}

TEST(Checkpoint, RandomInitIsSeededAndHFLike) {
    ModelConfig c = tiny_config("qwen2");
    c.initializer_range = 0.05;
    Transformer a = init_random_model(c, 42), b = init_random_model(c, 42), d = init_random_model(c, 43);
    auto pa = a->hf_parameters(), pb = b->hf_parameters(), pd = d->hf_parameters();
    bool any_diff = false;
    for (size_t i = 0; i < pa.size(); ++i) {
        EXPECT_TRUE(at::equal(pa[i].second, pb[i].second)) << pa[i].first;
        any_diff |= !at::equal(pa[i].second, pd[i].second);
        const std::string& name = pa[i].first;
        if (name.ends_with("norm.weight")) {
            EXPECT_TRUE(at::equal(pa[i].second, at::ones_like(pa[i].second))) << name;
        }
        if (name.ends_with(".bias")) {
            EXPECT_TRUE(at::equal(pa[i].second, at::zeros_like(pa[i].second))) << name;
        }
    }
    EXPECT_TRUE(any_diff);
    at::Tensor embed = a->hf_parameters()[0].second;
    ASSERT_EQ(a->hf_parameters()[0].first, "model.embed_tokens.weight");
    EXPECT_TRUE(at::equal(embed[0], at::zeros_like(embed[0])));  // pad_token_id = 0
    EXPECT_NEAR(embed.narrow(0, 1, 96).std().item<double>(), 0.05, 0.005);
}

}  // namespace anvil
