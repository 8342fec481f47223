"""Built-in judge backends."""
