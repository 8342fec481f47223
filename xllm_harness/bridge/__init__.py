"""The bridge into lm-eval: our task index and every lm-eval internal we rely on."""
