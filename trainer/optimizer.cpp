// Implementation of trainer/optimizer.h.
#include "trainer/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "trainer/distributed.h"

namespace anvil {
namespace {

// Sum across ranks of `tensors`, in flat buckets of at most `bucket_bytes` per dtype.
void all_reduce_in_buckets(DistributedWorld& world, const std::vector<at::Tensor>& tensors, int64_t bucket_bytes) {
    size_t i = 0;
    while (i < tensors.size()) {
        std::vector<at::Tensor> bucket;
        int64_t bytes = 0;
        const auto dtype = tensors[i].scalar_type();
        while (i < tensors.size() && tensors[i].scalar_type() == dtype &&
               (bucket.empty() || bytes + tensors[i].nbytes() <= static_cast<size_t>(bucket_bytes))) {
            bytes += static_cast<int64_t>(tensors[i].nbytes());
            bucket.push_back(tensors[i++]);
        }
        std::vector<at::Tensor> flats;
        for (const auto& t : bucket) flats.push_back(t.reshape({-1}));
        std::vector<at::Tensor> flat = {at::cat(flats)};
        world.all_reduce_sum(flat);
        int64_t offset = 0;
        for (auto& t : bucket) {
            t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
            offset += t.numel();
        }
    }
}

}  // namespace

AdamW::AdamW(std::vector<at::Tensor> params, AdamWOptions options, DistributedWorld* world)
    : params_(std::move(params)), options_(options), world_(world), owner_(params_.size(), -1) {
    const int ranks = world_ ? world_->world_size() : 1;
    if (options_.shard_state && ranks > 1) {
        // Balanced partition: largest parameters first, each to the rank holding the fewest elements so far.
        std::vector<size_t> order(params_.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return params_[a].numel() > params_[b].numel(); });
        std::vector<int64_t> load(ranks, 0);
        for (size_t i : order) {
            int r = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
            owner_[i] = r;
            load[r] += params_[i].numel();
        }
    }
    exp_avg_.resize(params_.size());
    exp_avg_sq_.resize(params_.size());
    for (size_t i = 0; i < params_.size(); ++i) {
        if (!owns(i)) continue;
        exp_avg_[i] = at::zeros_like(params_[i], at::MemoryFormat::Preserve);
        exp_avg_sq_[i] = at::zeros_like(params_[i], at::MemoryFormat::Preserve);
    }
}

bool AdamW::owns(size_t i) const { return owner_[i] < 0 || (world_ && owner_[i] == world_->rank()); }

void AdamW::average_gradients() {
    if (!world_ || world_->world_size() == 1) return;
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> grads;
    for (auto& p : params_) {
        if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);  // every rank must reduce the same shapes
        grads.push_back(p.grad());
    }
    all_reduce_in_buckets(*world_, grads, options_.bucket_bytes);
    for (auto& g : grads) g.div_(world_->world_size());
}

double AdamW::clip_grad_norm(double max_norm) {
    at::NoGradGuard no_grad;
    double sum_squares = 0.0;
    for (const auto& p : params_)
        if (p.grad().defined()) sum_squares += p.grad().to(at::kDouble).pow(2).sum().item<double>();
    const double norm = std::sqrt(sum_squares);
    // torch.nn.utils.clip_grad_norm_: coefficient max_norm / (norm + 1e-6), never above 1.
    if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
        const double coef = max_norm / (norm + 1e-6);
        for (auto& p : params_)
            if (p.grad().defined()) p.grad().mul_(coef);
    }
    return norm;
}

void AdamW::step(double lr) {
    at::NoGradGuard no_grad;
    ++step_;
    const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
    const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
    for (size_t i = 0; i < params_.size(); ++i) {
        if (!owns(i) || !params_[i].grad().defined()) continue;
        auto& p = params_[i];
        const auto& g = p.grad();
        p.mul_(1.0 - lr * options_.weight_decay);
        exp_avg_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
        exp_avg_sq_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
        at::Tensor denom = (exp_avg_sq_[i].sqrt() / std::sqrt(bias2)).add_(options_.eps);
        p.addcdiv_(exp_avg_[i], denom, -lr / bias1);
    }
    if (options_.shard_state && world_ && world_->world_size() > 1) {
        // Each owner sends its updated parameters to everyone, one flat buffer per owner and dtype.
        for (int r = 0; r < world_->world_size(); ++r) {
            std::vector<at::Tensor> owned;
            for (size_t i = 0; i < params_.size(); ++i)
                if (owner_[i] == r) owned.push_back(params_[i]);
            if (owned.empty()) continue;
            std::vector<at::Tensor> flats;
            for (const auto& t : owned) flats.push_back(t.reshape({-1}).to(at::kFloat));
            std::vector<at::Tensor> flat = {at::cat(flats)};
            world_->broadcast(flat, r);
            int64_t offset = 0;
            for (auto& t : owned) {
                t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
                offset += t.numel();
            }
        }
    }
    zero_grad();
}

void AdamW::zero_grad() {
    for (auto& p : params_)
        if (p.grad().defined()) p.mutable_grad() = at::Tensor();
}

std::map<std::string, at::Tensor> AdamW::state_tensors() const {
    std::map<std::string, at::Tensor> state;
    for (size_t i = 0; i < params_.size(); ++i) {
        if (!owns(i)) continue;
        state[str("exp_avg.", i)] = exp_avg_[i];
        state[str("exp_avg_sq.", i)] = exp_avg_sq_[i];
    }
    return state;
}

void AdamW::load_state_tensors(const std::map<std::string, at::Tensor>& state, int64_t step) {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
        if (!owns(i)) continue;
        for (auto [name, target] : {std::pair{str("exp_avg.", i), &exp_avg_[i]}, std::pair{str("exp_avg_sq.", i), &exp_avg_sq_[i]}}) {
            auto it = state.find(name);
            if (it == state.end()) throw Error(str("optimizer state has no tensor '", name, "'"));
            if (!it->second.sizes().equals(target->sizes()))
                throw Error(str("optimizer state tensor '", name, "' has shape ", it->second.sizes(), ", expected ", target->sizes()));
            target->copy_(it->second);
        }
    }
    step_ = step;
}

}  // namespace anvil
