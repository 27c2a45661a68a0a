#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds (scripts/build.sh) and runs the whole test suite with CTest.
# Extra arguments go to ctest, e.g. `./scripts/test.sh -L unit` or `./scripts/test.sh -R trainer`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${ANVIL_BUILD_DIR:-build}" --output-on-failure -j "${ANVIL_TEST_JOBS:-2}" "$@"
