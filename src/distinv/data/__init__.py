"""Task generators, one module per task family."""
