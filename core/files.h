// File helpers every room uses: whole-file reads with errors that name the path, and atomic writes
// (temporary file, fsync, rename, fsync of the directory) so a crash never leaves a half-written file.
// Directory-level atomic commits (checkpoints) build on these in trainer/; nothing here is about formats.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace anvil {

// Reads a whole file; throws anvil::Error naming the path when it cannot. Transparently gunzips ".gz".
std::string read_file(const std::filesystem::path& path);

// Writes `content` to `path` atomically: readers see the old file or the new one, never a mix.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

// Flushes a file's or a directory's contents to stable storage.
void fsync_path(const std::filesystem::path& path);

}  // namespace anvil
