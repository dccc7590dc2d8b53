"""Metaflow's published tutorials, run with only the import changed (issue 15, item 9)."""
