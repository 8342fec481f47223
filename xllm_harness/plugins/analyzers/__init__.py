"""Built-in analyzers (``xllm analyze <name>``), one plugin module each."""
