// Implementation of trainer/runner.h.
#include "trainer/runner.h"

#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/files.h"
#include "core/log.h"
#include "core/text.h"
#include "trainer/device.h"
#include "trainer/distributed.h"
#include "trainer/run_context.h"

namespace anvil {
namespace fs = std::filesystem;

namespace {

struct CompletedStage {
    std::string name, kind;
    std::map<std::string, std::string> artifacts;
    double seconds = 0;
};

std::vector<CompletedStage> read_completed(const fs::path& file) {
    std::vector<CompletedStage> done;
    if (!fs::exists(file)) return done;
    try {
        auto j = nlohmann::json::parse(read_file(file));
        for (const auto& s : j.at("completed"))
            done.push_back({s.at("name"), s.at("kind"), s.at("artifacts").get<std::map<std::string, std::string>>(),
                            s.value("seconds", 0.0)});
    } catch (const nlohmann::json::exception& e) {
        throw Error(str(file.string(), ": unreadable run state (", e.what(), "); move the run directory aside to start over"));
    }
    return done;
}

void write_completed(const fs::path& file, const std::vector<CompletedStage>& done) {
    nlohmann::ordered_json j;
    j["completed"] = nlohmann::json::array();
    for (const auto& s : done)
        j["completed"].push_back({{"name", s.name}, {"kind", s.kind}, {"artifacts", s.artifacts}, {"seconds", s.seconds}});
    write_file_atomic(file, j.dump(2) + "\n");
}

}  // namespace

int default_thread_count() {
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int local_ranks = 1;
    if (const char* v = std::getenv("LOCAL_WORLD_SIZE")) local_ranks = std::max(1, std::atoi(v));
    return std::max(1, cores / local_ranks);
}

void run_experiment(const Experiment& exp, const std::vector<StageKind>& kinds) {
    log::set_level(log::parse_level(exp.logging.level));
    const int threads = exp.run.threads > 0 ? exp.run.threads : default_thread_count();
    at::set_num_threads(threads);
    at::manual_seed(static_cast<uint64_t>(exp.run.seed));
    const WorldInfo info = WorldInfo::from_environment();
    auto world = DistributedWorld::connect(info, select_device(exp.run.device, info.local_rank));
    const bool main_rank = world->is_main();

    const fs::path run_dir = fs::path(exp.run.output_dir) / exp.run.name;
    const fs::path state_file = run_dir / "stages.json";
    std::vector<CompletedStage> completed = read_completed(state_file);
    if (fs::exists(run_dir) && !fs::is_empty(run_dir) && !exp.run.resume)
        throw UsageError(str("run directory ", run_dir.string(),
                             " already exists and run.resume = false; choose another run.name or move it aside"));
    for (size_t i = 0; i < completed.size(); ++i) {
        if (i >= exp.stages.size() || exp.stages[i]->name != completed[i].name || exp.stages[i]->kind != completed[i].kind)
            throw UsageError(str("run directory ", run_dir.string(), " was made by a different experiment (its stage ", i,
                                 " is '", completed[i].name, "' of kind '", completed[i].kind,
                                 "'); choose another run.name or move the directory aside"));
    }
    world->barrier();  // every rank has read the run state before rank 0 changes it
    if (main_rank) {
        fs::create_directories(run_dir);
        log::add_file((run_dir / "log.txt").string());
        const std::string resolved = render_experiment(exp);
        if (!completed.empty() && fs::exists(run_dir / "config.toml") && read_file(run_dir / "config.toml") != resolved) {
            write_file_atomic(run_dir / "config.previous.toml", read_file(run_dir / "config.toml"));
            log::warn("the config differs from the one ", run_dir.string(), " was started with (kept as config.previous.toml); ",
                      "completed stages are not redone");
        }
        write_file_atomic(run_dir / "config.toml", resolved);
        log::info("run ", exp.run.name, ": ", exp.stages.size(), " stage(s), directory ", run_dir.string(), ", ",
                  world->world_size(), " rank(s) on ", world->device().str(), " with ", threads, " thread(s) each, seed ",
                  exp.run.seed);
    }
    world->barrier();

    MetricsLogger metrics = main_rank ? MetricsLogger(run_dir, exp.logging.tensorboard) : MetricsLogger();
    RunContext ctx(exp, run_dir, metrics, *world);
    const auto run_start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < exp.stages.size(); ++i) {
        const StageConfig& stage = *exp.stages[i];
        if (i < completed.size()) {
            for (const auto& [name, value] : completed[i].artifacts) ctx.publish(name, value);
            log::info("stage ", i + 1, "/", exp.stages.size(), " '", stage.name, "' already completed (",
                      format_duration(completed[i].seconds), "); skipping");
            continue;
        }
        const StageKind& kind = find_stage_kind(kinds, stage.kind);
        const bool runs_here = kind.all_ranks || main_rank;
        if (runs_here) log::info("stage ", i + 1, "/", exp.stages.size(), " '", stage.name, "' (", stage.kind, ")");
        ctx.begin_stage(stage);
        const auto start = std::chrono::steady_clock::now();
        auto before = ctx.artifacts();
        if (runs_here) kind.run(stage, ctx);
        double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (main_rank) {
            CompletedStage record{stage.name, stage.kind, {}, seconds};
            for (const auto& [name, value] : ctx.artifacts())
                if (!before.count(name) || before.at(name) != value) record.artifacts[name] = value;
            completed.push_back(record);
            write_completed(state_file, completed);
            log::info("stage '", stage.name, "' done in ", format_duration(seconds));
        }
        world->barrier();
        if (!main_rank) {  // take over what rank 0 published
            completed = read_completed(state_file);
            for (const auto& [name, value] : completed.at(i).artifacts) ctx.publish(name, value);
        }
    }
    double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    if (main_rank) log::info("run ", exp.run.name, " complete in ", format_duration(total), "; outputs in ", run_dir.string());
    log::close_file();
}

}  // namespace anvil
