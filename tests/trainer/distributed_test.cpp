// Integration tests of data parallelism and the launcher: 2 Gloo ranks with batch B each end with the same
// parameters as 1 rank with batch 2B (within 1e-6), with and without ZeRO-1; the same as a two-"node" job of
// two anvilrun processes; and anvilrun's restart after a killed rank, exit codes and log files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/files.h"
#include "launch/launcher.h"
#include "tests/support/process.h"

namespace anvil {
namespace fs = std::filesystem;
namespace {

const std::string kBin = std::string(ANVIL_BINARY_DIR) + "/bin/";

using Outcome = testing_support::CommandResult;

Outcome sh(const std::string& cmd) { return testing_support::run_command(cmd); }

std::vector<double> read_doubles(const fs::path& p) {
    std::string bytes = read_file(p);
    std::vector<double> v(bytes.size() / 8);
    std::memcpy(v.data(), bytes.data(), v.size() * 8);
    return v;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    double d = 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
    return d;
}

class Distributed : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("anvil_dist_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }
    std::vector<double> single(int shard) {
        auto out = dir / str("single", shard, ".bin");
        Outcome r = sh(kBin + "data_parallel_worker " + out.string() + " " + std::to_string(shard));
        EXPECT_EQ(r.code, 0) << r.output;
        return read_doubles(out);
    }
    fs::path dir;
};

}  // namespace

TEST_F(Distributed, TwoRanksMatchOneRankWithTheGlobalBatch) {
    for (int shard : {0, 1}) {
        auto out = dir / str("two", shard, ".bin");
        Outcome r = sh(kBin + "anvilrun --standalone --nproc-per-node 2 " + kBin + "data_parallel_worker " + out.string() + " " +
                   std::to_string(shard));
        ASSERT_EQ(r.code, 0) << r.output;
        EXPECT_NE(r.output.find("[rank 1] rank 1 done"), std::string::npos) << r.output;
        EXPECT_LT(max_difference(single(shard), read_doubles(out)), 1e-6) << "shard_state=" << shard;
    }
}

TEST_F(Distributed, TwoLauncherProcessesActAsTwoNodes) {
    const int port = find_free_port();
    auto out = dir / "nodes.bin";
    std::string common = str(kBin, "anvilrun --nnodes 2 --nproc-per-node 1 --master-addr 127.0.0.1 --master-port ", port);
    std::string worker = " " + kBin + "data_parallel_worker " + out.string() + " 1";
    Outcome node1;
    std::thread second([&] { node1 = sh(common + " --node-rank 1" + worker); });
    Outcome node0 = sh(common + " --node-rank 0" + worker);
    second.join();
    ASSERT_EQ(node0.code, 0) << node0.output;
    ASSERT_EQ(node1.code, 0) << node1.output;
    EXPECT_NE(node1.output.find("[rank 1] rank 1 done"), std::string::npos) << node1.output;
    EXPECT_LT(max_difference(single(1), read_doubles(out)), 1e-6);
}

TEST_F(Distributed, KilledRankIsRestartedAndTheJobCompletes) {
    auto out = dir / "restart.bin";
    Outcome r = sh(kBin + "anvilrun --standalone --nproc-per-node 2 --max-restarts 2 --log-dir " + (dir / "logs").string() + " " +
               kBin + "data_parallel_worker " + out.string() + " 0 3");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("rank 1 failed with signal 9"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("restarting the workers (restart 1 of 2)"), std::string::npos) << r.output;
    EXPECT_TRUE(fs::exists(dir / "logs" / "attempt_1" / "rank_1.log"));
    EXPECT_NE(read_file(dir / "logs" / "attempt_1" / "rank_1.log").find("rank 1 done"), std::string::npos);
    EXPECT_LT(max_difference(single(0), read_doubles(out)), 1e-6);
}

TEST_F(Distributed, LauncherReportsTheFailingExitCode) {
    Outcome r = sh(kBin + "anvilrun --nproc-per-node 2 --max-restarts 1 sh -c 'exit $((RANK + 3))'");
    EXPECT_TRUE(r.code == 3 || r.code == 4) << r.output;
    EXPECT_NE(r.output.find("giving up after 1 restart(s)"), std::string::npos) << r.output;
    r = sh(kBin + "anvilrun --nproc-per-node 2 --nnodes 1 --node-rank 1 true");
    EXPECT_EQ(r.code, 2) << r.output;
    r = sh(kBin + "anvilrun --nproc-per-node 1 /nonexistent/program");
    EXPECT_EQ(r.code, 127) << r.output;
}

TEST_F(Distributed, WorkersGetTorchrunEnvironment) {
    Outcome r = sh(kBin + "anvilrun --nproc-per-node 2 --master-port 29999 sh -c "
               "'echo env $RANK $LOCAL_RANK $WORLD_SIZE $LOCAL_WORLD_SIZE $MASTER_ADDR:$MASTER_PORT $GROUP_RANK "
               "$TORCHELASTIC_RESTART_COUNT $OMP_NUM_THREADS'");
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("[rank 0] env 0 0 2 2 127.0.0.1:29999 0 0 1"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("[rank 1] env 1 1 2 2 127.0.0.1:29999 0 0 1"), std::string::npos) << r.output;
}

}  // namespace anvil
