// Reward models that answer, for each (prompt, response) sequence, a [reward, lower, upper] triple — the one
// interface selectors and metrics use (reward-uq.md §2). A transformer backbone (any checkpoint models/checkpoint.h
// loads) gives the feature φ(x, y): its final hidden state at the last non-pad token. On it sit K heads,
// evaluated together as batched matmuls (active-preferences.md §9):
//   - layers = 0: a linear head Linear(d → 1, no bias) per member (K = 1: the plain Bradley–Terry reward model);
//   - layers = L > 0: ENS-MLP (reward-uq.md §3.1) Linear(d → h), ReLU, (Linear(h → h), ReLU) × (L − 1),
//     Linear(h → 1, no bias); Xavier-uniform weights, zero biases.
// reward = mean_k h_k, bounds = mean ∓ β·std_k h_k (unbiased std; 0 for K = 1). Each head keeps its initial
// weights θ_k⁰ as anchors for the ensemble's regulariser (algorithms/bradley_terry.h) and saves them with it.
// On disk a reward model is the backbone's HF checkpoint directory plus reward_head.safetensors (weights and
// anchors) and reward_head.json (K, width, layers, β). Losses and training live in algorithms/.
#pragma once

#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <filesystem>
#include <string>
#include <vector>

#include "models/checkpoint.h"

namespace anvil {

struct RewardHeadConfig {
    int64_t heads = 1;    // K
    int64_t hidden = 128;  // width of the hidden layers
    int64_t layers = 0;   // hidden layers per head; 0 = linear
    double beta = 1.0;    // bounds = mean ∓ beta·std
};

class RewardHeadsImpl : public torch::nn::Module {
public:
    // Heads on `input`-wide features, initialised from `seed` (independent of device), anchors = the initial weights.
    RewardHeadsImpl(int64_t input, RewardHeadConfig config, uint64_t seed);

    // features [B, d] -> per-head rewards [B, K].
    at::Tensor forward(const at::Tensor& features);
    const RewardHeadConfig& config() const { return config_; }
    int64_t input_size() const { return input_; }
    // Weights and their anchors, in the same order; dim 0 of each is the K heads.
    const std::vector<at::Tensor>& weights() const { return weights_; }
    const std::vector<at::Tensor>& anchors() const { return anchors_; }
    std::vector<std::string> weight_names() const;

private:
    RewardHeadConfig config_;
    int64_t input_;
    std::vector<at::Tensor> weights_;  // w0 [K, d, h], b0 [K, h], ..., out [K, h, 1]
    std::vector<at::Tensor> anchors_;
};
TORCH_MODULE(RewardHeads);

// [B, K] head rewards -> [B, 3] (mean, mean − β·std, mean + β·std).
at::Tensor reward_bounds(const at::Tensor& head_rewards, double beta);

// Final hidden state at each row's last real token: hidden [B, T, d], attention_mask [B, T] -> [B, d].
at::Tensor last_token_features(const at::Tensor& hidden, const at::Tensor& attention_mask);

class RewardModel {
public:
    // A new reward model on the backbone checkpoint `backbone_dir` with freshly initialised heads.
    static RewardModel create(const std::filesystem::path& backbone_dir, const RewardHeadConfig& config, uint64_t seed);
    // A saved one (see save).
    static RewardModel load(const std::filesystem::path& dir);
    // Writes the backbone as an HF directory (tokenizer files from options.tokenizer_source) plus the head files.
    void save(const std::filesystem::path& dir, const SaveOptions& options) const;
    // Loads weights saved by save() into this model (same shapes).
    void load_weights(const std::filesystem::path& dir);

    // φ(x, y) for right- or left-padded token ids [B, T] -> [B, d].
    at::Tensor features(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
    // The reward-model interface: [B, 3] (reward, lower, upper).
    at::Tensor score(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;

    TransformerImpl& backbone() const { return *checkpoint_.model.ptr(); }
    RewardHeadsImpl& heads() const { return *heads_.ptr(); }
    const Checkpoint& checkpoint() const { return checkpoint_; }

private:
    void load_head(const std::filesystem::path& dir);

    Checkpoint checkpoint_;
    RewardHeads heads_{nullptr};
};

}  // namespace anvil
