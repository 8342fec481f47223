"""Readers and writers of the project's files: lm-eval results and samples, scores, reports."""
