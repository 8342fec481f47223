#!/usr/bin/env bash
# The lm-eval pre-release job: a throw-away venv (.venv-lm-eval-next) with lm-eval 0.5.0.dev1 (or
# LM_EVAL_SPEC) and otherwise the lock, then the tests that run lm-eval itself: the bridge (bare
# `lm_eval --tasks`, `--include_path`, `xllm eval`), `xllm eval` with every `run` option and the
# kill-and-resume, the task folders, and the built wheel with a bare lm_eval. About 10 minutes on 2 cores.
#   bash scripts/test_lm_eval_next.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
SPEC="${LM_EVAL_SPEC:-lm-eval==0.5.0.dev1}"
VENV=.venv-lm-eval-next
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade "pip>=24"
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
grep -v -i '^lm[-_]eval==' constraints.txt > "$VENV/constraints-without-lm-eval.txt"
"$VENV/bin/python" -m pip install -q --pre -c "$VENV/constraints-without-lm-eval.txt" "$SPEC" -e ".[all,dev]"
"$VENV/bin/python" -m pip check
"$VENV/bin/python" -c 'import lm_eval, importlib.metadata as m; print("lm-eval", m.version("lm-eval"))'
export PATH="$PWD/$VENV/bin:$PATH" VIRTUAL_ENV="$PWD/$VENV"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
python -m pytest -q tests/xllm_harness/bridge/ tests/xllm_harness/commands/test_eval.py \
  tests/xllm_harness/tasks/ tests/test_packaging.py tests/xllm_harness/test_console.py "$@"
