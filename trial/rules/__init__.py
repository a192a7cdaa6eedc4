"""Pure-Python clinical rules shared by the whole trial (no Django imports)."""
