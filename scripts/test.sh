#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds (scripts/build.sh) and runs the whole test suite with CTest.
# Extra arguments go to ctest, e.g. `./scripts/test.sh -L unit` or `./scripts/test.sh -R trainer`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
# Test binaries run in parallel and start multi-rank jobs, so more threads want the cores than there are:
# OpenMP threads that spin while they wait then starve each other (a GRPO step measured 15x slower).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
ctest --test-dir "${ANVIL_BUILD_DIR:-build}" --output-on-failure -j "${ANVIL_TEST_JOBS:-2}" "$@"
