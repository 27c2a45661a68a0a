// Sandbox throughput: spawns per second for an empty Python program, and MBPP reference-solution tests per
// second through the code verifier at several worker counts. Prints numbers only.
//   ./build/bin/sandbox_bench [tasks=100]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "environments/code_verifier.h"
#include "environments/sandbox.h"
#include "environments/task.h"

using namespace anvil::env;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

int main(int argc, char** argv) {
    const int64_t n_tasks = argc > 1 ? std::atoll(argv[1]) : 100;
    const auto& caps = sandbox_capabilities();
    std::printf("sandbox: python %s, network namespace %s, per-run uid %s\n", default_python().c_str(),
                caps.network_namespace ? "yes" : "no", caps.per_run_uid ? "yes" : "no");

    const int spawns = 50;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < spawns; ++i) run_sandboxed({default_python(), "-I", "-c", "pass"}, {}, "", SandboxLimits{});
    double s = seconds_since(t0);
    std::printf("empty python program, sequential: %.1f runs/s (%.1f ms each)\n", spawns / s, 1000 * s / spawns);
    SandboxLimits with_network;
    with_network.allow_network = true;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < spawns; ++i) run_sandboxed({default_python(), "-I", "-c", "pass"}, {}, "", with_network);
    s = seconds_since(t0);
    std::printf("same without a network namespace: %.1f runs/s (%.1f ms each)\n", spawns / s, 1000 * s / spawns);

    TaskSourceOptions src;
    src.path = std::string(ANVIL_SOURCE_DIR) + "/tests/data/mbpp_revised.jsonl.gz";
    src.format = "mbpp";
    src.limit = n_tasks;
    auto tasks = load_tasks(src);
    for (int workers : {1, 2, 4, 8}) {
        CodeVerifierOptions o;
        o.workers = workers;
        CodeVerifier verifier(o);
        size_t tests = 0, passed = 0;
        t0 = std::chrono::steady_clock::now();
        for (const auto& t : tasks) {
            auto r = verifier.run(t.reference_solution, t);
            tests += r.tests.size();
            passed += r.pass_fraction == 1.0;
        }
        s = seconds_since(t0);
        std::printf("MBPP reference tests, %d worker(s): %zu tests in %.2f s = %.1f tests/s (%zu/%zu tasks pass)\n",
                    workers, tests, s, tests / s, passed, tasks.size());
    }
    return 0;
}
