"""Hugging Face models: loading evaluated models and metric models, building tiny ones."""
