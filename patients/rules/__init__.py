"""Pure-Python clinical rules of the patients app (no Django imports)."""
