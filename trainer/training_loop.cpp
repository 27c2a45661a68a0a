// Implementation of trainer/training_loop.h.
#include "trainer/training_loop.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/log.h"
#include "models/safetensors.h"
#include "trainer/checkpoints.h"
#include "trainer/device.h"
#include "trainer/distributed.h"
#include "trainer/lr_schedule.h"
#include "trainer/optimizer.h"
#include "trainer/run_context.h"

namespace anvil {
namespace fs = std::filesystem;

namespace {

std::string optimizer_file(int rank) { return str("optimizer-rank-", rank, ".safetensors"); }

// Fault injection for crash-recovery tests, on the first attempt only (TORCHELASTIC_RESTART_COUNT unset or 0):
//   ANVIL_FAULT_KILL_AFTER_STEP=<step>[:<rank>]         SIGKILL once step <step> is complete, as a crashed
//                                                      machine would;
//   ANVIL_FAULT_KILL_IN_CHECKPOINT_WRITE=<step>[:<rank>] SIGKILL while writing the checkpoint of step <step>,
//                                                      after the model and optimizer files, before the commit.
// Without a rank, any rank that reaches the point dies.
void maybe_inject_fault(const char* variable, int64_t step, int rank) {
    const char* spec = std::getenv(variable);
    if (!spec) return;
    const char* restarts = std::getenv("TORCHELASTIC_RESTART_COUNT");
    if (restarts && std::string(restarts) != "0") return;
    std::string text = spec;
    const auto colon = text.find(':');
    const int64_t at_step = std::atoll(text.substr(0, colon).c_str());
    const int at_rank = colon == std::string::npos ? rank : std::atoi(text.c_str() + colon + 1);
    if (step == at_step && rank == at_rank) {
        log::warn(variable, ": killing rank ", rank, " at step ", step);
        raise(SIGKILL);
    }
}

}  // namespace

TrainingLoop::TrainingLoop(RunContext& ctx, const TrainingOptions& options, std::vector<at::Tensor> parameters,
                           DistributedWorld* world)
    : ctx_(ctx), options_(options), parameters_(std::move(parameters)), world_(world) {}

Metrics TrainingLoop::average_across_ranks(const Metrics& metrics) {
    if (!world_ || world_->world_size() == 1 || metrics.empty()) return metrics;
    std::vector<double> values;
    for (const auto& [name, v] : metrics) values.push_back(v);
    std::vector<at::Tensor> t = {at::tensor(values, at::kDouble)};
    world_->all_reduce_sum(t);
    Metrics out;
    for (size_t i = 0; i < metrics.size(); ++i)
        out.emplace_back(metrics[i].first, t[0][static_cast<int64_t>(i)].item<double>() / world_->world_size());
    return out;
}

void TrainingLoop::run(const TrainingHooks& hooks) {
    const int rank = world_ ? world_->rank() : 0;
    const int ranks = world_ ? world_->world_size() : 1;
    AdamWOptions adam;
    adam.beta1 = options_.adam_beta1;
    adam.beta2 = options_.adam_beta2;
    adam.eps = options_.adam_eps;
    adam.weight_decay = options_.weight_decay;
    adam.shard_state = options_.zero1;
    AdamW optimizer(parameters_, adam, world_);
    optimizer_ = &optimizer;
    const LrSchedule schedule{options_.lr_schedule, options_.lr, options_.warmup_steps, options_.max_steps,
                              options_.min_lr_ratio};
    const c10::Device device = this->device();
    const std::optional<at::ScalarType> autocast = autocast_dtype(options_.autocast, device);
    auto evaluate = [&] {
        AutocastGuard guard(device, autocast);
        return hooks.evaluate();
    };
    const int64_t first_step = resume(hooks);
    if (hooks.evaluate && first_step == 0) {  // the baseline every later evaluation compares with
        Metrics baseline = evaluate();
        if (rank == 0) ctx_.log_metrics(0, baseline);
    }
    auto progress = ctx_.progress(options_.max_steps, "steps");
    if (first_step > 0) progress->update(first_step, {});
    int64_t bad_steps = 0;
    for (int64_t step = first_step; step < options_.max_steps; ++step) {
        const auto start = std::chrono::steady_clock::now();
        reset_peak_memory(device);
        double loss_sum = 0;
        int64_t tokens = 0;
        Metrics extra;
        for (int64_t micro = 0; micro < options_.gradient_accumulation; ++micro) {
            MicroBatchLoss m = [&] {
                AutocastGuard guard(device, autocast);  // the forward only; backward runs as autograd recorded it
                return hooks.micro_batch(step, micro);
            }();
            (m.loss / static_cast<double>(options_.gradient_accumulation)).backward();
            loss_sum += m.loss.item<double>();
            tokens += m.tokens;
            if (extra.empty()) extra.assign(m.metrics.size(), {});
            for (size_t i = 0; i < m.metrics.size(); ++i)
                extra[i] = {m.metrics[i].first, extra[i].second + m.metrics[i].second / options_.gradient_accumulation};
        }
        optimizer.average_gradients();
        const double grad_norm = optimizer.clip_grad_norm(options_.max_grad_norm);
        const double lr = learning_rate(schedule, step);
        Metrics metrics = {{"loss", loss_sum / options_.gradient_accumulation}, {"tokens", static_cast<double>(tokens)}};
        metrics.insert(metrics.end(), extra.begin(), extra.end());
        metrics = average_across_ranks(metrics);
        const bool finite = std::isfinite(grad_norm) && std::isfinite(metrics[0].second);
        if (finite) {
            optimizer.step(lr);
        } else {
            optimizer.zero_grad();
            ++bad_steps;
            log::warn("step ", step + 1, ": non-finite loss or gradient; skipped (", bad_steps, " so far)");
            if (bad_steps > options_.max_bad_steps)
                throw Error(str("stage '", ctx_.stage_name(), "': more than max_bad_steps = ", options_.max_bad_steps,
                                " steps had a non-finite loss or gradient; lower the learning rate or check the data"));
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        metrics[1] = {"tokens_per_second", metrics[1].second * ranks / seconds};
        metrics.insert(metrics.begin() + 1, {{"lr", lr}, {"grad_norm", grad_norm}});
        metrics.emplace_back("step_seconds", seconds);
        metrics.emplace_back("peak_memory_gb", peak_memory_gb(device));
        metrics.emplace_back("skipped_steps", static_cast<double>(bad_steps));
        const int64_t done = step + 1;
        const bool last = done == options_.max_steps;
        if (hooks.evaluate && ((options_.eval_every > 0 && done % options_.eval_every == 0) || last)) {
            Metrics eval = evaluate();
            metrics.insert(metrics.end(), eval.begin(), eval.end());
            log::info(ctx_.stage_name(), " step ", done, ": ", [&] {
                std::string s;
                for (const auto& [name, v] : eval) s += str(name, " ", v, " ");
                return s;
            }());
        }
        if (rank == 0) ctx_.log_metrics(done, metrics);
        progress->update(done, {{"loss", metrics[0].second}, {"lr", lr}});
        if ((options_.checkpoint_every > 0 && done % options_.checkpoint_every == 0) || last) save_checkpoint(done, hooks);
        maybe_inject_fault("ANVIL_FAULT_KILL_AFTER_STEP", done, rank);
    }
    progress->finish();
    optimizer_ = nullptr;
}

c10::Device TrainingLoop::device() const { return world_ ? world_->device() : c10::Device(c10::kCPU); }

void TrainingLoop::save_checkpoint(int64_t step, const TrainingHooks& hooks) {
    const int rank = world_ ? world_->rank() : 0;
    const c10::Device device = this->device();
    CheckpointStore store(ctx_.stage_dir() / "checkpoints", options_.keep_last);
    if (rank == 0) store.begin(step);
    if (world_) world_->barrier();
    const fs::path dir = store.staging(step);
    if (rank == 0 || options_.zero1) {
        std::vector<std::pair<std::string, at::Tensor>> tensors;
        for (const auto& [name, t] : optimizer_->state_tensors()) tensors.emplace_back(name, t);
        tensors.emplace_back("rng_state", at::detail::getDefaultCPUGenerator().get_state());
        if (device.is_cuda()) tensors.emplace_back("cuda_rng_state", at::globalContext().defaultGenerator(device).get_state());
        safetensors::write(dir / optimizer_file(rank), tensors);
    }
    if (rank == 0) hooks.save_model(dir / "model");
    maybe_inject_fault("ANVIL_FAULT_KILL_IN_CHECKPOINT_WRITE", step, rank);
    if (rank == 0) {
        nlohmann::ordered_json state = {{"format", 1}, {"step", step}, {"world_size", world_ ? world_->world_size() : 1},
                                        {"zero1", options_.zero1}};
        write_file_atomic(dir / "trainer_state.json", state.dump(2) + "\n");
    }
    if (world_) world_->barrier();
    if (rank == 0) store.commit(step);
    if (world_) world_->barrier();
    log::debug("checkpoint at step ", step, " in ", store.root().string());
}

int64_t TrainingLoop::resume(const TrainingHooks& hooks) {
    CheckpointStore store(ctx_.stage_dir() / "checkpoints", options_.keep_last);
    const int rank = world_ ? world_->rank() : 0;
    if (rank == 0)
        if (const int64_t stale = store.remove_incomplete())
            log::warn("removed ", stale, " unfinished checkpoint(s) an interrupted run left in ", store.root().string());
    auto latest = store.latest();
    if (!latest) return 0;
    const int ranks = world_ ? world_->world_size() : 1;
    const c10::Device device = this->device();
    const fs::path state_file = *latest / "trainer_state.json";
    nlohmann::json state;
    try {
        state = nlohmann::json::parse(read_file(state_file));
    } catch (const nlohmann::json::exception& e) {
        throw Error(str(state_file.string(), ": unreadable (", e.what(), ")"));
    }
    const int64_t step = state.at("step").get<int64_t>();
    if (state.at("zero1").get<bool>() && state.at("world_size").get<int>() != ranks)
        throw UsageError(str(latest->string(), " holds ZeRO-1 optimizer shards of ", state.at("world_size").get<int>(),
                             " ranks; resume it with the same number of ranks"));
    hooks.load_model(*latest / "model");
    safetensors::Reader reader(*latest / optimizer_file(state.at("zero1").get<bool>() ? rank : 0));
    std::map<std::string, at::Tensor> tensors;
    for (const auto& info : reader.tensors()) tensors[info.name] = reader.tensor(info.name);
    at::Generator cpu_generator = at::detail::getDefaultCPUGenerator();  // a handle on the global generator
    cpu_generator.set_state(tensors.at("rng_state"));
    tensors.erase("rng_state");
    if (auto cuda_rng = tensors.find("cuda_rng_state"); cuda_rng != tensors.end()) {
        if (device.is_cuda()) {
            at::Generator cuda_generator = at::globalContext().defaultGenerator(device);
            cuda_generator.set_state(cuda_rng->second);
        }
        tensors.erase(cuda_rng);
    }
    optimizer_->load_state_tensors(tensors, step);
    log::info("resuming stage '", ctx_.stage_name(), "' from ", latest->string(), " (step ", step, " of ", options_.max_steps, ")");
    return step;
}

}  // namespace anvil
