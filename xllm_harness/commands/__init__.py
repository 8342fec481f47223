"""Subcommands of the ``xllm`` command line, one module each."""
