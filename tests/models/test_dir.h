// A per-test temporary directory for the models tests (removed on destruction). Test helper only.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace anvil::testing_util {

struct TempDir {
    explicit TempDir(const std::string& tag) {
        path = std::filesystem::temp_directory_path() / ("anvil_" + tag + "_" + std::to_string(::getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::filesystem::path path;
};

}  // namespace anvil::testing_util
