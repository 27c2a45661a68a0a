// Implementation of trainer/device.h over ATen's device-generic accelerator API (no CUDA headers needed).
#include "trainer/device.h"

#include <ATen/Context.h>
#include <ATen/DeviceAccelerator.h>
#include <ATen/autocast_mode.h>

#include <fstream>
#include <string>

#include "core/error.h"

namespace anvil {

c10::Device select_device(const std::string& choice, int local_rank) {
    const bool have_cuda = at::hasCUDA();
    if (choice == "cpu" || (choice == "auto" && !have_cuda)) return c10::Device(c10::kCPU);
    if (choice != "cuda" && choice != "auto") throw UsageError(str("run.device: unknown device '", choice, "'"));
    if (!have_cuda)
        throw UsageError("run.device = \"cuda\" but no CUDA GPU is visible to this process (check nvidia-smi and "
                         "CUDA_VISIBLE_DEVICES), or set run.device = \"cpu\"");
    const int count = static_cast<int>(at::accelerator::deviceCount());
    // One GPU per local rank; a launcher that hides all but one GPU from each rank leaves each rank cuda:0.
    const int index = count == 1 ? 0 : local_rank;
    if (index >= count)
        throw UsageError(str("LOCAL_RANK ", local_rank, " has no GPU of its own: ", count,
                             " are visible; start at most that many ranks per node"));
    at::accelerator::setDeviceIndex(static_cast<c10::DeviceIndex>(index));
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::optional<c10::ScalarType> autocast_dtype(const std::string& choice, c10::Device device) {
    if (choice == "bf16" || (choice == "auto" && device.is_cuda())) return c10::ScalarType::BFloat16;
    if (choice == "off" || choice == "auto") return std::nullopt;
    throw UsageError(str("autocast: unknown choice '", choice, "'"));
}

// As torch.autocast's __enter__ and __exit__ (torch/amp/autocast_mode.py).
AutocastGuard::AutocastGuard(c10::Device device, std::optional<c10::ScalarType> dtype) : type_(device.type()) {
    if (!dtype) return;
    active_ = true;
    previous_enabled_ = at::autocast::is_autocast_enabled(type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_dtype(type_, *dtype);
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::increment_nesting();
}

AutocastGuard::~AutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, previous_enabled_);
    at::autocast::set_autocast_dtype(type_, previous_dtype_);
}

AutocastOff::AutocastOff(c10::Device device)
    : type_(device.type()), previous_enabled_(at::autocast::is_autocast_enabled(type_)) {
    at::autocast::set_autocast_enabled(type_, false);
}

AutocastOff::~AutocastOff() { at::autocast::set_autocast_enabled(type_, previous_enabled_); }

double peak_memory_gb(c10::Device device) {
    constexpr double kGiB = 1 << 30;
    if (device.is_cuda()) {
        const auto stats = at::accelerator::getDeviceStats(device.index());
        return static_cast<double>(stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
               kGiB;
    }
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024 / kGiB;  // in kB
    return 0;
}

void reset_peak_memory(c10::Device device) {
    if (device.is_cuda()) at::accelerator::resetPeakStats(device.index());
}

}  // namespace anvil
