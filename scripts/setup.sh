#!/usr/bin/env bash
# Create .venv with torch (CPU wheel first: a newer torch would pull a multi-GB CUDA build),
# then install xllm-harness with every extra under the tested pins in constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade "pip>=24"
python -m pip install -q "torch==2.13.0"
python -m pip install -q -c constraints.txt -e ".[all,dev,docs]"
python -m pip check
