// Stage kind "arithmetic_tasks": writes generated arithmetic problems (environments/arithmetic_tasks.h) to
// <run>/<stage>/train.jsonl and test.jsonl and publishes them as @train_tasks and @test_tasks.
#pragma once

#include "environments/arithmetic_tasks.h"

namespace anvil {

class RunContext;

void run_arithmetic_tasks_stage(const ArithmeticTaskOptions& options, RunContext& ctx);

}  // namespace anvil
