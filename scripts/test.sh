#!/usr/bin/env bash
# The test command: ruff (lint and format), then pytest, offline; full-data tests run when XLLM_SHARED_DATA
# is set. Uses the .venv that scripts/setup.sh made, so it works in a fresh shell without activating it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then
  export PATH="$PWD/.venv/bin:$PATH" VIRTUAL_ENV="$PWD/.venv"
else
  echo "scripts/test.sh: no .venv here; run 'bash scripts/setup.sh' first (the README's first line)" >&2
  exit 2
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
ruff format --check .
python -m pytest -q "$@"
