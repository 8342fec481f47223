"""lm-eval task folders shipped with xllm-harness (one folder per benchmark)."""

from pathlib import Path

TASKS_DIR = Path(__file__).parent
