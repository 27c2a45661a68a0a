// Implementation of launch/stage_registry.h: every stage kind, in the order `anvil config reference` lists them.
#include "launch/stage_registry.h"

#include "algorithms/arithmetic_tasks_stage.h"

namespace anvil {

const std::vector<StageKind>& stage_kinds() {
    static const std::vector<StageKind> kinds = {
        stage_kind<ArithmeticTaskOptions>(
            "arithmetic_tasks",
            "Generate verifiable arithmetic problems with worked solutions into train.jsonl and test.jsonl "
            "(published as @train_tasks and @test_tasks).",
            run_arithmetic_tasks_stage),
    };
    return kinds;
}

}  // namespace anvil
