// Integration test: event files written by TensorBoardWriter are read back by TensorBoard's own Python
// loader (tests/tools/check_tensorboard.py, run with the Python that scripts/setup.sh prepared).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "trainer/tensorboard.h"

namespace anvil {

TEST(TensorBoardReader, TensorBoardReadsOurEventFiles) {
    auto dir = std::filesystem::temp_directory_path() / ("anvil_tbread_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    {
        TensorBoardWriter w(dir);
        w.scalar("sft/loss", 1, 2.5);
        w.scalar("sft/loss", 2, 1.25);
        w.scalar("grpo/reward", 300, -0.125);
    }
    std::string cmd = str(ANVIL_PYTHON, " ", ANVIL_SOURCE_DIR, "/tests/tools/check_tensorboard.py ", dir.string(),
                          " sft/loss=1:2.5 sft/loss=2:1.25 grpo/reward=300:-0.125");
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::filesystem::remove_all(dir);
}

}  // namespace anvil
