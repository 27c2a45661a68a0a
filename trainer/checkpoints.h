// Atomic, rotated checkpoint directories under one root:
//   <root>/step-<N>/...   a complete checkpoint (whatever the stage wrote into it)
//   <root>/latest         the name of the newest complete checkpoint, replaced atomically
// Writing goes to <root>/.tmp-step-<N>/, which is fsynced and renamed into place only when complete, so a
// crash (or kill -9) at any moment leaves `latest` naming a complete checkpoint or nothing. What goes inside
// a checkpoint is the training loop's business (trainer/training_loop.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace anvil {

class CheckpointStore {
public:
    CheckpointStore(std::filesystem::path root, int64_t keep_last);

    // The newest complete checkpoint directory, if any.
    std::optional<std::filesystem::path> latest() const;

    // A fresh, empty temporary directory for step `step` (any stale one from a crash is removed).
    std::filesystem::path begin(int64_t step) const;
    // The temporary directory begin(step) made, where the checkpoint of step `step` is written.
    std::filesystem::path staging(int64_t step) const;
    // Fsyncs everything written into begin(step)'s directory, renames it to step-<step>, points `latest`
    // at it, and deletes the oldest checkpoints beyond keep_last.
    std::filesystem::path commit(int64_t step) const;

    // Deletes the temporary directories of checkpoints a crash interrupted; returns how many there were.
    int64_t remove_incomplete() const;

    const std::filesystem::path& root() const { return root_; }

private:
    std::filesystem::path root_;
    int64_t keep_last_;
};

}  // namespace anvil
