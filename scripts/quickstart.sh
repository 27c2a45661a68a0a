#!/usr/bin/env bash
# Sets everything up, builds the `anvil` binary and runs the quickstart experiment (configs/quickstart.toml).
# Extra arguments go to `anvil run`, e.g. `--set run.name=again`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh --target anvil
exec ./build/bin/anvil run configs/quickstart.toml "$@"
