#!/usr/bin/env bash
# Configures (once) and builds Anvil into build/ (override with ANVIL_BUILD_DIR) against the LibTorch
# that scripts/setup.sh installed. Arguments are passed to `cmake --build` (e.g. --target anvil).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(./scripts/setup.sh | sed -n 's/^ANVIL_VENV=//p')
build=${ANVIL_BUILD_DIR:-build}
torch_cmake=$("$venv/bin/python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')
if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "[build] configuring $build (LibTorch from $torch_cmake)"
    cmake -S . -B "$build" -DCMAKE_PREFIX_PATH="$torch_cmake" -DANVIL_PYTHON="$venv/bin/python" \
        ${ANVIL_CMAKE_ARGS:-} >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
fi
# ccache across clones and with the precompiled LibTorch header (ccache skips PCH users without these).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
jobs=${ANVIL_JOBS:-$(nproc)}
cmake --build "$build" -j "$jobs" "$@"
