// `anvil data convert-hh`: data-format conversions run once by hand, before an experiment reads the result.
#pragma once

#include "launch/cli_args.h"

namespace anvil {

extern const cli::Command kConvertHhCommand;
int convert_hh_command(const cli::Args& args);

}  // namespace anvil
