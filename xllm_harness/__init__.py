"""xllm-harness: the x-LLaMA paper's multilingual evaluation and training on top of lm-evaluation-harness.

Kept import-light: the lm-eval hook imports this package whenever lm_eval builds a TaskManager.
"""

__version__ = "0.1.0"
