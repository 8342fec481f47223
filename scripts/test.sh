#!/usr/bin/env bash
# The test command: ruff, then pytest (offline; full-data tests run when XLLM_SHARED_DATA is set).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
ruff check .
python -m pytest -q "$@"
