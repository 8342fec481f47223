"""Built-in plugins, registered through the ``xllm_harness`` entry-point group like any other."""
