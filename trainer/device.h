// Where a rank computes and in what precision: the device named by [run] device ("auto" | "cpu" | "cuda"; a
// rank takes cuda:LOCAL_RANK, as torchrun's convention has it), bf16 autocast for the forward passes of
// training ([training] autocast), and the peak memory the metrics report (the CUDA caching allocator's
// peak allocation on a GPU, the process's peak resident set on the CPU). Not here: moving models (stages
// do that with Module::to) or choosing the collective backend (trainer/distributed.h follows the device).
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace anvil {

// "auto" (cuda when a GPU is visible, else cpu), "cpu" or "cuda" -> this rank's device, made current.
// A UsageError when cuda is asked for without a GPU or the local rank has no GPU of its own.
c10::Device select_device(const std::string& choice, int local_rank);

// "auto" (bf16 on CUDA, off on the CPU), "bf16" or "off" -> the autocast dtype on `device`, if any.
std::optional<c10::ScalarType> autocast_dtype(const std::string& choice, c10::Device device);

// While alive, eligible ops (matmuls, attention) on `device`'s type run in `dtype` with fp32 weights kept
// as they are (torch.autocast semantics); nothing when dtype is empty. Scopes nest.
class AutocastGuard {
public:
    AutocastGuard(c10::Device device, std::optional<c10::ScalarType> dtype);
    ~AutocastGuard();
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    c10::DeviceType type_;
    bool active_ = false, previous_enabled_ = false;
    c10::ScalarType previous_dtype_ = c10::ScalarType::Undefined;
};

// While alive, autocast is off on `device`'s type (inside a training hook that runs under AutocastGuard:
// RL rollouts, whose recorded log-probs must be the full-precision π_old, and evaluation); restores the
// previous state.
class AutocastOff {
public:
    explicit AutocastOff(c10::Device device);
    ~AutocastOff();
    AutocastOff(const AutocastOff&) = delete;
    AutocastOff& operator=(const AutocastOff&) = delete;

private:
    c10::DeviceType type_;
    bool previous_enabled_ = false;
};

// Peak memory in GiB since the last reset_peak_memory(device): CUDA bytes allocated on a GPU; on the CPU
// the process's peak resident set size (VmHWM), which cannot be reset and covers the whole run.
double peak_memory_gb(c10::Device device);
void reset_peak_memory(c10::Device device);

}  // namespace anvil
