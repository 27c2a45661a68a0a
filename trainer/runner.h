// Runs an experiment: prepares the run directory (<output_dir>/<name>/ with the resolved config.toml,
// log.txt, metrics.jsonl, tensorboard/ and one directory per stage), sets threads and seeds, then runs the
// stages in order. Completed stages are recorded in <run>/stages.json (atomically) with what they published,
// so running the same config again resumes after the last completed stage instead of redoing work.
#pragma once

#include <vector>

#include "trainer/experiment.h"

namespace anvil {

void run_experiment(const Experiment& experiment, const std::vector<StageKind>& kinds);

// Threads per rank when run.threads = 0: the machine's cores divided among LOCAL_WORLD_SIZE local ranks.
int default_thread_count();

}  // namespace anvil
