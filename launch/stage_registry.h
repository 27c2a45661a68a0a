// The explicit list of every stage kind `anvil run` knows (a plain factory list, no static registration):
// adding an algorithm means adding one line to stage_registry.cpp.
#pragma once

#include <vector>

#include "trainer/experiment.h"

namespace anvil {

const std::vector<StageKind>& stage_kinds();

}  // namespace anvil
