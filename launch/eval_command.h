// `anvil eval`: evaluates a checkpoint on a task file with an environment and prints greedy accuracy,
// mean@n and pass@k (algorithms/evaluation.h), without writing a run directory.
#pragma once

#include "launch/cli_args.h"

namespace anvil {

extern const cli::Command kEvalCommand;
int eval_command(const cli::Args& args);

}  // namespace anvil
