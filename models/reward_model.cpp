// Implementation of models/reward_model.h.
#include "models/reward_model.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "models/safetensors.h"

namespace anvil {
namespace fs = std::filesystem;

namespace {

const char* kHeadWeights = "reward_head.safetensors";
const char* kHeadConfig = "reward_head.json";

}  // namespace

RewardHeadsImpl::RewardHeadsImpl(int64_t input, RewardHeadConfig config, uint64_t seed) : config_(config), input_(input) {
    ANVIL_CHECK(config.heads >= 1 && config.layers >= 0 && (config.layers == 0 || config.hidden >= 1) && input >= 1,
                "reward heads: need heads >= 1, layers >= 0, hidden >= 1 (got ", config.heads, ", ", config.layers, ", ",
                config.hidden, ")");
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    // Xavier-uniform matrices [K, in, out] and zero biases [K, out], layer by layer.
    std::vector<std::pair<int64_t, int64_t>> shapes;
    int64_t width = input;
    for (int64_t l = 0; l < config.layers; ++l) {
        shapes.emplace_back(width, config.hidden);
        width = config.hidden;
    }
    shapes.emplace_back(width, 1);
    for (size_t l = 0; l < shapes.size(); ++l) {
        const auto [in, out] = shapes[l];
        const double bound = std::sqrt(6.0 / static_cast<double>(in + out));
        at::Tensor w = at::rand({config.heads, in, out}, gen, at::kFloat) * (2 * bound) - bound;
        const bool last = l + 1 == shapes.size();
        const std::string name = last ? "out" : str("w", l);
        weights_.push_back(register_parameter(name, w));
        anchors_.push_back(register_buffer("anchor_" + name, w.clone()));
        if (!last) {
            weights_.push_back(register_parameter(str("b", l), at::zeros({config.heads, out}, at::kFloat)));
            anchors_.push_back(register_buffer(str("anchor_b", l), at::zeros({config.heads, out}, at::kFloat)));
        }
    }
}

std::vector<std::string> RewardHeadsImpl::weight_names() const {
    std::vector<std::string> names;
    for (int64_t l = 0; l < config_.layers; ++l) {
        names.push_back(str("w", l));
        names.push_back(str("b", l));
    }
    names.push_back("out");
    return names;
}

at::Tensor RewardHeadsImpl::forward(const at::Tensor& features) {
    ANVIL_CHECK(features.dim() == 2 && features.size(1) == input_, "reward heads: features ", features.sizes(),
                " must be [B, ", input_, "]");
    const int64_t k = config_.heads;
    at::Tensor x = features.to(weights_[0].scalar_type()).unsqueeze(0).expand({k, features.size(0), input_});
    for (int64_t l = 0; l < config_.layers; ++l)
        x = at::relu(at::bmm(x, weights_[2 * l]) + weights_[2 * l + 1].unsqueeze(1));
    return at::bmm(x, weights_.back()).squeeze(-1).t();  // [K, B, 1] -> [B, K]
}

at::Tensor reward_bounds(const at::Tensor& head_rewards, double beta) {
    ANVIL_CHECK(head_rewards.dim() == 2, "reward_bounds: head rewards ", head_rewards.sizes(), " must be [B, K]");
    at::Tensor mean = head_rewards.mean(1);
    at::Tensor spread = head_rewards.size(1) > 1 ? beta * head_rewards.std(1, /*unbiased=*/true) : at::zeros_like(mean);
    return at::stack({mean, mean - spread, mean + spread}, 1);
}

at::Tensor last_token_features(const at::Tensor& hidden, const at::Tensor& attention_mask) {
    ANVIL_CHECK(hidden.dim() == 3 && attention_mask.sizes() == hidden.sizes().slice(0, 2), "last_token_features: hidden ",
                hidden.sizes(), " and mask ", attention_mask.sizes(), " do not match");
    at::Tensor positions = at::arange(hidden.size(1), attention_mask.options().dtype(at::kLong));
    at::Tensor last = (attention_mask.to(at::kLong) * positions).argmax(1);
    return hidden.index({at::arange(hidden.size(0), last.options()), last});
}

RewardModel RewardModel::create(const fs::path& backbone_dir, const RewardHeadConfig& config, uint64_t seed) {
    RewardModel m;
    m.checkpoint_ = load_checkpoint(backbone_dir, at::kFloat);
    m.heads_ = RewardHeads(m.checkpoint_.config.hidden_size, config, seed);
    return m;
}

RewardModel RewardModel::load(const fs::path& dir) {
    nlohmann::json j;
    const fs::path config_file = dir / kHeadConfig;
    try {
        j = nlohmann::json::parse(read_file(config_file));
    } catch (const nlohmann::json::exception& e) {
        throw Error(str(config_file.string(), ": not a reward-head config (", e.what(), ")"));
    }
    RewardHeadConfig config;
    try {
        config.heads = j.at("heads").get<int64_t>();
        config.hidden = j.at("hidden").get<int64_t>();
        config.layers = j.at("layers").get<int64_t>();
        config.beta = j.at("beta").get<double>();
    } catch (const nlohmann::json::exception& e) {
        throw Error(str(config_file.string(), ": ", e.what()));
    }
    RewardModel m = create(dir, config, 0);
    m.load_head(dir);
    return m;
}

void RewardModel::save(const fs::path& dir, const SaveOptions& options) const {
    save_checkpoint(backbone(), dir, options);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    const auto names = heads().weight_names();
    for (size_t i = 0; i < names.size(); ++i) {
        tensors.emplace_back(names[i], heads().weights()[i].detach());
        tensors.emplace_back("anchor." + names[i], heads().anchors()[i]);
    }
    safetensors::write(dir / kHeadWeights, tensors);
    const RewardHeadConfig& c = heads().config();
    nlohmann::ordered_json j = {{"heads", c.heads}, {"hidden", c.hidden}, {"layers", c.layers}, {"beta", c.beta},
                                {"input_size", heads().input_size()}, {"feature", "last_token_hidden_state"}};
    write_file_atomic(dir / kHeadConfig, j.dump(2) + "\n");
}

void RewardModel::load_weights(const fs::path& dir) {
    anvil::load_weights(backbone(), dir);
    load_head(dir);
}

void RewardModel::load_head(const fs::path& dir) {
    safetensors::Reader reader(dir / kHeadWeights);
    at::NoGradGuard no_grad;
    const auto names = heads().weight_names();
    for (size_t i = 0; i < names.size(); ++i) {
        for (const auto& [name, target] : {std::pair{names[i], heads().weights()[i]}, std::pair{"anchor." + names[i], heads().anchors()[i]}}) {
            at::Tensor t = reader.tensor(name);
            ANVIL_CHECK(t.sizes() == target.sizes(), reader.path().string(), ": tensor '", name, "' has shape ", t.sizes(),
                        ", the head expects ", target.sizes());
            target.copy_(t);
        }
    }
}

at::Tensor RewardModel::features(const at::Tensor& input_ids, const at::Tensor& attention_mask) const {
    ForwardArgs args;
    args.attention_mask = attention_mask;
    return last_token_features(backbone().forward(input_ids, args), attention_mask);
}

at::Tensor RewardModel::score(const at::Tensor& input_ids, const at::Tensor& attention_mask) const {
    return reward_bounds(heads().forward(features(input_ids, attention_mask)), heads().config().beta);
}

}  // namespace anvil
