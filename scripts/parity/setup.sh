#!/usr/bin/env bash
# Create the parity environment (.venv-parity, or $PARITY_VENV): unbabel-comet 2.2.7 and bleurt-pytorch
# 0.0.1 on the 2025 stack they need. The fixture scripts beside this file run in it:
#   bash scripts/parity/setup.sh && .venv-parity/bin/python scripts/parity/comet_fixtures.py   (COMET)
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV="${PARITY_VENV:-.venv-parity}"
[ -x "$VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
"$VENV/bin/python" -m pip install -q -r scripts/parity/requirements.txt
"$VENV/bin/python" -m pip check
