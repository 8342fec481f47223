#!/usr/bin/env bash
# Refresh constraints.txt, the lock CI and scripts/setup.sh install: the newest versions of everything
# xllm-harness[all,dev,docs] needs that resolve together (torch stays at the CPU wheel, 2.13.0).
# Run it, run `bash scripts/setup.sh && bash scripts/test.sh` on the result, then commit both.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade "pip>=24"
"$tmp/venv/bin/python" -m pip install -q "torch==2.13.0"
"$tmp/venv/bin/python" -m pip install -q ".[all,dev,docs]"
"$tmp/venv/bin/python" -m pip check
{
  echo "# The lock: the newest versions that resolved together for xllm-harness[all,dev,docs] (scripts/lock.sh,"
  echo "# $(date -u +%Y-%m-%d), Python $("$tmp/venv/bin/python" -c 'import platform; print(platform.python_version())')). CI and scripts/setup.sh install exactly these;"
  echo "# users are bound only by the ranges in pyproject.toml. torch first: pip install torch==2.13.0 (CPU)."
  "$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -v -i '^xllm-harness' | LC_ALL=C sort -f
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
