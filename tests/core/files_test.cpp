// Unit tests for core/files.h: atomic writes and gzip-transparent reads.
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace anvil {
namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_files_test_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
};

TEST_F(FilesTest, AtomicWriteReplacesAndLeavesNoTemporary) {
    write_file_atomic(dir / "a.txt", "first");
    write_file_atomic(dir / "a.txt", "second");
    EXPECT_EQ(read_file(dir / "a.txt"), "second");
    size_t entries = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++entries;
    EXPECT_EQ(entries, 1u);
}

TEST_F(FilesTest, ReadsGzipTransparently) {
    gzFile out = gzopen((dir / "b.txt.gz").c_str(), "wb");
    gzputs(out, "hello\nworld\n");
    gzclose(out);
    EXPECT_EQ(read_file(dir / "b.txt.gz"), "hello\nworld\n");
}

TEST_F(FilesTest, MissingFileErrorNamesThePath) {
    try {
        read_file(dir / "missing.txt");
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
    }
}

}  // namespace anvil
