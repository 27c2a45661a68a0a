#!/usr/bin/env bash
# Installs everything Anvil needs to build and test, idempotently:
#   - Debian packages (SentencePiece, TOML++, spdlog, GoogleTest, JSON, PCRE2, ICU, zlib, ccache; and Gloo's headers
#     only, which the wheel omits but its c10d ProcessGroupGloo.hpp includes: Anvil never links Debian's libgloo);
#   - a Python virtual environment outside the repo holding the pinned PyPI `torch` wheel, whose LibTorch
#     (headers, shared libraries, CMake config) the build uses, plus the few CUDA libraries the wheel
#     needs at load time that the system CUDA toolkit does not ship, and the small Python tools used by
#     tests (TensorBoard's reader) and by `torchrun --no-python`.
# A second run with nothing to do finishes in seconds. It does not build Anvil (scripts/build.sh does).
#
# Environment:
#   ANVIL_CACHE   where the virtual environment lives (default: ~/.cache/anvil)
#   ANVIL_SKIP_APT=1  do not touch Debian packages (for machines where they are managed otherwise)
# Prints the virtual environment's path as its last line: `ANVIL_VENV=<path>`.
set -euo pipefail

TORCH_VERSION=2.11.0
# The CUDA 13 build of torch 2.11.0 loads these at start-up; the system CUDA 13.0 toolkit provides
# the rest (cudart, cuBLAS, cuDNN, NCCL, ...). Versions are the ones torch 2.11.0's metadata pins.
TORCH_RUNTIME_EXTRAS=("nvidia-cufile==1.15.1.6" "nvidia-cusparselt-cu13==0.8.0" "nvidia-nvshmem-cu13==3.4.5")
# Pure-Python dependencies of `import torch` (needed by torchrun) and TensorBoard's event reader for tests.
PYTHON_TOOLS=("filelock" "typing-extensions>=4.10.0" "sympy>=1.13.3" "networkx>=2.5.1" "jinja2" "fsspec>=0.8.5" "setuptools<82" "tensorboard==2.20.0")
APT_PACKAGES=(build-essential cmake ccache python3-venv libsentencepiece-dev sentencepiece libtomlplusplus-dev
              libspdlog-dev libgtest-dev nlohmann-json3-dev libpcre2-dev zlib1g-dev libgloo-dev libicu-dev)

say() { printf '[setup] %s\n' "$*" >&2; }

ANVIL_CACHE=${ANVIL_CACHE:-$HOME/.cache/anvil}
VENV="$ANVIL_CACHE/venv-torch-$TORCH_VERSION"
STAMP="$VENV/.anvil-setup-complete"
STAMP_CONTENT="torch=$TORCH_VERSION extras=${TORCH_RUNTIME_EXTRAS[*]} tools=${PYTHON_TOOLS[*]}"

install_apt_packages() {
    if [ "${ANVIL_SKIP_APT:-0}" = 1 ]; then say "ANVIL_SKIP_APT=1: not checking Debian packages"; return; fi
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then say "Debian packages: all present"; return; fi
    say "Debian packages: installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_torch_venv() {
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_CONTENT" ]; then
        say "LibTorch $TORCH_VERSION: present in $VENV"; return
    fi
    say "LibTorch $TORCH_VERSION: installing the PyPI wheel into $VENV (about 800 MB, a minute or two)"
    mkdir -p "$ANVIL_CACHE"
    python3 -m venv "$VENV"
    local pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
    # --no-deps: the wheel's own dependency list would pull ~3 GB of CUDA libraries the system toolkit already has.
    "${pip[@]}" install --no-deps "torch==$TORCH_VERSION" "${TORCH_RUNTIME_EXTRAS[@]}"
    "${pip[@]}" install "${PYTHON_TOOLS[@]}"
    "$VENV/bin/python" -c "import torch; assert torch.__version__.startswith('$TORCH_VERSION'), torch.__version__" \
        || { say "error: torch $TORCH_VERSION does not import from $VENV"; exit 1; }
    printf '%s' "$STAMP_CONTENT" > "$STAMP"
}

install_apt_packages
install_torch_venv
echo "ANVIL_VENV=$VENV"
