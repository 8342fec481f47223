"""lm-eval task folders shipped with xllm-harness (one folder per benchmark)."""
