// Implementation of trainer/checkpoints.h.
#include "trainer/checkpoints.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "core/text.h"

namespace anvil {
namespace fs = std::filesystem;

namespace {
std::string step_name(int64_t step) { return str("step-", step); }
}  // namespace

CheckpointStore::CheckpointStore(fs::path root, int64_t keep_last) : root_(std::move(root)), keep_last_(keep_last) {}

std::optional<fs::path> CheckpointStore::latest() const {
    const fs::path pointer = root_ / "latest";
    if (!fs::exists(pointer)) return std::nullopt;
    const std::string name = trim(read_file(pointer));
    const fs::path dir = root_ / name;
    if (name.rfind("step-", 0) != 0 || !fs::is_directory(dir))
        throw Error(str(pointer.string(), ": names '", name, "', which is not a checkpoint directory; move ", root_.string(),
                        " aside to start over"));
    return dir;
}

fs::path CheckpointStore::staging(int64_t step) const { return root_ / (".tmp-" + step_name(step)); }

fs::path CheckpointStore::begin(int64_t step) const {
    const fs::path tmp = staging(step);
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    return tmp;
}

fs::path CheckpointStore::commit(int64_t step) const {
    const fs::path tmp = staging(step);
    const fs::path final_dir = root_ / step_name(step);
    for (const auto& entry : fs::recursive_directory_iterator(tmp))
        if (entry.is_regular_file() || entry.is_directory()) fsync_path(entry.path());
    fsync_path(tmp);
    fs::remove_all(final_dir);
    fs::rename(tmp, final_dir);
    fsync_path(root_);
    write_file_atomic(root_ / "latest", step_name(step) + "\n");
    std::vector<std::pair<int64_t, fs::path>> existing;
    for (const auto& entry : fs::directory_iterator(root_)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("step-", 0) == 0 && entry.is_directory()) existing.emplace_back(std::stoll(name.substr(5)), entry.path());
    }
    std::sort(existing.begin(), existing.end());
    for (size_t i = 0; i + static_cast<size_t>(keep_last_) < existing.size(); ++i)
        if (existing[i].second != final_dir) fs::remove_all(existing[i].second);
    return final_dir;
}

int64_t CheckpointStore::remove_incomplete() const {
    if (!fs::is_directory(root_)) return 0;
    std::vector<fs::path> stale;
    for (const auto& entry : fs::directory_iterator(root_))
        if (entry.path().filename().string().rfind(".tmp-step-", 0) == 0) stale.push_back(entry.path());
    for (const auto& dir : stale) fs::remove_all(dir);
    return static_cast<int64_t>(stale.size());
}

}  // namespace anvil
