#!/usr/bin/env bash
# The lower-bounds job: a throw-away venv (.venv-lowest) with the lowest versions pyproject.toml claims
# for the stack (below), then the tests that exercise them: lm-eval's routes and the QA tasks
# (transformers, hub, datasets, pandas through lm-eval), model loading, and the trainer.
#   bash scripts/test_lowest.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
VENV=.venv-lowest
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
cat > "$VENV/lowest.txt" <<'PINS'
transformers==5.20.0
huggingface-hub==1.31.0
datasets==4.0.0
pandas==2.2.3
numpy==2.0.2
protobuf==5.26.1
torch==2.13.0
PINS
"$VENV/bin/python" -m pip install -q --upgrade "pip>=24"
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -c "$VENV/lowest.txt" -e ".[all,dev]"
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c 'import importlib.metadata as m
print(", ".join(f"{n} {m.version(n)}" for n in ("transformers", "huggingface-hub", "datasets", "pandas", "numpy", "protobuf", "lm-eval")))'
export PATH="$PWD/$VENV/bin:$PATH" VIRTUAL_ENV="$PWD/$VENV"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python -m pytest -q tests/xllm_harness/bridge/test_task_index.py tests/xllm_harness/tasks/test_qa_tasks.py \
  tests/xllm_harness/models/test_hf.py tests/xllm_harness/trainers/test_train.py "$@"
