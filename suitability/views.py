"""Pages of the suitability app."""
