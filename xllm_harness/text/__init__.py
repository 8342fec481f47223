"""Text rules shared by tasks, judges and training: prompts and language identification."""
