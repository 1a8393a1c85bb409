"""Stocktaking: scans against the catalog, the report, and closing with confirmed changes."""
