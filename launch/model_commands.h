// `anvil generate` and `anvil model init`: the commands that work on a checkpoint directory directly.
#pragma once

#include "launch/cli_args.h"

namespace anvil {

extern const cli::Command kGenerateCommand;
int generate_command(const cli::Args& args);

extern const cli::Command kModelInitCommand;
int model_init_command(const cli::Args& args);

}  // namespace anvil
