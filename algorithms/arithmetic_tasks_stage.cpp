// Implementation of algorithms/arithmetic_tasks_stage.h.
#include "algorithms/arithmetic_tasks_stage.h"

#include "core/files.h"
#include "core/log.h"
#include "trainer/run_context.h"

namespace anvil {

void run_arithmetic_tasks_stage(const ArithmeticTaskOptions& options, RunContext& ctx) {
    ArithmeticTaskOptions seeded = options;
    seeded.seed += ctx.experiment().run.seed;
    ArithmeticTaskSets sets = generate_arithmetic_tasks(seeded);
    const auto train = ctx.stage_dir() / "train.jsonl";
    const auto test = ctx.stage_dir() / "test.jsonl";
    write_file_atomic(train, arithmetic_tasks_jsonl(sets.train));
    write_file_atomic(test, arithmetic_tasks_jsonl(sets.test));
    log::info("wrote ", sets.train.size(), " training and ", sets.test.size(), " held-out problems to ",
              ctx.stage_dir().string(), " (e.g. \"", sets.train.front().prompt, "\" -> ", sets.train.front().answer, ")");
    ctx.publish("train_tasks", train.string());
    ctx.publish("test_tasks", test.string());
}

}  // namespace anvil
