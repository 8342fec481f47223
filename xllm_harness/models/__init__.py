"""Loading Hugging Face models: evaluated models and metric models."""
