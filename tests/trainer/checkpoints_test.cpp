// Unit tests for trainer/checkpoints.h: `latest` only ever names a complete checkpoint, an interrupted write
// (a temporary directory never committed) is ignored and removed, and old checkpoints rotate out.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "trainer/checkpoints.h"

namespace anvil {
namespace fs = std::filesystem;

TEST(Checkpoints, LatestNamesOnlyCompleteCheckpointsAndRotates) {
    fs::path root = fs::temp_directory_path() / ("anvil_ckpt_" + std::to_string(::getpid()));
    fs::remove_all(root);
    CheckpointStore store(root, 2);
    EXPECT_FALSE(store.latest().has_value());
    for (int64_t step : {5, 10}) {
        fs::path tmp = store.begin(step);
        write_file_atomic(tmp / "state.txt", std::to_string(step));
        store.commit(step);
    }
    EXPECT_EQ(*store.latest(), root / "step-10");
    // A write interrupted mid-way (killed before commit) leaves latest untouched.
    fs::path partial = store.begin(15);
    write_file_atomic(partial / "state.txt", "half");
    EXPECT_EQ(*store.latest(), root / "step-10");
    EXPECT_EQ(read_file(*store.latest() / "state.txt"), "10");
    EXPECT_TRUE(fs::exists(store.staging(15) / "state.txt"));
    EXPECT_EQ(store.remove_incomplete(), 1);
    EXPECT_FALSE(fs::exists(store.staging(15)));
    EXPECT_EQ(store.remove_incomplete(), 0);
    // The next attempt at that step starts from a clean directory.
    fs::path again = store.begin(15);
    EXPECT_FALSE(fs::exists(again / "state.txt"));
    write_file_atomic(again / "state.txt", "15");
    store.commit(15);
    EXPECT_EQ(*store.latest(), root / "step-15");
    EXPECT_FALSE(fs::exists(root / "step-5"));  // keep_last = 2
    EXPECT_TRUE(fs::exists(root / "step-10"));
    // A corrupt pointer is an error naming it, not a crash.
    write_file_atomic(root / "latest", "garbage\n");
    EXPECT_THROW(store.latest(), Error);
    fs::remove_all(root);
}

}  // namespace anvil
