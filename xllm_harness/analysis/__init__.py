"""Statistics over results: paired significance, clusters, consistency, scaling laws, allocation."""
